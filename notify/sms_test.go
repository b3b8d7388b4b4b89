package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/notify"
	"tillit/notify/smstest"
)

const (
	testNumber  = "+4741234599"
	testService = "MG0123456789abcdef0123456789abcdef"
)

// mustSMS returns a Twilio sender for the fake srv, sending from from,
// that logs into the returned buffer.
func mustSMS(tb testing.TB, srv *smstest.Server, from string) (*notify.TwilioSender, *bytes.Buffer) {
	tb.Helper()
	var logs bytes.Buffer
	s, err := notify.NewTwilioSender(notify.SMSConfig{
		Provider: notify.ProviderTwilio, BaseURL: srv.URL(), AccountID: srv.AccountID(),
		Token: srv.Token(), From: from, Timeout: 10 * time.Second,
	}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		tb.Fatalf("NewTwilioSender: %v", err)
	}
	return s, &logs
}

func TestTwilioSenderDelivers(t *testing.T) {
	tests := []struct {
		name, from          string
		wantFrom, wantServe string
	}{
		{"from a number", "+4759440000", "+4759440000", ""},
		{"from an alphanumeric sender ID", "Tillit", "Tillit", ""},
		{"through a messaging service", testService, "", testService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smstest.NewServer(t)
			s, logs := mustSMS(t, srv, tt.from)
			body := notify.SMSCodeText("nb", "482913")
			if err := s.SendSMS(context.Background(), tillit.SMS{To: testNumber, Body: body}); err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			got := srv.WaitFor(t, 1, 5*time.Second)[0]
			if got.To != testNumber || got.Body != body || got.From != tt.wantFrom || got.MessagingServiceSID != tt.wantServe {
				t.Errorf("got %+v; want To %s, From %q, MessagingServiceSid %q, Body %q", got, testNumber, tt.wantFrom, tt.wantServe, body)
			}
			checkLogs(t, logs, `"msg":"sms sent"`, got.SID)
			if strings.Contains(logs.String(), "482913") {
				t.Errorf("the logs hold the code:\n%s", logs)
			}
		})
	}
}

func TestTwilioSenderErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code      int // Twilio error code; 0 for FailNext's usual one
		wantCode  string
		wantField string
		wantRetry time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, 0, tillit.ETooMany, "", time.Second},
		{"provider fails", http.StatusInternalServerError, 0, tillit.EUnavailable, "", 0},
		{"provider down for maintenance", http.StatusServiceUnavailable, 0, tillit.EUnavailable, "", 0},
		{"invalid number", http.StatusBadRequest, 0, tillit.EInvalid, "to", 0},
		{"not a mobile number", http.StatusBadRequest, 21614, tillit.EInvalid, "to", 0},
		{"opted out", http.StatusBadRequest, 21610, tillit.EInvalid, "to", 0},
		{"other refusal", http.StatusBadRequest, 21606, tillit.EUnavailable, "", 0},
		{"credentials refused", http.StatusUnauthorized, 0, tillit.EUnavailable, "", 0},
		{"account suspended", http.StatusForbidden, 0, tillit.EUnavailable, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smstest.NewServer(t)
			if tt.code != 0 {
				srv.FailNextCode(tt.status, tt.code)
			} else {
				srv.FailNext(tt.status)
			}
			s, logs := mustSMS(t, srv, "Tillit")
			err := s.SendSMS(context.Background(), tillit.SMS{To: testNumber, Body: "Hei! Koden er 1234"})
			t.Logf("error: %v", err)
			wantCode(t, err, tt.wantCode)
			if f := tillit.ErrorField(err); f != tt.wantField {
				t.Errorf("field = %q, want %q", f, tt.wantField)
			}
			if e, _ := err.(*tillit.Error); e.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.wantRetry)
			}
			if strings.Contains(err.Error(), testNumber) {
				t.Errorf("the error quotes the number: %v", err)
			}
			checkLogs(t, logs, `"msg":"sms failed"`)
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("the fake accepted %d messages, want none", n)
			}
		})
	}
}

