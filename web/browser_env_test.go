package web_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tillit"
	"tillit/auditlog"
	"tillit/password"
	"tillit/receipt"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/totp"
	"tillit/web"
)

// The browser tests drive the console in a real headless Chromium against
// the real server stack over TLS, on SQLite. They run when the browser is
// found (TILLIT_TEST_BROWSER, default /usr/bin/chromium); with
// TILLIT_REQUIRE_BROWSER set, as CI sets it, a missing browser fails them.
// TILLIT_SCREENSHOT_DIR keeps the screenshots there instead of in the
// test's temporary directory.

// browserPath returns the Chromium to drive, or skips (or fails) the test.
func browserPath(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TILLIT_TEST_BROWSER")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("TILLIT_REQUIRE_BROWSER") != "" {
			t.Fatalf("TILLIT_REQUIRE_BROWSER is set but the browser is missing: %v", err)
		}
		t.Skipf("no browser at %s; install Debian's chromium or set TILLIT_TEST_BROWSER", bin)
	}
	return bin
}

// browserEnv is the server stack on TLS with the sign-in services, a
// settable clock and a recording mailer, and the browser to drive.
type browserEnv struct {
	t     *testing.T
	bin   string
	clock *testClock
	db    *sqldb.DB
	ts    *httptest.Server
	mail  *mailbox
	acme  *tillit.Tenant
	shots string
	cfg   web.Config

	mu      sync.Mutex
	secrets map[string]string // TOTP secrets by e-mail, read from the enrolment page
}

// newBrowserEnv starts the server for a browser test.
func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	bin := browserPath(t)
	e := newConsoleEnv(t, nil)
	e.bin = bin
	return e
}

// newConsoleEnv starts the server; spy, if not nil, sees the events the
// web layer records. The clock starts at the real time, so that a browser
// keeps the cookies whose expiry the server sets by it.
func newConsoleEnv(t *testing.T, spy *spyRecorder) *browserEnv {
	t.Helper()
	e := &browserEnv{t: t, mail: &mailbox{}, secrets: map[string]string{},
		clock: &testClock{t: time.Now().UTC().Truncate(time.Second)}}
	e.shots = os.Getenv("TILLIT_SCREENSHOT_DIR")
	if e.shots == "" {
		e.shots = t.TempDir()
	}
	e.db = sqldbtest.Open(t, sqldb.SQLite, e.clock)
	var h http.Handler
	e.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.ts.Close)
	e.cfg = e.config()
	if spy != nil {
		spy.next, e.cfg.Recorder = e.db, spy
	}
	srv, err := web.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = srv.Handler()
	e.acme = sqldbtest.MustTenant(t, e.db, "acme")
	return e
}

// config returns the server's configuration on e's store.
func (e *browserEnv) config() web.Config {
	e.t.Helper()
	var root [32]byte
	rand.Read(root[:])
	acfg := sqldb.AuthConfig{RootKey: &root, Hasher: password.NewHasher(2), Mailer: e.mail, BaseURL: e.ts.URL}
	auth, err := sqldb.NewAuthService(e.db, acfg)
	if err != nil {
		e.t.Fatal(err)
	}
	accounts, err := sqldb.NewAccountService(e.db, acfg)
	if err != nil {
		e.t.Fatal(err)
	}
	skey, vkey, err := auditlog.GenerateKey()
	if err != nil {
		e.t.Fatal(err)
	}
	receipts, err := receipt.NewSigner(skey) // the platform key signs receipts too
	if err != nil {
		e.t.Fatal(err)
	}
	keys, _ := sqldbtest.Keys(e.t, sqldb.SQLite, e.clock)
	return web.Config{
		Logger: slog.New(slog.DiscardHandler), Clock: e.clock,
		Tenants: sqldb.NewTenantService(e.db), Tokens: sqldb.NewTokenService(e.db),
		Audit: sqldb.NewAuditService(e.db), Recorder: e.db, Ready: e.db.Ready,
		AuditVerifierKey: vkey, Auth: auth, Accounts: accounts, Limiter: e.db,
		People: sqldb.NewPeopleService(e.db, keys).WithReceipts(receipts),
	}
}

