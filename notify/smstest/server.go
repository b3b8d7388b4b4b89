// Package smstest runs a fake of the Twilio Messages API on an httptest
// server: it authenticates and checks a Create Message request as Twilio
// does, answers as Twilio does, and keeps the messages it accepts, so that
// tests can read what a person's phone would.
package smstest

import (
	"crypto/rand"
	"encoding/hex"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// Message is one text message the fake accepted.
type Message struct {
	SID                 string // the SID the fake gave it: SM and 32 hex digits
	To                  string // the recipient's number
	From                string // the sender, "" if sent through a Messaging Service
	MessagingServiceSID string // the Messaging Service, "" if sent From a sender
	Body                string // the text
}

// Server is a fake Twilio REST API on a loopback port. It is closed when
// the test that made it ends.
type Server struct {
	srv       *httptest.Server
	tb        testing.TB
	accountID string
	token     string

	mu       sync.Mutex
	messages []Message
	changed  chan struct{} // closed and replaced when a message arrives
	failures []failure     // answers to give instead of accepting, in order
	requests int
}

// failure is an error answer FailNext queued.
type failure struct{ status, code int }

// NewServer starts the fake with a new random Account SID and Auth Token.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:        tb,
		accountID: "AC" + randomHex(16),
		token:     randomHex(16),
		changed:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.create)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL of the fake, for SMSConfig.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// AccountID returns the Account SID the fake accepts.
func (s *Server) AccountID() string { return s.accountID }

// Token returns the Auth Token the fake accepts.
func (s *Server) Token() string { return s.token }

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Requests returns how many requests the fake has answered, failed or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// WaitFor waits until at least n messages have been accepted and returns
// them; it fails the test if they have not within timeout.
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
			tb.Fatalf("smstest: %d of %d messages arrived within %v", len(msgs), n, timeout)
		}
	}
}

// FailNext makes the fake answer the next authenticated request with the
// HTTP status and Twilio's usual error code for it: 21211 (invalid 'To'
// number) for 400, 20003 for 401, and 20000+status otherwise (20429,
// 20500…). A 429 carries Retry-After: 1.
func (s *Server) FailNext(status int) {
	code := 20000 + status
	switch status {
	case http.StatusBadRequest:
		code = 21211
	case http.StatusUnauthorized:
		code = 20003
	}
	s.FailNextCode(status, code)
}

// FailNextCode makes the fake answer the next authenticated request with
// the HTTP status and the Twilio error code.
func (s *Server) FailNextCode(status, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{status, code})
}

// create answers POST /2010-04-01/Accounts/{sid}/Messages.json.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); !ok || user != s.accountID || pass != s.token {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.PathValue("sid") != s.accountID {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.URL.RawQuery != "" {
		s.tb.Errorf("smstest: the request has a query string; the number and body belong in the POST body")
		writeError(w, http.StatusBadRequest, 20001, "Query parameters are not accepted here")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusBadRequest, 20001, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "The request body does not parse")
		return
	}
	if f, ok := s.takeFailure(); ok {
		writeFailure(w, f, r.PostForm.Get("To"))
		return
	}
	if status, code, msg := check(r.PostForm); code != 0 {
		writeError(w, status, code, msg)
		return
	}
	m := s.add(r.PostForm)
	writeJSON(w, http.StatusCreated, created(s.accountID, m))
}

// takeFailure returns the next queued failure, if any.
func (s *Server) takeFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return failure{}, false
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return f, true
}

// add records the message of the form and returns it.
func (s *Server) add(form url.Values) Message {
	m := Message{
		SID:                 "SM" + randomHex(16),
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSID: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return m
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
