package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server received, parsed and decoded.
type Message struct {
	EnvelopeFrom string      // MAIL FROM
	EnvelopeTo   []string    // RCPT TO, in order
	From         string      // the From header, encoded-words decoded
	To           string      // the To header, encoded-words decoded
	Subject      string      // the Subject header, encoded-words decoded
	Body         string      // the body, transfer encoding undone, lines ending in "\n"
	Header       mail.Header // every header as sent
	Raw          []byte      // the message as received, after dot-unstuffing
	TLS          bool        // the session was encrypted (STARTTLS or implicit TLS)
	Username     string      // who signed in with AUTH, "" for nobody
}

// session is one SMTP session of the server.
type session struct {
	server   *Server
	conn     *smtp.Conn
	tb       testing.TB
	username string // signed in as
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms returns the mechanisms the server offers, none without
// WithAuth.
func (s *session) AuthMechanisms() []string { return s.server.mechs }

// Auth returns the server side of the mechanism mech.
func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username != s.server.username || password != s.server.password {
			return smtp.ErrAuthFailed
		}
		s.username = username
		return nil
	}
	if !slices.Contains(s.server.mechs, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// Mail starts a message from the sender from.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.username != "" && s.username == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

// Rcpt adds a recipient, or refuses it once after FailNext.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := s.server.takeFailure(); code != 0 {
		return &smtp.SMTPError{
			Code:         code,
			EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1},
			Message:      fmt.Sprintf("<%s>: Recipient address rejected: User unknown", to),
		}
	}
	s.to = append(s.to, to)
	return nil
}

// Data reads the message, parses it and records it.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		s.tb.Errorf("smtptest: a message that does not parse: %v\n%s", err, raw)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "message does not parse"}
	}
	m.EnvelopeFrom, m.EnvelopeTo = s.from, slices.Clone(s.to)
	_, m.TLS = s.conn.TLSConnectionState()
	m.Username = s.username
	s.server.add(m)
	return nil
}

// Reset forgets the message under way.
func (s *session) Reset() { s.from, s.to = "", nil }

// Logout ends the session.
func (s *session) Logout() error { return nil }

// parse parses an RFC 5322 message and decodes its headers and body.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	for _, h := range []struct {
		name string
		dst  *string
	}{{"From", &m.From}, {"To", &m.To}, {"Subject", &m.Subject}} {
		if *h.dst, err = dec.DecodeHeader(msg.Header.Get(h.name)); err != nil {
			return Message{}, fmt.Errorf("header %s: %w", h.name, err)
		}
	}
	body := msg.Body
	switch cte := strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "", "7bit", "8bit", "binary":
	default:
		return Message{}, fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return Message{}, fmt.Errorf("body: %w", err)
	}
	m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	return m, nil
}

// loginServer is the server side of the LOGIN mechanism, which go-sasl
// does not provide: it prompts for the username, then the password.
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

// Next answers one client response.
func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(response) > 0 { // the username as initial response
			l.username, l.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.username = string(response)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.username, string(response))
	}
	return nil, false, errors.New("unexpected LOGIN response")
}