func TestTwilioSenderRefusesBadInput(t *testing.T) {
	srv := smstest.NewServer(t)
	s, _ := mustSMS(t, srv, "Tillit")
	tests := []struct {
		name, field string
		sms         tillit.SMS
	}{
		{"national number", "to", tillit.SMS{To: "91234567", Body: "x"}},
		{"spaces in number", "to", tillit.SMS{To: "+47 912 34 567", Body: "x"}},
		{"empty body", "body", tillit.SMS{To: testNumber, Body: " "}},
		{"body too long", "body", tillit.SMS{To: testNumber, Body: strings.Repeat("æ", notify.MaxSMSBody+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SendSMS(context.Background(), tt.sms)
			wantCode(t, err, tillit.EInvalid)
			if f := tillit.ErrorField(err); f != tt.field {
				t.Errorf("field = %q, want %q", f, tt.field)
			}
		})
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("the fake got %d requests, want none", n)
	}
}

func TestTwilioSenderUnavailable(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	tests := []struct {
		name, url string
		timeout   time.Duration
		wantMsg   string
	}{
		{"provider down", down.URL, time.Minute, "could not be reached"},
		{"provider silent", slow.URL, 200 * time.Millisecond, "did not answer in time"},
		{"redirect", redirector(t).URL, time.Minute, "refused the request (HTTP 301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := notify.NewTwilioSender(notify.SMSConfig{
				Provider: notify.ProviderTwilio, BaseURL: tt.url, AccountID: "AC1", Token: "t", From: "Tillit", Timeout: tt.timeout,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = s.SendSMS(context.Background(), tillit.SMS{To: testNumber, Body: "x"})
			t.Logf("error: %v", err)
			wantCode(t, err, tillit.EUnavailable)
			if msg := tillit.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message = %q, want it to say %q", msg, tt.wantMsg)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("SendSMS took %v", d)
			}
		})
	}
}

// redirector returns a server that redirects every request elsewhere.
func redirector(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.RedirectHandler("https://elsewhere.example/", http.StatusMovedPermanently))
	tb.Cleanup(srv.Close)
	return srv
}

func TestSMSConfigValidate(t *testing.T) {
	ok := notify.SMSConfig{Provider: "twilio", AccountID: "AC0123456789abcdef0123456789abcdef", Token: "secret", From: "+4759440000"}
	tests := []struct {
		name   string
		change func(*notify.SMSConfig)
		want   string // in the error; "" for none
	}{
		{"defaults", func(*notify.SMSConfig) {}, ""},
		{"alphanumeric sender", func(c *notify.SMSConfig) { c.From = "Tillit AS" }, ""},
		{"messaging service", func(c *notify.SMSConfig) { c.From = testService }, ""},
		{"compatible API", func(c *notify.SMSConfig) { c.BaseURL, c.AccountID = "https://sms.example.com/api/laml", "b8a2-41" }, ""},
		{"http to loopback", func(c *notify.SMSConfig) { c.BaseURL = "http://127.0.0.1:8080" }, ""},
		{"no provider", func(c *notify.SMSConfig) { c.Provider = "" }, "sms provider: empty"},
		{"unknown provider", func(c *notify.SMSConfig) { c.Provider = "carrier-pigeon" }, "not supported"},
		{"http off loopback", func(c *notify.SMSConfig) { c.BaseURL = "http://sms.example.com" }, "use https"},
		{"credentials in URL", func(c *notify.SMSConfig) { c.BaseURL = "https://u:p@api.twilio.com" }, "holds credentials"},
		{"query in URL", func(c *notify.SMSConfig) { c.BaseURL = "https://api.twilio.com/?To=x" }, "query"},
		{"not a URL", func(c *notify.SMSConfig) { c.BaseURL = "api.twilio.com" }, "not a URL"},
		{"no account", func(c *notify.SMSConfig) { c.AccountID = "" }, "sms account id: empty"},
		{"account with slash", func(c *notify.SMSConfig) { c.AccountID = "AC1/../x" }, "only letters"},
		{"API key for account", func(c *notify.SMSConfig) { c.AccountID = "SK0123" }, "starts with AC"},
		{"no token", func(c *notify.SMSConfig) { c.Token = "" }, "sms token: empty"},
		{"sender too long", func(c *notify.SMSConfig) { c.From = "TillitNorgeAS" }, "sms from"},
		{"sender only digits", func(c *notify.SMSConfig) { c.From = "12345" }, "sms from"},
		{"negative timeout", func(c *notify.SMSConfig) { c.Timeout = -time.Second }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
			s, nerr := notify.NewSMSSender(cfg, nil)
			if (nerr == nil) != (err == nil) || (s == nil) != (err != nil) {
				t.Errorf("NewSMSSender = %v, %v; Validate error = %v", s, nerr, err)
			}
		})
	}
}
