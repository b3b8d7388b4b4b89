package web_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"tillit"
)

// TestBrowserSignInTOTP: a new administrator signs in, is made to enrol
// TOTP (QR code and secret), sees the recovery codes once, lands on the
// start page; signs out and in again with a code from the app.
func TestBrowserSignInTOTP(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	const ada = "ada@acme.test"
	e.user(ada, tillit.RoleAdmin)
	ctx := e.browser(t)

	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/users"), chromedp.WaitVisible(chromedp.ID("f-email")))
	if p := e.path(t, ctx); p != "/signin?next=%2Fusers" {
		t.Fatalf("not signed in, /users went to %s", p)
	}
	e.shot(t, ctx, "signin")
	e.fill(t, ctx, map[string]string{"f-tenant": "acme", "f-email": ada, "f-password": testPassword},
		`form[action="/signin"] button[type="submit"]`, "#f-code")
	if p := e.path(t, ctx); !strings.HasPrefix(p, "/signin/enroll") {
		t.Fatalf("first sign-in went to %s, not to enrolment", p)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg.qr path").length`); n != 1 {
		t.Fatalf("QR code paths: %d", n)
	}
	e.shot(t, ctx, "enroll")
	e.enroll(t, ctx, ada)
	if n := eval[int](t, ctx, `document.querySelectorAll("#recovery-codes li").length`); n != 10 {
		t.Fatalf("%d recovery codes shown", n)
	}
	e.shot(t, ctx, "recovery-codes")
	e.do(t, ctx, chromedp.Click(chromedp.CSS("a.button.primary")), chromedp.WaitVisible(chromedp.ID("users")))
	if p := e.path(t, ctx); p != "/users" {
		t.Fatalf("after sign-in: %s, want the page asked for", p)
	}

	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".facts")))
	if h1 := text(t, ctx, "h1"); h1 != "Velkommen, "+ada {
		t.Fatalf("start page h1 %q", h1)
	}
	if idle := eval[string](t, ctx, `document.body.dataset.idleSeconds`); idle != "1800" {
		t.Fatalf("data-idle-seconds %q, want the default 30 minutes", idle)
	}
	e.shot(t, ctx, "home")
	e.tour(t, ctx)

	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".signout button")),
		chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("main .notice")))
	if n := text(t, ctx, "main .notice"); n != "Du er logget ut." {
		t.Fatalf("after sign-out: %q", n)
	}
	e.fill(t, ctx, map[string]string{"f-tenant": "acme", "f-email": ada, "f-password": testPassword},
		`form[action="/signin"] button[type="submit"]`, "#f-code")
	if p := e.path(t, ctx); !strings.HasPrefix(p, "/signin/factor?") {
		t.Fatalf("second sign-in went to %s", p)
	}
	e.shot(t, ctx, "factor")
	e.fill(t, ctx, map[string]string{"f-code": e.code(ada)}, `form[action="/signin/factor"] button`, ".facts")
	if p := e.path(t, ctx); p != "/" {
		t.Fatalf("signed in at %s", p)
	}
}

