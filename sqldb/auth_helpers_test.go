package sqldb_test

import (
	"context"
	"crypto/rand"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/password"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/totp"
)

// testPassword passes the password policy.
const testPassword = "correct horse battery staple"

// hasher is shared by the tests: argon2id at its real cost.
var hasher = password.NewHasher(4)

// recordingMailer keeps the mails it is asked to send.
type recordingMailer struct {
	mu    sync.Mutex
	mails []tillit.Mail
	fail  error
}

func (m *recordingMailer) Send(_ context.Context, mail tillit.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.mails = append(m.mails, mail)
	return nil
}

// sent returns the mails sent so far.
func (m *recordingMailer) sent() []tillit.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]tillit.Mail(nil), m.mails...)
}

// recordingSMS keeps the text messages it is asked to send.
type recordingSMS struct {
	mu   sync.Mutex
	sent []tillit.SMS
}

func (s *recordingSMS) SendSMS(_ context.Context, m tillit.SMS) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func (s *recordingSMS) last(t *testing.T) tillit.SMS {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		t.Fatal("no SMS sent")
	}
	return s.sent[len(s.sent)-1]
}

// authEnv is a store with the account and sign-in services, a fake clock,
// and recording mailer and SMS sender.
type authEnv struct {
	t        *testing.T
	dialect  string
	url      string
	db       *sqldb.DB
	clock    *fakeClock
	accounts *sqldb.AccountService
	auth     *sqldb.AuthService
	mail     *recordingMailer
	sms      *recordingSMS
}

func newAuthEnv(t *testing.T, dialect string) *authEnv {
	t.Helper()
	e := &authEnv{t: t, dialect: dialect, url: sqldbtest.URL(t, dialect), clock: newClock(),
		mail: &recordingMailer{}, sms: &recordingSMS{}}
	e.db = sqldbtest.OpenURL(t, e.url, e.clock)
	root := new([32]byte)
	rand.Read(root[:])
	cfg := sqldb.AuthConfig{RootKey: root, Hasher: hasher, Mailer: e.mail, SMS: e.sms, BaseURL: "https://tillit.test/"}
	var err error
	if e.accounts, err = sqldb.NewAccountService(e.db, cfg); err != nil {
		t.Fatal(err)
	}
	if e.auth, err = sqldb.NewAuthService(e.db, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.auth.Wait)
	return e
}

// mustAccount creates an account with testPassword as the system.
func (e *authEnv) mustAccount(kind tillit.PrincipalKind, tenant *tillit.Tenant, email string, role tillit.Role) *tillit.Account {
	e.t.Helper()
	c := tillit.AccountCreate{Kind: kind, Email: email, Role: role, Password: testPassword}
	if tenant != nil {
		c.TenantID = tenant.ID
	}
	acc, _, err := e.accounts.CreateAccount(sqldbtest.System(), c)
	if err != nil {
		e.t.Fatalf("create %s: %v", email, err)
	}
	return acc
}

// person is a signed-in account: its session secret, TOTP secret and a
// context acting as it.
type person struct {
	acc      *tillit.Account
	slug     string
	secret   string // the session's
	totp     string
	recovery []string
	ctx      context.Context
}

// mustSignIn signs in an account that has no factor yet: password, TOTP
// enrolment, first code.
func (e *authEnv) mustSignIn(acc *tillit.Account, slug string) *person {
	e.t.Helper()
	res, err := e.auth.Login(context.Background(), slug, acc.Email, testPassword)
	if err != nil || res.Next != tillit.NextEnroll || res.Pending == "" {
		e.t.Fatalf("login: %+v, %v", res, err)
	}
	secret, url, err := e.auth.EnrollTOTP(context.Background(), res.Pending)
	if err != nil || !strings.HasPrefix(url, "otpauth://totp/") {
		e.t.Fatalf("enrol: %q, %v", url, err)
	}
	in, err := e.auth.ConfirmTOTP(context.Background(), res.Pending, e.code(secret))
	if err != nil {
		e.t.Fatalf("confirm: %v", err)
	}
	p := &person{acc: acc, slug: slug, secret: in.Secret, totp: secret, recovery: in.RecoveryCodes}
	p.ctx = e.session(in.Secret)
	return p
}

// code returns the TOTP code of secret now.
func (e *authEnv) code(secret string) string {
	e.t.Helper()
	c, err := totp.Code(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// session returns a context acting as the session of secret.
func (e *authEnv) session(secret string) context.Context {
	e.t.Helper()
	p, err := e.auth.AuthenticateSession(context.Background(), secret)
	if err != nil {
		e.t.Fatalf("authenticate session: %v", err)
	}
	return tillit.NewContextWithPrincipal(context.Background(), p)
}

// stepUp steps the person up with a fresh TOTP code (the clock moves on a
// step first) and switches it to the new session.
func (e *authEnv) stepUp(p *person) {
	e.t.Helper()
	e.clock.Add(30 * time.Second)
	in, err := e.auth.StepUp(p.ctx, testPassword, tillit.FactorTOTP, e.code(p.totp))
	if err != nil {
		e.t.Fatalf("step up: %v", err)
	}
	p.secret = in.Secret
	p.ctx = e.session(in.Secret)
}

// fragmentRE finds the one-time token in a link's fragment.
var fragmentRE = regexp.MustCompile(`https://tillit\.test/(invite|reset)#([A-Za-z0-9_-]+)`)

// linkToken returns the page and token of the link in a mail body.
func linkToken(t *testing.T, body string) (page, token string) {
	t.Helper()
	m := fragmentRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link with a token in its fragment in %q", body)
	}
	return m[1], m[2]
}

// events returns the events of a log, oldest first.
func (e *authEnv) events(log int64) []*tillit.Event {
	e.t.Helper()
	var out []*tillit.Event
	after := int64(-1)
	for {
		batch, err := e.db.FindEventsForTest(context.Background(), tillit.EventFilter{Log: log, After: after, Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].Index
	}
}

// hasEvent reports whether the log has an event of the action by actor
// with the outcome.
func (e *authEnv) hasEvent(log int64, action, actor, outcome string) bool {
	for _, ev := range e.events(log) {
		if ev.Action == action && ev.Actor == actor && ev.Outcome == outcome {
			return true
		}
	}
	return false
}

func newTenantService(e *authEnv) *sqldb.TenantService { return sqldb.NewTenantService(e.db) }

func newTokenService(e *authEnv) *sqldb.TokenService { return sqldb.NewTokenService(e.db) }
