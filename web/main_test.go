package web_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/auditlog"
	"tillit/notify"
	"tillit/notify/smstest"
	"tillit/password"
	"tillit/receipt"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/web"
)

// testClock is a settable clock shared by the store and the server.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a server on a real, fresh store.
type env struct {
	tb     testing.TB
	db     *sqldb.DB
	clock  *testClock
	signer *auditlog.Signer
	vkey   string
	logs   *syncBuffer
	srv    *web.Server
	h      http.Handler
	cfg    web.Config
	mail   *mailbox
	sms    *smstest.Server
}

// newEnv returns a server on a new database of the dialect; modify may
// change its configuration (to wrap a service) before it is built.
func newEnv(tb testing.TB, dialect string, modify ...func(*web.Config)) *env {
	tb.Helper()
	clock := &testClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	db := sqldbtest.Open(tb, dialect, clock)
	skey, vkey, err := auditlog.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := auditlog.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	receipts, err := receipt.NewSigner(skey) // the platform key signs receipts too
	if err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	mail := &mailbox{}
	var root [32]byte
	rand.Read(root[:])
	smsServer := smstest.NewServer(tb)
	sms, err := notify.NewSMSSender(notify.SMSConfig{Provider: notify.ProviderTwilio, BaseURL: smsServer.URL(),
		AccountID: smsServer.AccountID(), Token: smsServer.Token(), From: "+4790000000"}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	acfg := sqldb.AuthConfig{RootKey: &root, Hasher: password.NewHasher(2), Mailer: mail, SMS: sms, BaseURL: "https://localhost:8443"}
	auth, err := sqldb.NewAuthService(db, acfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(auth.Wait)
	accounts, err := sqldb.NewAccountService(db, acfg)
	if err != nil {
		tb.Fatal(err)
	}
	keys, _ := sqldbtest.Keys(tb, dialect, clock)
	cfg := web.Config{
		People:           sqldb.NewPeopleService(db, keys).WithReceipts(receipts),
		Auth:             auth,
		Accounts:         accounts,
		Limiter:          db,
		Logger:           slog.New(slog.NewJSONHandler(logs, nil)),
		Clock:            clock,
		Tenants:          sqldb.NewTenantService(db),
		Tokens:           sqldb.NewTokenService(db),
		Audit:            sqldb.NewAuditService(db),
		Recorder:         db,
		Ready:            db.Ready,
		AuditVerifierKey: vkey,
	}
	for _, m := range modify {
		m(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{tb: tb, db: db, clock: clock, signer: signer, vkey: vkey, logs: logs, srv: srv, h: srv.Handler(), cfg: cfg, mail: mail, sms: smsServer}
}

// eachEngine runs f as a subtest on every database engine.
func eachEngine(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range sqldbtest.Engines(t) {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// tenant creates a tenant.
func (e *env) tenant(slug string) *tillit.Tenant {
	e.tb.Helper()
	return sqldbtest.MustTenant(e.tb, e.db, slug)
}

// token creates a token of the role in the tenant and returns it with its
// secret.
func (e *env) token(t *tillit.Tenant, role tillit.Role) (*tillit.Token, string) {
	e.tb.Helper()
	tok, secret, _ := sqldbtest.MustToken(e.tb, e.db, t, role)
	return tok, secret
}

// reqOption changes a request before it is served.
type reqOption func(*http.Request)

func header(k, v string) reqOption { return func(r *http.Request) { r.Header.Set(k, v) } }

// chunked hides the body's length, as a client streaming it would.
func chunked(r *http.Request) { r.ContentLength = -1 }

// do serves one request: body, if not empty, is sent as application/json;
// secret, if not empty, as a bearer token.
func (e *env) do(method, target, secret, body string, opts ...reqOption) *httptest.ResponseRecorder {
	e.tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// decode decodes a JSON response body strictly into v.
func decode(tb testing.TB, w *httptest.ResponseRecorder, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %s: %v", w.Body.String(), err)
	}
}

// wantStatus fails unless the response has the status.
func wantStatus(tb testing.TB, w *httptest.ResponseRecorder, status int) {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body.String())
	}
}

// wantProblem checks that the response is a well-formed problem with the
// status, code and field, and returns it.
func wantProblem(tb testing.TB, w *httptest.ResponseRecorder, status int, code, field string) web.Problem {
	tb.Helper()
	wantStatus(tb, w, status)
	if ct := w.Header().Get("Content-Type"); ct != web.ProblemContentType {
		tb.Fatalf("Content-Type %q, want %q", ct, web.ProblemContentType)
	}
	var p web.Problem
	decode(tb, w, &p)
	switch {
	case p.Status != status:
		tb.Fatalf("problem status %d, want %d", p.Status, status)
	case p.Code != code:
		tb.Fatalf("problem code %q, want %q: %+v", p.Code, code, p)
	case p.Type != web.ProblemTypePrefix+code:
		tb.Fatalf("problem type %q", p.Type)
	case p.Title == "" || p.Detail == "":
		tb.Fatalf("problem without title or detail: %+v", p)
	case p.Field != field:
		tb.Fatalf("problem field %q, want %q: %+v", p.Field, field, p)
	case p.RequestID == "" || p.RequestID != w.Header().Get("X-Request-Id"):
		tb.Fatalf("problem request_id %q, header %q", p.RequestID, w.Header().Get("X-Request-Id"))
	}
	return p
}

// events returns the events of the tenant's log that match the query, read
// through the API with the secret of a token that may read the audit log.
func (e *env) events(secret, query string) []*tillit.Event {
	e.tb.Helper()
	w := e.do("GET", "/api/v1/audit?"+query, secret, "")
	wantStatus(e.tb, w, http.StatusOK)
	var resp struct {
		Events     []*tillit.Event `json:"events"`
		NextCursor *string         `json:"next_cursor"`
	}
	decode(e.tb, w, &resp)
	return resp.Events
}
