// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests, and keeps the messages it receives, parsed and
// decoded, so that a test can read what a person would.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an SMTP server on a loopback port that accepts every message
// and records it. It is closed when the test that made it ends.
type Server struct {
	srv      *smtp.Server
	ln       net.Listener
	roots    *x509.CertPool // trusts the server's certificate; nil without TLS
	starttls bool           // offer STARTTLS
	implicit bool           // TLS from the first byte
	username string         // "" for no AUTH
	password string
	mechs    []string // the AUTH mechanisms offered

	mu       sync.Mutex
	messages []Message
	changed  chan struct{} // closed and replaced when a message arrives
	failNext int           // reply code for the next RCPT, 0 for none
}

// Option changes how NewServer sets up the server.
type Option func(*Server)

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate for 127.0.0.1, ::1 and localhost; RootCAs trusts it.
func WithSTARTTLS() Option { return func(s *Server) { s.starttls = true } }

// WithImplicitTLS makes the server speak TLS from the first byte, as on
// port 465, with the certificate of WithSTARTTLS.
func WithImplicitTLS() Option {
	return func(s *Server) { s.implicit = true }
}

// WithAuth makes the server require AUTH with username and password before
// MAIL, offering the given SASL mechanisms: PLAIN and LOGIN if none given.
func WithAuth(username, password string, mechanisms ...string) Option {
	return func(s *Server) {
		s.username, s.password = username, password
		s.mechs = mechanisms
		if len(s.mechs) == 0 {
			s.mechs = []string{sasl.Plain, sasl.Login}
		}
	}
}

// NewServer starts an SMTP server on 127.0.0.1 with a port of the system's
// choice. Without options it speaks plain SMTP and needs no AUTH.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{changed: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{server: s, conn: c, tb: tb}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true // loopback only
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	if s.starttls || s.implicit {
		var cert tls.Certificate
		cert, s.roots = selfSigned(tb)
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.ln = ln
	if s.implicit {
		s.ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			tb.Errorf("smtptest: serve: %v", err)
		}
	}()
	tb.Cleanup(func() {
		s.srv.Close()
		s.ln.Close() // Close may run before Serve has taken the listener
		<-done
	})
	return s
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the IP address the server listens on: 127.0.0.1.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// RootCAs returns a pool that trusts the server's certificate, or nil if
// the server speaks no TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// WaitFor waits until at least n messages have arrived and returns them;
// it fails the test if they have not within timeout.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		msgs, changed := slices.Clone(s.messages), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-changed:
		case <-timer.C:
			tb.Fatalf("smtptest: %d of %d messages arrived within %v", len(msgs), n, timeout)
		}
	}
}

// FailNext makes the server refuse the next recipient (RCPT TO) with the
// reply code, 550 or 450 say, and a text that quotes the address, as real
// servers do.
func (s *Server) FailNext(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = code
}

// takeFailure returns the reply code FailNext set, once, or 0.
func (s *Server) takeFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.failNext
	s.failNext = 0
	return code
}

// add records a received message.
func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// selfSigned returns a new self-signed certificate for 127.0.0.1, ::1 and
// localhost, valid for a day, and a pool that trusts it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("smtptest: key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("smtptest: serial: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("smtptest: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("smtptest: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}
