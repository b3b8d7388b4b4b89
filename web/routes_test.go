package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tillit"
	"tillit/web"
)

// TestEveryRoute walks the route table: every route declares its access;
// every API route is audited; every route that needs a permission refuses
// a request without a credential (401) and one of a role without the
// permission (403), and records both refusals.
func TestEveryRoute(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		spy := &spyRecorder{}
		e := newEnv(t, dialect, func(c *web.Config) { spy.next, c.Recorder = c.Recorder, spy })
		acme := e.tenant("acme")
		tokens := map[tillit.Role]*tillit.Token{}
		secrets := map[tillit.Role]string{}
		for _, role := range tillit.Roles {
			tokens[role], secrets[role] = e.token(acme, role)
		}
		routes := e.srv.Routes()
		if len(routes) == 0 {
			t.Fatal("no routes")
		}
		for _, rt := range routes {
			t.Run(rt.String(), func(t *testing.T) {
				if rt.Access.String() == "undeclared" {
					t.Fatal("access undeclared")
				}
				if !rt.Audited() && !rt.Access.IsPublic() {
					t.Fatal("a route that needs a credential is not audited")
				}
				if strings.HasPrefix(rt.Pattern, "/api/") && !rt.Audited() {
					t.Fatal("an API route is not audited")
				}
				target := strings.ReplaceAll(strings.ReplaceAll(rt.Pattern, "{id}", "1"), "{$}", "")
				if rt.Access.IsPublic() {
					// Sign-in steps may refuse (401 without a pending
					// sign-in), but never fail.
					if w := e.do(rt.Method, target, "", ""); w.Code >= 500 {
						t.Fatalf("public route answers %d", w.Code)
					}
					return
				}
				w := e.do(rt.Method, target, "", "")
				if !strings.HasPrefix(rt.Pattern, "/api/") {
					// A console page sends the person to sign in.
					if w.Code != http.StatusSeeOther && w.Code != http.StatusUnauthorized {
						t.Fatalf("console page without a session: %d", w.Code)
					}
					return
				}
				wantProblem(t, w, 401, tillit.EUnauthenticated, "")
				ev := spy.byRequest(t, w.Header().Get("X-Request-Id"))
				if ev.Action != rt.Action || ev.Outcome != tillit.EUnauthenticated || ev.Log != tillit.OperatorLog {
					t.Fatalf("401 event %+v", ev)
				}
				if rt.Access.Permission() == "" {
					return // SignedIn: any principal; its service decides
				}
				for _, role := range tillit.Roles {
					if role.Can(rt.Access.Permission()) {
						continue
					}
					w := e.do(rt.Method, target, secrets[role], "{}")
					wantProblem(t, w, 403, tillit.EForbidden, "")
					ev := spy.byRequest(t, w.Header().Get("X-Request-Id"))
					if ev.Action != rt.Action || ev.Outcome != tillit.EForbidden || ev.Log != acme.ID ||
						ev.Actor != actor(tokens[role]) {
						t.Fatalf("403 event of %s: %+v", role, ev)
					}
				}
			})
		}
	})
}

// leakyTokens is a token service that puts the secret in its errors, as a
// careless store might.
type leakyTokens struct{ tillit.TokenService }

func (leakyTokens) AuthenticateToken(_ context.Context, secret string) (*tillit.Principal, error) {
	return nil, &tillit.Error{Code: tillit.EUnavailable, Message: "cannot look up " + secret,
		Err: fmt.Errorf("query tokens where secret = %q: %w", secret, errors.New("connection reset"))}
}

func TestTokenNeverLogged(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, func(c *web.Config) { c.Tokens = leakyTokens{c.Tokens} })
		const secret = "tillit_SuperSecretValue123"
		w := e.do("GET", "/api/v1/me", secret, "")
		p := wantProblem(t, w, 503, tillit.EUnavailable, "")
		logs := e.logs.String()
		if !strings.Contains(logs, "connection reset") || !strings.Contains(logs, p.RequestID) {
			t.Fatalf("the failure is not logged with its request id: %s", logs)
		}
		if strings.Contains(logs, "SuperSecretValue") {
			t.Fatalf("the token is in the log: %s", logs)
		}
		if strings.Contains(w.Body.String(), "SuperSecretValue") {
			t.Fatalf("the token is echoed: %s", w.Body.String())
		}
	})
}

func TestTrustProxy(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		for _, trust := range []bool{false, true} {
			t.Run(fmt.Sprint("trust ", trust), func(t *testing.T) {
				spy := &spyRecorder{}
				e := newEnv(t, dialect, func(c *web.Config) {
					spy.next, c.Recorder, c.TrustProxy = c.Recorder, spy, trust
				})
				w := e.do("GET", "/api/v1/me", "", "",
					header("X-Forwarded-For", "203.0.113.50, 198.51.100.23"),
					header("X-Request-Id", "proxy-given-id-0001"))
				ev := spy.byRequest(t, w.Header().Get("X-Request-Id"))
				wantAddr, wantID := "192.0.2.1", ev.RequestID != "proxy-given-id-0001"
				if trust {
					wantAddr, wantID = "198.51.100.23", ev.RequestID == "proxy-given-id-0001"
				}
				if ev.ClientAddr != wantAddr || !wantID {
					t.Fatalf("event %+v", ev)
				}
			})
		}
	})
}
