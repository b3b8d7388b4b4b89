package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"tillit"
	"tillit/notify"
	"tillit/notify/smtptest"
)

// textLocale is what a reader of one locale finds in every text.
type textLocale struct {
	winter, summer string // how 2026-03-05 13:00 UTC and 2026-07-01 10:00 UTC read
	greeting       string
	admin          string // the word for the administrator, in the lockout mail
	smsWord        string
}

var textLocales = map[string]textLocale{
	"nb": {"5. mars 2026 kl. 14.00 norsk tid", "1. juli 2026 kl. 12.00 norsk tid", "Hei,", "administratoren", "Innloggingskoden"},
	"sv": {"5 mars 2026 kl. 14.00 svensk tid", "1 juli 2026 kl. 12.00 svensk tid", "Hej!", "administratör", "inloggningskod"},
	"en": {"5 March 2026 at 13:00 UTC", "1 July 2026 at 10:00 UTC", "Hello,", "administrator", "sign-in code"},
}

var (
	winter = time.Date(2026, 3, 5, 13, 0, 0, 0, time.UTC)
	summer = time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
)

func TestMailTexts(t *testing.T) {
	const url = "https://tillit.example/invite/Zm9vYmFy"
	tests := []struct {
		tag, locale string
	}{
		{"nb", "nb"}, {"sv", "sv"}, {"en", "en"},
		{"nb-NO", "nb"}, {"nn", "nb"}, {"no", "nb"}, {"sv_SE", "sv"}, {"SV", "sv"},
		{"de", "en"}, {"", "en"}, {"fr-CA", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			want := textLocales[tt.locale]
			mails := map[string]tillit.Mail{
				"invitation":          notify.InvitationMail(tt.tag, "kari@example.no", "Blåbær AS", url, winter),
				"operator invitation": notify.InvitationMail(tt.tag, "kari@example.no", "", url, summer),
				"password reset":      notify.PasswordResetMail(tt.tag, "kari@example.no", url, winter),
				"lockout":             notify.LockoutMail(tt.tag, "kari@example.no", summer),
			}
			for name, m := range mails {
				if m.To != "kari@example.no" {
					t.Errorf("%s: To = %q", name, m.To)
				}
				if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
					t.Errorf("%s: Subject = %q, want one line", name, m.Subject)
				}
				if !strings.HasPrefix(m.Body, want.greeting) || !strings.HasSuffix(m.Body, ".\n") {
					t.Errorf("%s: body does not start with %q and end with a sentence:\n%s", name, want.greeting, m.Body)
				}
				if name != "lockout" && !strings.Contains(m.Body, "\n"+url+"\n") {
					t.Errorf("%s: body lacks the link on a line of its own:\n%s", name, m.Body)
				}
				expiry := want.winter
				if name == "operator invitation" || name == "lockout" {
					expiry = want.summer
				}
				if !strings.Contains(m.Body, expiry) {
					t.Errorf("%s: body lacks the time %q:\n%s", name, expiry, m.Body)
				}
			}
			if s := mails["invitation"].Subject; !strings.Contains(s, "Blåbær AS") {
				t.Errorf("invitation subject %q lacks the tenant", s)
			}
			if b := mails["lockout"].Body; !strings.Contains(b, want.admin) {
				t.Errorf("lockout body does not point to the %s:\n%s", want.admin, b)
			}
		})
	}
}

func TestInvitationMailTenantCannotBreakTheSubject(t *testing.T) {
	m := notify.InvitationMail("en", "a@example.com", "Acme\r\nBcc: victim@example.com", "https://x.example/i", winter)
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("Subject = %q, want one line", m.Subject)
	}
}

func TestSMSCodeText(t *testing.T) {
	for _, locale := range []string{"nb", "sv", "en", "de"} {
		t.Run(locale, func(t *testing.T) {
			want := textLocales["en"]
			if l, ok := textLocales[locale]; ok {
				want = l
			}
			text := notify.SMSCodeText(locale, "482913")
			if !strings.Contains(text, "482913") || !strings.Contains(text, want.smsWord) {
				t.Errorf("text %q lacks the code or %q", text, want.smsWord)
			}
			// One segment of GSM 03.38, whose basic set holds æøåäö.
			if n := utf8.RuneCountInString(text); n > 160 {
				t.Errorf("text has %d characters, more than one SMS segment: %q", n, text)
			}
		})
	}
}

// TestInvitationMailArrives sends a Norwegian invitation through SMTP and
// reads it as the recipient would.
func TestInvitationMailArrives(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	m, _ := mustMailer(t, serverConfig(srv, notify.SMTPStartTLS))
	want := notify.InvitationMail("nb", "Kåre Ødegård <kare@example.no>", "Blåbær og Søn AS", "https://tillit.example/invite/abc", winter)
	if err := m.Send(context.Background(), want); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if got.Subject != "Invitasjon til Blåbær og Søn AS i tillit" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if got.Body != want.Body {
		t.Errorf("Body = %q, want %q", got.Body, want.Body)
	}
	if !got.TLS {
		t.Error("the message went in clear text")
	}
}
