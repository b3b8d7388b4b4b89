package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
)

// The console over plain HTTP, without a browser: redirects, headers,
// language, assets, audit outcomes, step-up and CSRF.

// mailbox keeps the e-mails the server sends.
type mailbox struct {
	mu    sync.Mutex
	mails []tillit.Mail
	fail  error // if set, every mail fails with it
}

func (m *mailbox) Send(_ context.Context, mail tillit.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.mails = append(m.mails, mail)
	return nil
}

// failWith makes every later mail fail with err.
func (m *mailbox) failWith(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

var linkRE = regexp.MustCompile(`https://\S+#\S+`)

// link waits for an e-mail to the address and returns the link in it.
func (m *mailbox) link(t *testing.T, to string) string {
	t.Helper()
	for range 100 {
		m.mu.Lock()
		for _, mail := range m.mails {
			if mail.To == to {
				m.mu.Unlock()
				if l := linkRE.FindString(mail.Body); l != "" {
					return l
				}
				t.Fatalf("no link in the mail: %q", mail.Body)
			}
		}
		m.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no mail to %s", to)
	return ""
}

// consoleClient is a browser-like client of the server: it keeps cookies
// and does not follow redirects, so that tests see them.
type consoleClient struct {
	t *testing.T
	e *browserEnv
	c *http.Client
}

func newConsoleClient(t *testing.T, e *browserEnv) *consoleClient {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: e.ts.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &consoleClient{t: t, e: e, c: c}
}

// do sends a request; form, if not nil, is posted. It returns the response
// and its body.
func (c *consoleClient) do(method, path string, form url.Values, headers ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// want fails unless the response has the status (and, for a redirect, the
// location).
func want(t *testing.T, resp *http.Response, body string, status int, location string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Location") != location {
		t.Fatalf("status %d location %q, want %d %q; body %.300s", resp.StatusCode, resp.Header.Get("Location"), status, location, body)
	}
}

var secretRE = regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`)

// signIn signs the user in through the forms, enrolling TOTP.
func (c *consoleClient) signIn(email string) {
	c.t.Helper()
	resp, body := c.do("POST", "/signin", url.Values{"tenant": {"acme"}, "email": {email}, "password": {testPassword}})
	want(c.t, resp, body, http.StatusSeeOther, "/signin/enroll")
	resp, body = c.do("GET", "/signin/enroll", nil)
	m := secretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		c.t.Fatalf("enrolment page %d: %.300s", resp.StatusCode, body)
	}
	c.e.mu.Lock()
	c.e.secrets[email] = m[1]
	c.e.mu.Unlock()
	resp, body = c.do("POST", "/signin/enroll", url.Values{"code": {c.e.code(email)}})
	if resp.StatusCode != http.StatusOK || strings.Count(body, "<li><code>") != 10 {
		c.t.Fatalf("recovery codes page %d: %.500s", resp.StatusCode, body)
	}
}

// event returns the event of the request in acme's audit log, wherever it
// was recorded: by the web layer, or by a service in its transaction.
func (e *browserEnv) event(t *testing.T, requestID string) tillit.Event {
	t.Helper()
	ctx := tillit.NewContextWithPrincipal(context.Background(),
		&tillit.Principal{Kind: tillit.KindUser, ID: 1, TenantID: e.acme.ID, Role: tillit.RoleAuditor})
	events, err := sqldb.NewAuditService(e.db).FindEvents(ctx, tillit.EventFilter{After: -1, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.RequestID == requestID {
			return *ev
		}
	}
	t.Fatalf("no event of request %s in acme's log", requestID)
	return tillit.Event{}
}

// TestConsolePages: what the console answers before anyone signs in.
func TestConsolePages(t *testing.T) {
	spy := &spyRecorder{}
	e := newConsoleEnv(t, spy)
	e.user("ada@acme.test", tillit.RoleAdmin)

	t.Run("pages need a session", func(t *testing.T) {
		c := newConsoleClient(t, e)
		resp, body := c.do("GET", "/users", nil)
		want(t, resp, body, http.StatusSeeOther, "/signin?next=%2Fusers")
		resp, body = c.do("GET", "/", nil)
		want(t, resp, body, http.StatusSeeOther, "/signin")
		ev := spy.byRequest(t, resp.Header.Get("X-Request-Id"))
		if ev.Action != "console.home" || ev.Outcome != tillit.EUnauthenticated {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("sign-in page", func(t *testing.T) {
		c := newConsoleClient(t, e)
		resp, body := c.do("GET", "/signin", nil, "Accept-Language", "sv-SE,sv;q=0.9")
		want(t, resp, body, http.StatusOK, "")
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Fatalf("CSP %q", csp)
		}
		if h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("headers %v", h)
		}
		if !strings.Contains(body, `<html lang="sv">`) || !strings.Contains(body, "Logga in") {
			t.Fatalf("not Swedish: %.300s", body)
		}
	})
	t.Run("language switch", func(t *testing.T) {
		c := newConsoleClient(t, e)
		resp, body := c.do("POST", "/lang", url.Values{"lang": {"en"}, "next": {"/signin?next=%2Fusers"}})
		want(t, resp, body, http.StatusSeeOther, "/signin?next=%2Fusers")
		ck := resp.Header.Get("Set-Cookie")
		if !strings.HasPrefix(ck, "__Host-tillit_lang=en;") || !strings.Contains(ck, "Secure") ||
			!strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
			t.Fatalf("cookie %q", ck)
		}
		resp, body = c.do("GET", "/signin", nil, "Accept-Language", "sv")
		if !strings.Contains(body, `<html lang="en">`) {
			t.Fatalf("the choice does not win over the browser: %.200s", body)
		}
		resp, body = c.do("POST", "/lang", url.Values{"lang": {"nb"}, "next": {"//evil.example/"}})
		want(t, resp, body, http.StatusSeeOther, "/")
	})
	t.Run("unknown page", func(t *testing.T) {
		c := newConsoleClient(t, e)
		resp, body := c.do("GET", "/no/such/page", nil, "Accept-Language", "en")
		want(t, resp, body, http.StatusNotFound, "")
		if !strings.Contains(body, "Page not found") || !strings.Contains(body, resp.Header.Get("X-Request-Id")) {
			t.Fatalf("error page: %.400s", body)
		}
	})
	t.Run("assets", func(t *testing.T) {
		c := newConsoleClient(t, e)
		_, page := c.do("GET", "/signin", nil)
		css := regexp.MustCompile(`/static/console\.[0-9a-f]{12}\.css`).FindString(page)
		resp, body := c.do("GET", css, nil)
		want(t, resp, body, http.StatusOK, "")
		if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ":focus-visible") {
			t.Fatalf("asset %s: %v", css, resp.Header)
		}
		resp, body = c.do("GET", "/static/console.000000000000.css", nil)
		want(t, resp, body, http.StatusNotFound, "")
	})
	t.Run("wrong password", func(t *testing.T) {
		c := newConsoleClient(t, e)
		resp, body := c.do("POST", "/signin", url.Values{"tenant": {"acme"}, "email": {"ada@acme.test"}, "password": {"not the password"}},
			"Accept-Language", "en")
		want(t, resp, body, http.StatusUnauthorized, "")
		if !strings.Contains(body, "The organisation, e-mail address or password is wrong.") || !strings.Contains(body, `value="ada@acme.test"`) ||
			strings.Contains(body, "not the password") {
			t.Fatalf("form again: %.1000s", body)
		}
		if ev := e.event(t, resp.Header.Get("X-Request-Id")); ev.Outcome != tillit.EUnauthenticated {
			t.Fatalf("event %+v", ev)
		}
	})
}

// TestConsoleSignedIn: keepalive, CSRF and step-up of a signed-in
// administrator.
func TestConsoleSignedIn(t *testing.T) {
	e := newConsoleEnv(t, nil)
	e.user("ada@acme.test", tillit.RoleAdmin)
	c := newConsoleClient(t, e)
	c.signIn("ada@acme.test")
	t.Run("keepalive", func(t *testing.T) {
		resp, body := c.do("POST", "/keepalive", nil)
		var out struct {
			IdleSeconds int `json:"idle_seconds"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil || out.IdleSeconds != 1800 {
			t.Fatalf("keepalive %d %s", resp.StatusCode, body)
		}
	})
	t.Run("cross-origin form refused", func(t *testing.T) {
		resp, body := c.do("POST", "/signout", url.Values{}, "Sec-Fetch-Site", "cross-site")
		want(t, resp, body, http.StatusForbidden, "")
		if !strings.Contains(body, "<html") {
			t.Fatalf("not a page: %.200s", body)
		}
	})
	t.Run("step-up", func(t *testing.T) {
		form := url.Values{"session_idle_minutes": {"7"}}
		resp, body := c.do("POST", "/settings/security", form, "Accept-Language", "en")
		want(t, resp, body, http.StatusForbidden, "")
		if !strings.Contains(body, `id="stepup-title"`) || !strings.Contains(body, `name="session_idle_minutes" value="7"`) {
			t.Fatalf("no step-up form carrying the change: %.2000s", body)
		}
		form.Set("stepup_password", testPassword)
		form.Set("stepup_method", "totp")
		form.Set("stepup_code", "000000")
		resp, body = c.do("POST", "/settings/security", form)
		want(t, resp, body, http.StatusUnauthorized, "")
		form.Set("stepup_code", e.code("ada@acme.test"))
		resp, body = c.do("POST", "/settings/security", form)
		want(t, resp, body, http.StatusSeeOther, "/settings/security?notice=settings_saved")
		resp, body = c.do("GET", "/settings/security", nil)
		if !strings.Contains(body, `value="7"`) {
			t.Fatalf("setting not saved: %.300s", body)
		}
	})
}
