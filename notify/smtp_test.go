package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/notify"
	"tillit/notify/smtptest"
)

// fixedClock is a tillit.Clock that always tells the same time.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var testNow = time.Date(2026, 3, 5, 12, 30, 0, 0, time.UTC)

// mustMailer returns a mailer for cfg that logs into the returned buffer.
func mustMailer(tb testing.TB, cfg notify.SMTPConfig) (*notify.SMTPMailer, *bytes.Buffer) {
	tb.Helper()
	var logs bytes.Buffer
	m, err := notify.NewSMTPMailer(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		tb.Fatalf("NewSMTPMailer: %v", err)
	}
	return m, &logs
}

// serverConfig returns the configuration of a mailer for srv in mode.
func serverConfig(srv *smtptest.Server, mode string) notify.SMTPConfig {
	return notify.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), From: "tillit <noreply@tillit.example>",
		TLS: mode, RootCAs: srv.RootCAs(), Timeout: 10 * time.Second, Clock: fixedClock{testNow},
	}
}

// wantCode fails the test unless err is a tillit error with the code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := tillit.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q, want %q (error: %v)", got, code, err)
	}
}

func TestSMTPMailerDelivers(t *testing.T) {
	tests := []struct {
		name    string
		opts    []smtptest.Option
		mode    string
		user    string
		wantTLS bool
	}{
		{"plain on loopback", nil, notify.SMTPNone, "", false},
		{"starttls", []smtptest.Option{smtptest.WithSTARTTLS()}, notify.SMTPStartTLS, "", true},
		{"implicit tls", []smtptest.Option{smtptest.WithImplicitTLS()}, notify.SMTPTLS, "", true},
		{"starttls and PLAIN", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("robot", "s3cret")}, notify.SMTPStartTLS, "robot", true},
		{"starttls and LOGIN only", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("robot", "s3cret", "LOGIN")}, notify.SMTPStartTLS, "robot", true},
		{"PLAIN on loopback", []smtptest.Option{smtptest.WithAuth("robot", "s3cret")}, notify.SMTPNone, "robot", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			cfg := serverConfig(srv, tt.mode)
			if tt.user != "" {
				cfg.Username, cfg.Password = tt.user, "s3cret"
			}
			m, logs := mustMailer(t, cfg)
			want := tillit.Mail{To: "Kåre Ødegård <kare@example.no>", Subject: "Hei på deg", Body: "Hei!\nDette er en test.\n"}
			if err := m.Send(context.Background(), want); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.WaitFor(t, 1, 5*time.Second)[0]
			if got.TLS != tt.wantTLS || got.Username != tt.user {
				t.Errorf("TLS, user = %v, %q; want %v, %q", got.TLS, got.Username, tt.wantTLS, tt.user)
			}
			if got.Subject != want.Subject || got.Body != want.Body || got.To != want.To {
				t.Errorf("got To %q Subject %q Body %q; want %q %q %q", got.To, got.Subject, got.Body, want.To, want.Subject, want.Body)
			}
			if got.EnvelopeFrom != "noreply@tillit.example" || len(got.EnvelopeTo) != 1 || got.EnvelopeTo[0] != "kare@example.no" {
				t.Errorf("envelope = %q → %q", got.EnvelopeFrom, got.EnvelopeTo)
			}
			checkLogs(t, logs, `"msg":"mail sent"`, got.Header.Get("Message-ID"))
		})
	}
}

// checkLogs fails the test unless the logs hold every one of want and
// none of the personal values of the tests.
func checkLogs(tb testing.TB, logs *bytes.Buffer, want ...string) {
	tb.Helper()
	for _, w := range want {
		w = strings.Trim(w, "<>")
		if !strings.Contains(logs.String(), w) {
			tb.Errorf("logs lack %q:\n%s", w, logs)
		}
	}
	for _, secret := range []string{"kare@", "Kåre", "Dette er", "blåbær", "+4741234599", "Hei!"} {
		if strings.Contains(logs.String(), secret) {
			tb.Errorf("logs hold the personal value %q:\n%s", secret, logs)
		}
	}
}

func TestSMTPMailerMessageFormat(t *testing.T) {
	srv := smtptest.NewServer(t)
	m, _ := mustMailer(t, serverConfig(srv, notify.SMTPNone))
	subject := "Tilbakestill passordet – blåbærsyltetøy på Ærøskøbing, Åland og i Göteborg"
	body := "Første linje med æøå ÆØÅ äö.\n.En linje som starter med punktum\n" + strings.Repeat("lang linje ", 30) + "\n"
	if err := m.Send(context.Background(), tillit.Mail{To: "kare@example.no", Subject: subject, Body: body}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if got.Subject != subject {
		t.Errorf("Subject = %q, want %q", got.Subject, subject)
	}
	if got.Body != body {
		t.Errorf("Body = %q, want %q", got.Body, body)
	}
	h := got.Header
	if d, err := h.Date(); err != nil || !d.Equal(testNow) {
		t.Errorf("Date = %q (%v), want %v", h.Get("Date"), err, testNow)
	}
	wantHeaders := map[string]string{
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
	}
	for k, v := range wantHeaders {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if a, err := mail.ParseAddress(h.Get("From")); err != nil || a.Address != "noreply@tillit.example" || a.Name != "tillit" {
		t.Errorf("From = %q, want tillit <noreply@tillit.example>", h.Get("From"))
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@tillit.example>") {
		t.Errorf("Message-ID = %q, want <…@tillit.example>", id)
	}
	for i, line := range strings.Split(string(got.Raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line %d has %d characters, over 78: %q", i+1, len(line), line)
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit ASCII: %q", i+1, line)
			}
		}
	}
}

func TestSMTPMailerRefusesHeaderInjection(t *testing.T) {
	srv := smtptest.NewServer(t)
	m, _ := mustMailer(t, serverConfig(srv, notify.SMTPNone))
	tests := []struct {
		name, field string
		mail        tillit.Mail
	}{
		{"CRLF in to", "to", tillit.Mail{To: "a@example.com\r\nBcc: victim@example.com", Subject: "Hi"}},
		{"LF in to", "to", tillit.Mail{To: "a@example.com\nBcc: victim@example.com", Subject: "Hi"}},
		{"CRLF in subject", "subject", tillit.Mail{To: "a@example.com", Subject: "Hi\r\nBcc: victim@example.com"}},
		{"LF in subject", "subject", tillit.Mail{To: "a@example.com", Subject: "Hi\nContent-Type: text/html"}},
		{"CR in subject", "subject", tillit.Mail{To: "a@example.com", Subject: "Hi\rX: y"}},
		{"two recipients", "to", tillit.Mail{To: "a@example.com, b@example.com", Subject: "Hi"}},
		{"not an address", "to", tillit.Mail{To: "nobody", Subject: "Hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Send(context.Background(), tt.mail)
			wantCode(t, err, tillit.EInvalid)
			if f := tillit.ErrorField(err); f != tt.field {
				t.Errorf("field = %q, want %q", f, tt.field)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the server received %d messages, want none", n)
	}
}
