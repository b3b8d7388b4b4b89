package notify_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/notify"
	"tillit/notify/smtptest"
)

var testMail = tillit.Mail{To: "Kåre <kare@example.no>", Subject: "Hei", Body: "Dette er hemmelig."}

// silentServer returns the address of a TCP server on loopback that
// accepts connections and never says a word.
func silentServer(tb testing.TB) (host string, port int) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
	})
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// closedPort returns a loopback port on which nothing listens.
func closedPort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestSMTPMailerUnavailable(t *testing.T) {
	silentHost, silentPort := silentServer(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	tests := []struct {
		name    string
		host    string
		port    int
		timeout time.Duration
		ctx     func() context.Context
		wantMsg string
	}{
		{"server down", "127.0.0.1", closedPort(t), time.Minute, context.Background, "could not be reached"},
		{"silent server, ctx deadline", silentHost, silentPort, time.Minute, short, "did not answer in time"},
		{"silent server, config timeout", silentHost, silentPort, 200 * time.Millisecond, context.Background, "did not answer in time"},
		{"ctx cancelled", silentHost, silentPort, time.Minute, func() context.Context { return cancelled }, "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs := mustMailer(t, notify.SMTPConfig{
				Host: tt.host, Port: tt.port, From: "noreply@tillit.example", TLS: notify.SMTPNone, Timeout: tt.timeout,
			})
			start := time.Now()
			err := m.Send(tt.ctx(), testMail)
			t.Logf("error: %v", err)
			wantCode(t, err, tillit.EUnavailable)
			if msg := tillit.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message = %q, want it to say %q", msg, tt.wantMsg)
			}
			// Far above the 200 ms asked for, far below the minute of the
			// other bound: Send honoured the one it was given.
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("Send took %v", d)
			}
			checkLogs(t, logs, `"msg":"mail failed"`, "message_id")
		})
	}
}

func TestSMTPMailerRefused(t *testing.T) {
	tests := []struct {
		name    string
		opts    []smtptest.Option
		mode    string
		trust   bool   // give the mailer the server's CA
		pass    string // "" for no sign-in
		fail    int    // FailNext code
		wantMsg string
	}{
		{"recipient refused", nil, notify.SMTPNone, false, "", 550, "refused the recipient"},
		{"recipient refused for now", nil, notify.SMTPNone, false, "", 450, "refused the recipient"},
		{"no STARTTLS offered", nil, notify.SMTPStartTLS, false, "", 0, "secure connection"},
		{"certificate not trusted", []smtptest.Option{smtptest.WithSTARTTLS()}, notify.SMTPStartTLS, false, "", 0, "secure connection"},
		{"implicit TLS to a plain server", nil, notify.SMTPTLS, false, "", 0, "secure connection"},
		{"wrong password", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("robot", "s3cret")}, notify.SMTPStartTLS, true, "wrong", 0, "username and password"},
		{"AUTH not offered", []smtptest.Option{smtptest.WithSTARTTLS()}, notify.SMTPStartTLS, true, "s3cret", 0, "username and password"},
		{"no mechanism in common", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("robot", "s3cret", "CRAM-MD5")}, notify.SMTPStartTLS, true, "s3cret", 0, "username and password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			cfg := serverConfig(srv, tt.mode)
			if !tt.trust {
				cfg.RootCAs = nil
			}
			if tt.pass != "" {
				cfg.Username, cfg.Password = "robot", tt.pass
			}
			if tt.fail != 0 {
				srv.FailNext(tt.fail)
			}
			m, logs := mustMailer(t, cfg)
			err := m.Send(context.Background(), testMail)
			t.Logf("error: %v", err)
			wantCode(t, err, tillit.EUnavailable)
			if msg := tillit.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message = %q, want it to say %q", msg, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "kare@") {
				t.Errorf("the error quotes the recipient: %v", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("the server received %d messages, want none", n)
			}
			checkLogs(t, logs, `"msg":"mail failed"`)
		})
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	ok := notify.SMTPConfig{Host: "smtp.example.com", From: "tillit <noreply@example.com>"}
	tests := []struct {
		name   string
		change func(*notify.SMTPConfig)
		want   string // in the error; "" for none
	}{
		{"defaults", func(*notify.SMTPConfig) {}, ""},
		{"implicit tls with auth", func(c *notify.SMTPConfig) { c.TLS, c.Port, c.Username, c.Password = "tls", 465, "u", "p" }, ""},
		{"none on loopback", func(c *notify.SMTPConfig) { c.Host, c.TLS = "127.0.0.1", "none" }, ""},
		{"none on ::1", func(c *notify.SMTPConfig) { c.Host, c.TLS = "::1", "none" }, ""},
		{"no host", func(c *notify.SMTPConfig) { c.Host = "" }, "smtp host: empty"},
		{"host with port", func(c *notify.SMTPConfig) { c.Host = "smtp.example.com:587" }, "without scheme or port"},
		{"port out of range", func(c *notify.SMTPConfig) { c.Port = 70000 }, "smtp port"},
		{"none off loopback", func(c *notify.SMTPConfig) { c.TLS = "none" }, "only to a loopback host"},
		{"unknown mode", func(c *notify.SMTPConfig) { c.TLS = "ssl" }, `"ssl" is not a mode`},
		{"no from", func(c *notify.SMTPConfig) { c.From = "" }, "smtp from: empty"},
		{"bad from", func(c *notify.SMTPConfig) { c.From = "tillit" }, "not an e-mail address"},
		{"from with line break", func(c *notify.SMTPConfig) { c.From = "a@example.com\r\nBcc: b@example.com" }, "not an e-mail address"},
		{"username without password", func(c *notify.SMTPConfig) { c.Username = "u" }, "set both"},
		{"negative timeout", func(c *notify.SMTPConfig) { c.Timeout = -time.Second }, "negative"},
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
			if _, nerr := notify.NewSMTPMailer(cfg, nil); (nerr == nil) != (err == nil) {
				t.Errorf("NewSMTPMailer error = %v, Validate error = %v", nerr, err)
			}
		})
	}
}
