package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"tillit"
	"tillit/web"
)

// spyRecorder passes events on to the store and keeps a copy of each with
// the store's answer.
type spyRecorder struct {
	next   tillit.EventRecorder
	mu     sync.Mutex
	events []tillit.Event
	errs   []error
}

func (s *spyRecorder) RecordEvent(ctx context.Context, e *tillit.Event, also ...*tillit.Event) error {
	err := s.next.RecordEvent(ctx, e, also...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events, s.errs = append(s.events, *e), append(s.errs, err)
	return err
}

func (s *spyRecorder) all() []tillit.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, err := range s.errs {
		if err != nil {
			panic(fmt.Sprintf("the store refused an event: %v", err))
		}
	}
	return append([]tillit.Event(nil), s.events...)
}

// byRequest returns the recorded event of the request id.
func (s *spyRecorder) byRequest(tb testing.TB, id string) tillit.Event {
	tb.Helper()
	for _, e := range s.all() {
		if e.RequestID == id {
			return e
		}
	}
	tb.Fatalf("no event recorded for request %s", id)
	return tillit.Event{}
}

// failingRecorder cannot write the audit log.
type failingRecorder struct{}

func (failingRecorder) RecordEvent(context.Context, *tillit.Event, ...*tillit.Event) error {
	return errors.New("disk full")
}

func TestAuditRecordsEveryRequest(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		admin, adminSecret := e.token(acme, tillit.RoleAdmin)
		reader, readerSecret := e.token(acme, tillit.RoleReader)
		tests := []struct {
			name, method, target, secret, body string
			status                             int
			actor, action, evTarget, outcome   string
		}{
			{"read", "GET", "/api/v1/me", readerSecret, "", 200, actor(reader), "me.read", "", "ok"},
			{"forbidden", "POST", "/api/v1/tokens", readerSecret, `{"name":"x","role":"reader"}`, 403, actor(reader), "token.create", "", "forbidden"},
			{"malformed", "POST", "/api/v1/tokens", adminSecret, `{"name":`, 400, actor(admin), "token.create", "", "invalid"},
			{"bad id", "DELETE", "/api/v1/tokens/abc", adminSecret, "", 400, actor(admin), "token.revoke", "", "invalid"},
			{"not found", "DELETE", "/api/v1/tokens/999999", adminSecret, "", 404, actor(admin), "token.revoke", "token:999999", "not_found"},
			{"revoke", "DELETE", fmt.Sprintf("/api/v1/tokens/%d", reader.ID), adminSecret, "", 204, actor(admin), "token.revoke", fmt.Sprintf("token:%d", reader.ID), "ok"},
			{"list", "GET", "/api/v1/tokens", adminSecret, "", 200, actor(admin), "token.list", "", "ok"},
		}
		ids := map[string]string{}
		for _, tt := range tests {
			w := e.do(tt.method, tt.target, tt.secret, tt.body)
			wantStatus(t, w, tt.status)
			ids[tt.name] = w.Header().Get("X-Request-Id")
		}
		events := e.events(adminSecret, "limit=1000")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got *tillit.Event
				for _, ev := range events {
					if ev.RequestID == ids[tt.name] {
						if got != nil {
							t.Fatalf("two events for one request: %+v and %+v", got, ev)
						}
						got = ev
					}
				}
				switch {
				case got == nil:
					t.Fatalf("no event for request %s", ids[tt.name])
				case got.Log != acme.ID || got.Actor != tt.actor || got.Action != tt.action ||
					got.Target != tt.evTarget || got.Outcome != tt.outcome:
					t.Fatalf("event %+v, want log %d actor %s action %s target %q outcome %s",
						got, acme.ID, tt.actor, tt.action, tt.evTarget, tt.outcome)
				case got.ClientAddr != "192.0.2.1":
					t.Fatalf("client address %q", got.ClientAddr)
				case !got.At.Equal(e.clock.Now()):
					t.Fatalf("event at %v, want the clock's %v", got.At, e.clock.Now())
				}
			})
		}
	})
}

func actor(t *tillit.Token) string { return fmt.Sprintf("token:%d", t.ID) }

