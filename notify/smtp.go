// Package notify sends messages to people: e-mail through an SMTP server,
// text messages through an SMS provider, and the texts of the account
// e-mails in nb, sv and en. It is a shared piece: sign-in uses it now, mass
// notification later. Nothing here logs a recipient, a body or a code.
package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The TLS modes of an SMTP connection (SMTPConfig.TLS).
const (
	SMTPStartTLS = "starttls" // a plain connection upgraded with STARTTLS, usually port 587
	SMTPTLS      = "tls"      // TLS from the first byte ("SMTPS"), usually port 465
	SMTPNone     = "none"     // no encryption: allowed only to a loopback host
)

// DefaultSMTPTimeout bounds one delivery when SMTPConfig.Timeout is zero.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig says how to reach the SMTP server that sends tillit's e-mail.
type SMTPConfig struct {
	Host     string        // host name or IP address of the server, without port
	Port     int           // 0 for the default of the TLS mode: 587, 465 or 25
	Username string        // "" for a server that needs no sign-in
	Password string        // the password of Username
	From     string        // the sender: "tillit <noreply@example.com>" or a bare address
	TLS      string        // SMTPStartTLS (also for ""), SMTPTLS or SMTPNone
	Timeout  time.Duration // bound of one delivery; 0 for DefaultSMTPTimeout

	RootCAs *x509.CertPool // the CAs that may sign the server's certificate; nil for the system's
	Clock   tillit.Clock   // the clock of the Date header; nil for tillit.SystemClock
}

// Validate reports every setting that is wrong, each with how to fix it.
func (c SMTPConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Host == "" {
		bad("smtp host: empty; set the host name of the mail server, e.g. smtp.example.com")
	} else if !validHost(c.Host) {
		bad("smtp host: %q is not a host name; give the name alone, without scheme or port, e.g. smtp.example.com", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("smtp port: %d is out of range; use 587 for starttls, 465 for tls, or 0 for the default of the mode", c.Port)
	}
	switch c.tlsMode() {
	case SMTPStartTLS, SMTPTLS:
	case SMTPNone:
		if !isLoopback(c.Host) {
			bad("smtp tls: %q sends mail and password in clear text and is allowed only to a loopback host, but host is %q; use %q (port 587) or %q (port 465)",
				SMTPNone, c.Host, SMTPStartTLS, SMTPTLS)
		}
	default:
		bad("smtp tls: %q is not a mode; use %q (port 587, the default), %q (port 465) or %q (loopback only)",
			c.TLS, SMTPStartTLS, SMTPTLS, SMTPNone)
	}
	if c.From == "" {
		bad("smtp from: empty; set the sender, e.g. \"tillit <noreply@example.com>\"")
	} else if _, err := parseAddress(c.From); err != nil {
		bad("smtp from: %q is not an e-mail address (%v); use e.g. \"tillit <noreply@example.com>\"", c.From, err)
	}
	if (c.Username == "") != (c.Password == "") {
		bad("smtp username and password: set both, or neither for a server that needs no sign-in")
	}
	if c.Timeout < 0 {
		bad("smtp timeout: %v is negative; use e.g. 30s, or 0 for the default", c.Timeout)
	}
	return errors.Join(errs...)
}

// tlsMode returns the TLS mode, SMTPStartTLS when none is set.
func (c SMTPConfig) tlsMode() string {
	if c.TLS == "" {
		return SMTPStartTLS
	}
	return strings.ToLower(c.TLS)
}

// withDefaults returns c with the zero values replaced by their defaults.
func (c SMTPConfig) withDefaults() SMTPConfig {
	c.TLS = c.tlsMode()
	if c.Port == 0 {
		c.Port = map[string]int{SMTPStartTLS: 587, SMTPTLS: 465, SMTPNone: 25}[c.TLS]
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultSMTPTimeout
	}
	if c.Clock == nil {
		c.Clock = tillit.SystemClock{}
	}
	return c
}

// SMTPMailer sends e-mail through one SMTP server, one connection per
// message. It is safe for concurrent use.
type SMTPMailer struct {
	cfg    SMTPConfig
	from   *mail.Address
	addr   string // host:port
	logger *slog.Logger
}

var _ tillit.Mailer = (*SMTPMailer)(nil)

// NewSMTPMailer returns a mailer for the server of cfg, or the error of
// cfg.Validate. It does not connect: a server that is down shows at the
// first Send.
func NewSMTPMailer(cfg SMTPConfig, logger *slog.Logger) (*SMTPMailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	from, _ := parseAddress(cfg.From)
	cfg = cfg.withDefaults()
	return &SMTPMailer{
		cfg:    cfg,
		from:   from,
		addr:   net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		logger: logger,
	}, nil
}

// Send delivers m through the SMTP server and returns once the server has
// accepted it. It returns EInvalid if m's recipient or subject cannot go in
// a header (a line break, say), and EUnavailable if the server cannot be
// reached, refuses the message, or does not answer before ctx or the
// configured timeout ends. It logs the message id, never the recipient or
// the body.
func (m *SMTPMailer) Send(ctx context.Context, msg tillit.Mail) error {
	to, err := checkMail(msg)
	if err != nil {
		return err
	}
	id := messageID(m.from)
	data := compose(m.cfg.Clock.Now(), id, m.from, to, msg)
	if err := m.deliver(ctx, to.Address, data); err != nil {
		m.logger.Warn("mail failed", "message_id", id, "error", err)
		return err
	}
	m.logger.Info("mail sent", "message_id", id)
	return nil
}

// tlsConfig returns the TLS configuration for the server.
func (m *SMTPMailer) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: m.cfg.Host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12}
}

// dial connects to the server and, in SMTPTLS mode, makes the TLS
// handshake. It returns the step that failed, if one did.
func (m *SMTPMailer) dial(ctx context.Context) (net.Conn, string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return nil, stepConnect, err
	}
	if m.cfg.TLS != SMTPTLS {
		return conn, "", nil
	}
	tc := tls.Client(conn, m.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, stepTLS, err
	}
	return tc, "", nil
}

// parseAddress parses one RFC 5322 address, refusing line breaks.
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("it contains a line break")
	}
	return mail.ParseAddress(s)
}

// validHost reports whether h looks like a host name or an IP address.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return !strings.ContainsAny(h, " :/@?#[]\t\r\n")
}

// isLoopback reports whether host is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
