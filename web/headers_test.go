package web_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"

	"tillit"
	"tillit/web"
)

var wantSecurityHeaders = map[string]string{
	"Strict-Transport-Security":  "max-age=63072000; includeSubDomains",
	"X-Content-Type-Options":     "nosniff",
	"Referrer-Policy":            "no-referrer",
	"X-Frame-Options":            "DENY",
	"Cross-Origin-Opener-Policy": "same-origin",
}

// apiCSP is the policy of API answers: nothing may load at all.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// checkCSP checks the content security policy: the strictest for the API;
// for console pages own scripts, styles and images only, no inline code,
// no other origin, no framing.
func checkCSP(t *testing.T, target, csp string) {
	t.Helper()
	if strings.HasPrefix(target, "/api/") || target == "/healthz" {
		if csp != apiCSP {
			t.Errorf("Content-Security-Policy %q, want %q", csp, apiCSP)
		}
		return
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("page Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") || strings.Contains(csp, "*") {
		t.Errorf("page Content-Security-Policy %q allows inline code or other origins", csp)
	}
}

func TestSecurityHeaders(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, secret := e.token(acme, tillit.RoleAdmin)
		victim, _ := e.token(acme, tillit.RoleReader)
		tests := []struct {
			name, method, target, secret, body string
			status                             int
		}{
			{"healthz", "GET", "/healthz", "", "", 200},
			{"api ok", "GET", "/api/v1/me", secret, "", 200},
			{"created", "POST", "/api/v1/tokens", secret, `{"name":"n","role":"reader"}`, 201},
			{"no content", "DELETE", fmt.Sprintf("/api/v1/tokens/%d", victim.ID), secret, "", 204},
			{"bad request", "POST", "/api/v1/tokens", secret, `{`, 400},
			{"unauthenticated", "GET", "/api/v1/me", "", "", 401},
			{"unknown api route", "GET", "/api/v1/nope", secret, "", 404},
			{"unknown page", "GET", "/nope", "", "", 404},
			{"wrong method", "PUT", "/api/v1/me", secret, "", 405},
			{"public key", "GET", "/api/v1/audit/key", "", "", 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do(tt.method, tt.target, tt.secret, tt.body)
				wantStatus(t, w, tt.status)
				for k, v := range wantSecurityHeaders {
					if got := w.Header().Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				checkCSP(t, tt.target, w.Header().Get("Content-Security-Policy"))
				if strings.HasPrefix(tt.target, "/api/") || tt.status >= 400 {
					if got := w.Header().Get("Cache-Control"); got != "no-store" {
						t.Errorf("Cache-Control %q, want no-store", got)
					}
				}
				if len(w.Header().Get("X-Request-Id")) != 32 {
					t.Errorf("X-Request-Id %q is not 128 bits in hex", w.Header().Get("X-Request-Id"))
				}
			})
		}
	})
}

func TestUnmatchedRoutes(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		t.Run("unknown path is a 404 problem", func(t *testing.T) {
			wantProblem(t, e.do("GET", "/api/no/such/thing?x=1", "", ""), 404, tillit.ENotFound, "")
		})
		t.Run("wrong method is a 405 problem with Allow", func(t *testing.T) {
			w := e.do("POST", "/api/v1/me", "", "")
			wantProblem(t, w, 405, tillit.EInvalid, "")
			if allow := w.Header().Get("Allow"); !strings.Contains(allow, "GET") || strings.Contains(allow, "POST") {
				t.Fatalf("Allow %q", allow)
			}
		})
		t.Run("405 lists every method of the path", func(t *testing.T) {
			w := e.do("PATCH", "/api/v1/tokens", "", "")
			wantProblem(t, w, 405, tillit.EInvalid, "")
			allow := w.Header().Get("Allow")
			if !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
				t.Fatalf("Allow %q", allow)
			}
		})
	})
}

func TestProblemFor401(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		w := e.do("GET", "/api/v1/tokens", "", "")
		wantProblem(t, w, 401, tillit.EUnauthenticated, "")
		if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Fatalf("WWW-Authenticate %q", got)
		}
	})
}

func TestProbes(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		t.Run("healthz", func(t *testing.T) {
			w := e.do("GET", "/healthz", "", "")
			wantStatus(t, w, 200)
			if w.Body.String() != "ok" {
				t.Fatalf("body %q", w.Body.String())
			}
		})
		t.Run("readyz", func(t *testing.T) {
			w := e.do("GET", "/readyz", "", "")
			wantStatus(t, w, 200)
			if w.Body.String() != "ready" {
				t.Fatalf("body %q", w.Body.String())
			}
		})
		t.Run("readyz when not ready leaks nothing", func(t *testing.T) {
			const secretDetail = "connection refused to db.internal:5432"
			broken := newEnv(t, dialect, func(c *web.Config) {
				c.Ready = func(context.Context) error { return errors.New(secretDetail) }
			})
			w := broken.do("GET", "/readyz", "", "")
			wantProblem(t, w, 503, tillit.EUnavailable, "")
			if strings.Contains(w.Body.String(), "db.internal") {
				t.Fatalf("body leaks the cause: %s", w.Body.String())
			}
			if !strings.Contains(broken.logs.String(), "db.internal") {
				t.Fatalf("the cause is not logged: %s", broken.logs.String())
			}
		})
		t.Run("probes are not audited", func(t *testing.T) {
			spy := &spyRecorder{}
			s := newEnv(t, dialect, func(c *web.Config) { spy.next = c.Recorder; c.Recorder = spy })
			s.do("GET", "/healthz", "", "")
			s.do("GET", "/readyz", "", "")
			if n := len(spy.all()); n != 0 {
				t.Fatalf("%d events recorded for probes", n)
			}
		})
	})
}

func TestTLSConfig(t *testing.T) {
	c := web.TLSConfig()
	if c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %#x, want TLS 1.2", c.MinVersion)
	}
	if len(c.CipherSuites) == 0 {
		t.Fatal("no TLS 1.2 cipher suites listed")
	}
	for _, id := range c.CipherSuites {
		name := tls.CipherSuiteName(id)
		aead := strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305")
		if !strings.HasPrefix(name, "TLS_ECDHE_") || !aead {
			t.Errorf("cipher suite %s is not forward-secret AEAD", name)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := web.New(web.Config{}); err == nil {
		t.Fatal("New accepted an empty config")
	}
}