func TestAuditOperatorLog(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		spy := &spyRecorder{}
		e := newEnv(t, dialect, func(c *web.Config) { spy.next, c.Recorder = c.Recorder, spy })
		const personal = "kari.nordmann@example.com"
		tests := []struct {
			name, method, target, secret string
			status                       int
			action, outcome              string
		}{
			{"no token", "GET", "/api/v1/me", "", 401, "me.read", "unauthenticated"},
			{"garbage token", "GET", "/api/v1/tokens", "tillit_" + personal, 401, "token.list", "unauthenticated"},
			{"unknown route", "GET", "/api/v1/nowhere/" + personal, "", 404, "unmatched", "not_found"},
			{"a person id that is not one", "GET", "/api/v1/people/" + personal, "", 401, "person.read", "unauthenticated"},
			{"unknown page", "GET", "/" + personal, "", 404, "unmatched", "not_found"},
			{"wrong method", "PUT", "/api/v1/me?email=" + personal, "", 405, "unmatched", "invalid"},
			{"public key", "GET", "/api/v1/audit/key", "", 200, "audit.key", "ok"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do(tt.method, tt.target, tt.secret, "")
				wantStatus(t, w, tt.status)
				ev := spy.byRequest(t, w.Header().Get("X-Request-Id"))
				if ev.Log != tillit.OperatorLog || ev.Actor != "anonymous" || ev.Action != tt.action ||
					ev.Outcome != tt.outcome || ev.Target != "" {
					t.Fatalf("event %+v", ev)
				}
				if s := fmt.Sprintf("%+v", ev); strings.Contains(s, "example.com") {
					t.Fatalf("the event holds a value from the request: %s", s)
				}
			})
		}
		if strings.Contains(e.logs.String(), "example.com") {
			t.Fatalf("the log holds a value from a request: %s", e.logs.String())
		}
	})
}

func TestAuditFailsClosed(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, func(c *web.Config) { c.Recorder = failingRecorder{} })
		acme := e.tenant("acme")
		tok, secret := e.token(acme, tillit.RoleAdmin)
		tests := []struct{ name, method, target, secret, body string }{
			{"me", "GET", "/api/v1/me", secret, ""},
			{"token list", "GET", "/api/v1/tokens", secret, ""},
			{"refusal", "GET", "/api/v1/me", "", ""},
			{"bad input", "POST", "/api/v1/tokens", secret, `{"nope":1}`},
			{"unmatched", "GET", "/api/nope", "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do(tt.method, tt.target, tt.secret, tt.body)
				wantProblem(t, w, 503, tillit.EUnavailable, "")
				for _, leak := range []string{acme.Slug, acme.Name, tok.Name, "disk full"} {
					if strings.Contains(w.Body.String(), leak) {
						t.Fatalf("the answer leaks %q: %s", leak, w.Body.String())
					}
				}
			})
		}
		t.Run("the failure is logged without the token", func(t *testing.T) {
			logs := e.logs.String()
			if !strings.Contains(logs, "disk full") || strings.Contains(logs, secret) {
				t.Fatalf("logs: %s", logs)
			}
		})
		t.Run("a change records its event in its own transaction", func(t *testing.T) {
			w := e.do("POST", "/api/v1/tokens", secret, `{"name":"crm","role":"reader"}`)
			wantStatus(t, w, http.StatusCreated)
		})
	})
}

// panickingTenants is a tenant service with a bug.
type panickingTenants struct{ tillit.TenantService }

func (panickingTenants) CurrentTenant(context.Context) (*tillit.Tenant, error) {
	panic("bug: nil map at tenant 7")
}

func TestPanicIsAnswered500AndAudited(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		spy := &spyRecorder{}
		e := newEnv(t, dialect, func(c *web.Config) {
			spy.next, c.Recorder = c.Recorder, spy
			c.Tenants = panickingTenants{c.Tenants}
		})
		_, secret := e.token(e.tenant("acme"), tillit.RoleReader)
		w := e.do("GET", "/api/v1/me", secret, "")
		p := wantProblem(t, w, 500, tillit.EInternal, "")
		if strings.Contains(p.Detail, "nil map") {
			t.Fatalf("the panic leaks: %+v", p)
		}
		if ev := spy.byRequest(t, p.RequestID); ev.Outcome != tillit.EInternal || ev.Action != "me.read" {
			t.Fatalf("event %+v", ev)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "nil map at tenant 7") || !strings.Contains(logs, p.RequestID) {
			t.Fatalf("the panic is not logged with the request id: %s", logs)
		}
	})
}