// testPassword passes the password policy.
const testPassword = "correct horse battery staple"

// user creates a user of acme with the test password; they enrol a second
// factor at their first sign-in.
func (e *browserEnv) user(email string, role tillit.Role) {
	e.t.Helper()
	_, _, err := e.cfg.Accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{
		Kind: tillit.KindUser, TenantID: e.acme.ID, Email: email, Role: role, Password: testPassword})
	if err != nil {
		e.t.Fatal(err)
	}
}

// code returns the TOTP code of the account for the next time step: the
// clock moves on 30 seconds first, since each code is accepted once.
func (e *browserEnv) code(email string) string {
	e.t.Helper()
	e.mu.Lock()
	secret := e.secrets[email]
	e.mu.Unlock()
	if secret == "" {
		e.t.Fatalf("%s has not enrolled", email)
	}
	e.clock.Add(30 * time.Second)
	c, err := totp.Code(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// browser starts a headless Chromium with a fresh profile and returns a
// tab's context, closed when the test ends.
func (e *browserEnv) browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(e.bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("accept-lang", "nb-NO,nb"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline
		t.Fatalf("start %s: %v", e.bin, err)
	}
	return ctx
}

// do runs actions in the tab, within a minute.
func (e *browserEnv) do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		e.shot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatal(err)
	}
}

// run runs one action in the tab and returns its value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// path returns the path and query of the tab's page.
func (e *browserEnv) path(t *testing.T, ctx context.Context) string {
	t.Helper()
	return strings.TrimPrefix(run(t, ctx, chromedp.Location()), e.ts.URL)
}

// shot saves a screenshot of the whole page as name.png.
func (e *browserEnv) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(e.shots, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fill sets the values of the inputs of the ids and submits with the
// button, waiting for the next page to show wait.
func (e *browserEnv) fill(t *testing.T, ctx context.Context, values map[string]string, submit, wait string) {
	t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for id, v := range values {
		acts = append(acts, chromedp.SetValue(chromedp.ID(id), v))
	}
	acts = append(acts, chromedp.Click(chromedp.CSS(submit)), chromedp.WaitVisible(chromedp.CSS(wait)))
	e.do(t, ctx, acts...)
}

// signIn signs email in through the pages, enrolling TOTP at the first
// sign-in, and ends on the start page.
func (e *browserEnv) signIn(t *testing.T, ctx context.Context, email string) {
	t.Helper()
	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/signin"), chromedp.WaitVisible(chromedp.ID("f-email")))
	e.fill(t, ctx, map[string]string{"f-tenant": "acme", "f-email": email, "f-password": testPassword},
		`form[action="/signin"] button[type="submit"]`, "#f-code")
	if strings.HasPrefix(e.path(t, ctx), "/signin/enroll") {
		e.enroll(t, ctx, email)
		e.do(t, ctx, chromedp.Click(chromedp.CSS("a.button.primary")), chromedp.WaitVisible(chromedp.CSS(".facts")))
		return
	}
	e.fill(t, ctx, map[string]string{"f-code": e.code(email)}, `form[action="/signin/factor"] button`, ".facts")
}

// enroll reads the TOTP secret from the enrolment page, confirms it with a
// code and ends on the recovery codes page.
func (e *browserEnv) enroll(t *testing.T, ctx context.Context, email string) {
	t.Helper()
	secret := run(t, ctx, chromedp.Value(chromedp.CSS(`input[name="secret"]`)))
	shown := run(t, ctx, chromedp.Text(chromedp.CSS(".secret code")))
	if strings.ReplaceAll(shown, " ", "") != secret || secret == "" {
		t.Fatalf("secret shown %q, in the form %q", shown, secret)
	}
	e.mu.Lock()
	e.secrets[email] = secret
	e.mu.Unlock()
	e.fill(t, ctx, map[string]string{"f-code": e.code(email)}, `form[action="/signin/enroll"] button`, "#recovery-codes")
}

// text returns the visible text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(run(t, ctx, chromedp.Text(chromedp.CSS(sel))))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[T](js))
}
