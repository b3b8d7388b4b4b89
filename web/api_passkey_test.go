package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/web"
)

// The relying party of the passkey tests: the env's base URL.
const (
	passkeyRPID     = "localhost"
	passkeyOrigin   = "https://localhost:8443"
	passkeyPassword = "correct horse battery staple"
)

// newPasskeyEnv returns an env whose server has the passkey service.
func newPasskeyEnv(t *testing.T, dialect string) *env {
	t.Helper()
	return newEnv(t, dialect, func(c *web.Config) {
		svc, err := sqldb.NewPasskeyService(c.Auth.(*sqldb.AuthService),
			sqldb.PasskeyConfig{RPID: passkeyRPID, RPOrigins: []string{passkeyOrigin}})
		if err != nil {
			t.Fatal(err)
		}
		c.Passkeys = svc
	})
}

// cookieJar is one API client: it sends the cookies the server set.
type cookieJar struct {
	e       *env
	cookies map[string]string
}

// post serves a POST with the jar's cookies.
func (j *cookieJar) post(target, body string) *httptest.ResponseRecorder {
	j.e.tb.Helper()
	return j.call("POST", target, body)
}

// call serves a request with the jar's cookies and keeps the ones it sets.
func (j *cookieJar) call(method, target, body string, opts ...reqOption) *httptest.ResponseRecorder {
	j.e.tb.Helper()
	opts = append(opts, func(r *http.Request) {
		for k, v := range j.cookies {
			r.AddCookie(&http.Cookie{Name: k, Value: v})
		}
	})
	w := j.e.do(method, target, "", body, opts...)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.cookies, c.Name)
		} else {
			j.cookies[c.Name] = c.Value
		}
	}
	return w
}

// login signs in with the password through the API.
func (j *cookieJar) login(tb testing.TB, email string) (next string, methods []string) {
	tb.Helper()
	j.cookies = map[string]string{}
	w := j.post("/api/v1/auth/login", fmt.Sprintf(`{"tenant":"acme","email":%q,"password":%q}`, email, passkeyPassword))
	wantStatus(tb, w, http.StatusOK)
	var res tillit.LoginResult
	decode(tb, w, &res)
	return res.Next, res.Methods
}

// wantOK returns the body of a response that must have status 200.
func wantOK(tb testing.TB, w *httptest.ResponseRecorder) []byte {
	tb.Helper()
	wantStatus(tb, w, http.StatusOK)
	return w.Body.Bytes()
}

func TestPasskeyAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acme := e.tenant("acme")
		_, audit := e.token(acme, tillit.RoleOwner)
		if _, _, err := e.cfg.Accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindUser,
			TenantID: acme.ID, Email: "kari@acme.example", Role: tillit.RoleOwner, Password: passkeyPassword}); err != nil {
			t.Fatal(err)
		}
		b := &cookieJar{e: e}
		key := sqldbtest.NewAuthenticator(passkeyOrigin)

		// First sign-in: enrol a passkey; signed in with recovery codes.
		if next, _ := b.login(t, "kari@acme.example"); next != tillit.NextEnroll {
			t.Fatalf("next %q", next)
		}
		opts := wantOK(t, b.post("/api/v1/auth/passkey/register/begin", "{}"))
		body, _ := json.Marshal(map[string]any{"name": "YubiKey", "credential": json.RawMessage(key.Create(t, opts))})
		var reg struct {
			RecoveryCodes []string        `json:"recovery_codes"`
			Session       *tillit.Session `json:"session"`
		}
		decode(t, b.post("/api/v1/auth/passkey/register/finish", string(body)), &reg)
		if len(reg.RecoveryCodes) != 10 || reg.Session == nil || b.cookies["__Host-tillit_session"] == "" || b.cookies["__Host-tillit_pending"] != "" {
			t.Fatalf("register finish: %+v, cookies %v", reg, b.cookies)
		}

		// Next sign-in: a phished assertion is refused, the real one signs in.
		if next, methods := b.login(t, "kari@acme.example"); next != tillit.NextMFA || !slices.Contains(methods, tillit.FactorPasskey) {
			t.Fatalf("second login: %s %v", next, methods)
		}
		phished := key.Clone()
		phished.Origin = "https://evil.example"
		opts = wantOK(t, b.post("/api/v1/auth/passkey/login/begin", ""))
		w := b.post("/api/v1/auth/passkey/login/finish", string(phished.Get(t, opts)))
		wantProblem(t, w, http.StatusUnauthorized, tillit.EUnauthenticated, "credential")
		opts = wantOK(t, b.post("/api/v1/auth/passkey/login/begin", "{}"))
		w = b.post("/api/v1/auth/passkey/login/finish", string(key.Get(t, opts)))
		wantStatus(t, w, http.StatusOK)
		mfa := w.Header().Get("X-Request-Id")

		// A sensitive change needs a step-up: with the passkey.
		w = b.call("PATCH", "/api/v1/tenant", `{"session_idle_minutes":5}`)
		wantProblem(t, w, http.StatusForbidden, tillit.EStepUp, "")
		old := b.cookies["__Host-tillit_session"]
		opts = wantOK(t, b.post("/api/v1/auth/passkey/step-up/begin", ""))
		var up struct {
			Session    *tillit.Session `json:"session"`
			ValidUntil string          `json:"valid_until"`
		}
		decode(t, b.post("/api/v1/auth/passkey/step-up/finish", string(key.Get(t, opts))), &up)
		if up.Session == nil || up.Session.SteppedUpAt == nil || b.cookies["__Host-tillit_session"] == old {
			t.Fatalf("step-up: %+v", up)
		}
		w = b.call("PATCH", "/api/v1/tenant", `{"session_idle_minutes":5}`)
		wantStatus(t, w, http.StatusOK)

		// A second key, sent as a bare PublicKeyCredential, has no name.
		second := sqldbtest.NewAuthenticator(passkeyOrigin)
		opts = wantOK(t, b.post("/api/v1/auth/passkey/register/begin", ""))
		var added map[string]json.RawMessage
		decode(t, b.post("/api/v1/auth/passkey/register/finish", string(second.Create(t, opts))), &added)
		if string(added["recovery_codes"]) != "[]" || added["session"] != nil {
			t.Fatalf("second key: %s", added)
		}

		events := e.events(audit, "action=auth.mfa")
		i := slices.IndexFunc(events, func(ev *tillit.Event) bool { return ev.RequestID == mfa })
		if i < 0 || events[i].Outcome != tillit.OutcomeOK || !slices.Equal(events[i].Fields, []string{"passkey"}) {
			t.Fatalf("sign-in events %+v", events)
		}
		failed := e.events(audit, "action=auth.mfa_failed")
		if len(failed) != 1 || failed[0].Outcome != tillit.EUnauthenticated {
			t.Fatalf("refused passkey events %+v", failed)
		}
		for _, action := range []string{"auth.passkey_enroll", "auth.passkey_enrolled", "auth.passkey_login_begin", "auth.passkey_step_up_begin", "auth.step_up"} {
			if len(e.events(audit, "action="+action)) == 0 {
				t.Errorf("no %s event", action)
			}
		}
	})
}

func TestPasskeyRoutes(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		var paths []string
		for _, rt := range e.srv.Routes() {
			if !strings.HasPrefix(rt.Pattern, "/api/v1/auth/passkey/") {
				continue
			}
			paths = append(paths, rt.Pattern)
			if !rt.RateLimit || !rt.Audited() || rt.Method != "POST" {
				t.Errorf("route %s: rate limit %v, audited %v", rt, rt.RateLimit, rt.Audited())
			}
			w := e.do("POST", rt.Pattern, "", `{"id":"x"}`)
			wantProblem(t, w, http.StatusUnauthorized, tillit.EUnauthenticated, "")
		}
		if len(paths) != 6 {
			t.Fatalf("passkey routes %v", paths)
		}
		without := newEnv(t, dialect)
		for _, rt := range without.srv.Routes() {
			if strings.HasPrefix(rt.Pattern, "/api/v1/auth/passkey/") {
				t.Fatalf("%s served without a passkey service", rt)
			}
		}
	})
}