// tour visits the signed-in pages and takes a screenshot of each.
func (e *browserEnv) tour(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, p := range []struct{ path, wait, name string }{
		{"/sessions", "table.list", "sessions"},
		{"/account/password", "#f-current", "password"},
		{"/account/passkeys", "main .notice", "passkeys"},
		{"/settings/security", "#f-session_idle_minutes", "settings"},
		{"/no/such/page", "main h1", "not-found"},
	} {
		e.do(t, ctx, chromedp.Navigate(e.ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		e.shot(t, ctx, p.name)
	}
}

// TestBrowserWrongCode: a wrong code is refused; the error shows in the
// language the person chose, on the field and in a summary that takes the
// focus. The right code then signs in, in the same language.
func TestBrowserWrongCode(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	const bo = "bo@acme.test"
	e.user(bo, tillit.RoleReader)
	ctx := e.browser(t)
	e.signIn(t, ctx, bo)
	e.do(t, ctx, chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.ID("f-email")))

	e.do(t, ctx, chromedp.Click(chromedp.CSS(`.lang button[lang="sv"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="sv"]`)))
	if h1 := text(t, ctx, "h1"); h1 != "Logga in" {
		t.Fatalf("Swedish sign-in page h1 %q", h1)
	}
	e.fill(t, ctx, map[string]string{"f-tenant": "acme", "f-email": bo, "f-password": testPassword},
		`form[action="/signin"] button[type="submit"]`, "#f-code")
	e.fill(t, ctx, map[string]string{"f-code": "000000"}, `form[action="/signin/factor"] button`, "#error-summary")

	const want = "Koden är fel eller har gått ut. Försök igen."
	if got := text(t, ctx, "#error-summary li"); got != want {
		t.Fatalf("error summary %q, want %q", got, want)
	}
	if got := text(t, ctx, "#f-code-error"); !strings.HasSuffix(got, want) {
		t.Fatalf("field error %q", got)
	}
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "error-summary" {
		t.Fatalf("focus on %q, not on the error summary", id)
	}
	attrs := eval[[]string](t, ctx, `[document.getElementById("f-code").getAttribute("aria-invalid"),
		document.getElementById("f-code").getAttribute("aria-describedby")]`)
	if attrs[0] != "true" || !strings.Contains(attrs[1], "f-code-error") {
		t.Fatalf("code input aria-invalid %q, aria-describedby %q", attrs[0], attrs[1])
	}
	if title := run(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Fel:") {
		t.Fatalf("title %q does not say there is an error", title)
	}
	e.shot(t, ctx, "factor-wrong-code-sv")

	e.fill(t, ctx, map[string]string{"f-code": e.code(bo)}, `form[action="/signin/factor"] button`, ".facts")
	if h1 := text(t, ctx, "h1"); h1 != "Välkommen, bo@acme.test" { // a reader too is greeted by their own address
		t.Fatalf("start page h1 %q", h1)
	}
}

// TestBrowserIdleSignOut: an administrator sets the idle time to one
// minute (a change that needs a step-up); a page then warns before the
// session idles out, with a countdown and a button that keeps it alive; at
// the end it goes to the sign-in page, and the server has ended the
// session too.
func TestBrowserIdleSignOut(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	const ada = "ada@acme.test"
	e.user(ada, tillit.RoleAdmin)
	ctx := e.browser(t)
	e.signIn(t, ctx, ada)

	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/settings/security"), chromedp.WaitVisible(chromedp.ID("f-session_idle_minutes")))
	e.fill(t, ctx, map[string]string{"f-session_idle_minutes": "1"}, `form[action="/settings/security"] button`, "#stepup-title")
	e.shot(t, ctx, "settings-stepup")
	e.fill(t, ctx, map[string]string{"f-stepup_password": testPassword, "f-stepup_code": e.code(ada)},
		".stepup button", "main .notice")
	if n := text(t, ctx, "main .notice"); n != "Innstillingene er lagret." {
		t.Fatalf("after step-up: notice %q; errors: %s", n, eval[string](t, ctx, `(document.querySelector("#error-summary")||{}).textContent||""`))
	}

	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".facts")))
	if idle := eval[string](t, ctx, `document.body.dataset.idleSeconds`); idle != "60" {
		t.Fatalf("data-idle-seconds %q, want 60", idle)
	}
	e.do(t, ctx, chromedp.WaitVisible(chromedp.ID("idle-warning"))) // after 30 s
	if c := text(t, ctx, "#idle-countdown"); !regexp.MustCompile(`^0:[0-3]\d$`).MatchString(c) {
		t.Fatalf("countdown %q", c)
	}
	if live := text(t, ctx, "#idle-live"); !strings.HasPrefix(live, "Du blir logget ut om 0:") {
		t.Fatalf("live region %q", live)
	}
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "idle-stay" {
		t.Fatalf("focus on %q, not on the stay button", id)
	}
	e.shot(t, ctx, "idle-warning")
	e.do(t, ctx, chromedp.Click(chromedp.ID("idle-stay")), chromedp.WaitNotVisible(chromedp.ID("idle-warning")))

	e.clock.Add(2 * time.Minute) // the server's session idles out
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`form[action="/signin"]`))); err != nil {
		t.Fatalf("the page did not go to sign-in: %v", err)
	}
	if p := e.path(t, ctx); p != "/signin?notice=idle&next=%2F" {
		t.Fatalf("idle sign-out went to %s", p)
	}
	if n := text(t, ctx, "main .notice"); !strings.HasPrefix(n, "Du ble logget ut fordi du var inaktiv") {
		t.Fatalf("notice %q", n)
	}
	e.shot(t, ctx, "idle-signed-out")
	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/sessions"), chromedp.WaitVisible(chromedp.ID("f-email")))
	if p := e.path(t, ctx); !strings.HasPrefix(p, "/signin?") {
		t.Fatalf("the server still serves the idle session: %s", p)
	}
}

