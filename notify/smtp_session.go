package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"tillit"
)

// The steps of an SMTP session, as named in errors and logs.
const (
	stepConnect  = "connect"
	stepTLS      = "tls"
	stepGreeting = "greeting"
	stepHello    = "hello"
	stepStartTLS = "starttls"
	stepAuth     = "auth"
	stepMail     = "mail"
	stepRcpt     = "rcpt"
	stepData     = "data"
)

// stepMessages holds the message, safe to show, of a failure at each step.
var stepMessages = map[string]string{
	stepConnect:  "the mail server could not be reached; try again later",
	stepGreeting: "the mail server refused the connection; try again later",
	stepHello:    "the mail server refused the connection; try again later",
	stepTLS:      "no secure connection to the mail server could be made; ask the operator to check the SMTP settings",
	stepStartTLS: "no secure connection to the mail server could be made; ask the operator to check the SMTP settings",
	stepAuth:     "the mail server refused tillit's sign-in; ask the operator to check the SMTP username and password",
	stepMail:     "the mail server refused the sender; ask the operator to check the SMTP from address",
	stepRcpt:     "the mail server refused the recipient's address; check the address",
	stepData:     "the mail server refused the message; try again later",
}

// longAgo is a deadline that has passed: it makes every pending read and
// write on a connection fail at once.
var longAgo = time.Unix(1, 0)

// deliver sends the message data to the recipient address rcpt in one SMTP
// session, bounded by ctx and the configured timeout.
func (m *SMTPMailer) deliver(ctx context.Context, rcpt string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	conn, step, err := m.dial(ctx)
	if err != nil {
		return m.fail(ctx, step, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(longAgo) })
	defer stop()
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return m.fail(ctx, stepGreeting, err)
	}
	defer c.Close()
	if step, err := m.session(c, helloName(conn.LocalAddr()), rcpt, data); err != nil {
		return m.fail(ctx, step, err)
	}
	// The server has taken the message: a failing QUIT does not undo that,
	// and reporting it would make the caller send the message twice.
	_ = c.Quit()
	return nil
}

// session runs the commands of one delivery on c and returns the step that
// failed, if one did.
func (m *SMTPMailer) session(c *smtp.Client, hello, rcpt string, data []byte) (string, error) {
	if err := c.Hello(hello); err != nil {
		return stepHello, err
	}
	if m.cfg.TLS == SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return stepStartTLS, errors.New("the server does not offer STARTTLS; set tls to \"tls\" if it listens with TLS from the first byte (port 465)")
		}
		if err := c.StartTLS(m.tlsConfig()); err != nil {
			return stepStartTLS, err
		}
	}
	if m.cfg.Username != "" {
		if err := m.auth(c); err != nil {
			return stepAuth, err
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return stepMail, err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return stepRcpt, err
	}
	w, err := c.Data()
	if err != nil {
		return stepData, err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return stepData, err
	}
	if err := w.Close(); err != nil {
		return stepData, err
	}
	return "", nil
}

// auth signs in with PLAIN or, if the server offers only that, LOGIN.
func (m *SMTPMailer) auth(c *smtp.Client) error {
	ok, offered := c.Extension("AUTH")
	if !ok {
		return errors.New("the server offers no AUTH; it may need tls set to \"starttls\" or \"tls\", or no username")
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	switch {
	case slices.Contains(mechs, "PLAIN"):
		return c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host))
	case slices.Contains(mechs, "LOGIN"):
		return c.Auth(&loginAuth{username: m.cfg.Username, password: m.cfg.Password, host: m.cfg.Host})
	}
	return fmt.Errorf("the server offers AUTH %s, and tillit speaks PLAIN and LOGIN", offered)
}

// fail returns the EUnavailable error of a delivery that failed at step.
// A server's answer to RCPT or DATA may quote the recipient's address or
// the message, so of those answers only the reply code is kept.
func (m *SMTPMailer) fail(ctx context.Context, step string, err error) error {
	var reply *textproto.Error
	if step == stepRcpt || step == stepData {
		// Keep only the reply code: any other error (a protocol error
		// quoting the server's raw line) may hold the address too.
		if errors.As(err, &reply) {
			err = fmt.Errorf("the server answered %d", reply.Code)
		} else {
			err = errors.New("the server's answer could not be read")
		}
	}
	msg := stepMessages[step]
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
		msg = "the mail server did not answer in time; try again later"
		if errors.Is(ctxErr, context.Canceled) {
			msg = "sending was cancelled"
		}
	}
	return &tillit.Error{
		Code:    tillit.EUnavailable,
		Message: "the e-mail could not be sent: " + msg,
		Err:     fmt.Errorf("smtp %s %s: %w", step, m.addr, err),
	}
}

// helloName returns the name for EHLO: the address literal of the local
// end of the connection (RFC 5321, 4.1.3), which is true, unlike
// "localhost", and needs no DNS name.
func helloName(local net.Addr) string {
	tcp, ok := local.(*net.TCPAddr)
	switch {
	case !ok:
		return "localhost"
	case tcp.IP.To4() != nil:
		return "[" + tcp.IP.String() + "]"
	default:
		return "[IPv6:" + tcp.IP.String() + "]"
	}
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login), which some
// servers offer instead of PLAIN. Like smtp.PlainAuth it sends the password
// only over TLS or to a loopback host.
type loginAuth struct {
	username, password, host string
	step                     int
}

// Start begins LOGIN, refusing a connection that is not encrypted.
func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

// Next answers the server's prompts: the username, then the password.
func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected LOGIN challenge")
}