// TestBrowserInviteUser: an administrator invites a user, who then shows
// in the list; changes their role with a step-up; the invited person
// accepts through the link in the e-mail, whose token is in the fragment,
// and is made to enrol TOTP.
func TestBrowserInviteUser(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	const ada, cy = "ada@acme.test", "cy@acme.test"
	e.user(ada, tillit.RoleAdmin)
	ctx := e.browser(t)
	e.signIn(t, ctx, ada)

	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/users"), chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SetValue(chromedp.ID("f-role"), "caseworker"))
	e.fill(t, ctx, map[string]string{"f-email": cy}, `form[action="/users"] button`, "main .notice")
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll("#users tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(rows) != 2 || !strings.Contains(strings.Join(rows, "\n"), cy+" Saksbehandler Invitert") {
		t.Fatalf("user list: %q", rows)
	}
	e.shot(t, ctx, "users-invited")

	e.do(t, ctx, chromedp.Click(chromedp.CSS(`#users a[href^="/users/"]:not([href="/users/1"])`)), chromedp.WaitVisible(chromedp.ID("f-role")),
		chromedp.SetValue(chromedp.ID("f-role"), "reader"),
		chromedp.Click(chromedp.CSS(`input[value="role"] ~ button`)), chromedp.WaitVisible(chromedp.ID("stepup-title")))
	e.fill(t, ctx, map[string]string{"f-stepup_password": testPassword, "f-stepup_code": e.code(ada)},
		".stepup button", "main .notice")
	if role := text(t, ctx, ".facts dd"); role != "Leser" {
		t.Fatalf("role after the change: %q", role)
	}
	e.shot(t, ctx, "user-role-changed")
	e.do(t, ctx, chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.ID("f-email")))

	link := e.mail.link(t, cy)
	e.do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("f-password")))
	if p := e.path(t, ctx); p != "/invite" {
		t.Fatalf("the token is still in the address bar: %s", p)
	}
	if tok := run(t, ctx, chromedp.Value(chromedp.CSS(`input[name="token"]`))); tok == "" || !strings.HasSuffix(link, "#"+tok) {
		t.Fatalf("token field %q, link %s", tok, link)
	}
	e.shot(t, ctx, "invite")
	e.fill(t, ctx, map[string]string{"f-password": testPassword, "f-confirm": testPassword}, `form[action="/invite"] button`, "#f-code")
	e.enroll(t, ctx, cy)
	e.do(t, ctx, chromedp.Click(chromedp.CSS("a.button.primary")), chromedp.WaitVisible(chromedp.CSS(".facts")))
	if facts := text(t, ctx, ".facts"); !strings.Contains(facts, "acme AS") || !strings.Contains(facts, "Leser") {
		t.Fatalf("the invited person's start page: %q", facts)
	}
}

// TestBrowserSignInPageClean: the sign-in page, also after a refused
// password, logs no error or warning to the console and loads nothing from
// another origin.
func TestBrowserSignInPageClean(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	ctx := e.browser(t)
	var mu sync.Mutex
	var problems, requests []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				problems = append(problems, "console."+string(ev.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Source == log.EntrySourceNetwork && ev.Entry.URL == e.ts.URL+"/signin" {
				break // the refused sign-in's own status (401), not a fault of the page
			}
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, ctx, chromedp.NavigateResponse(e.ts.URL+"/signin"))
	if csp := resp.Headers["Content-Security-Policy"]; !strings.Contains(csp.(string), "script-src 'self'") {
		t.Fatalf("CSP %v", csp)
	}
	e.do(t, ctx, chromedp.WaitVisible(chromedp.ID("f-email")))
	e.fill(t, ctx, map[string]string{"f-tenant": "acme", "f-email": "nobody@acme.test", "f-password": "wrong password here"},
		`form[action="/signin"] button[type="submit"]`, "#error-summary")
	time.Sleep(500 * time.Millisecond) // late events
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console problems: %q", problems)
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, e.ts.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("request to another origin: %s", u)
		}
	}
	if len(requests) < 4 {
		t.Errorf("requests seen: %q", requests)
	}
}
