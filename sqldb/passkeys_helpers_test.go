package sqldb_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// The relying party of the passkey tests.
const (
	testRPID   = "tillit.test"
	testOrigin = "https://tillit.test"
)

// passkeyEnv is an authEnv with the passkey service.
type passkeyEnv struct {
	*authEnv
	passkeys *sqldb.PasskeyService
}

func newPasskeyEnv(t *testing.T, dialect string) *passkeyEnv {
	t.Helper()
	e := newAuthEnv(t, dialect)
	svc, err := sqldb.NewPasskeyService(e.auth, sqldb.PasskeyConfig{RPID: testRPID, RPOrigins: []string{testOrigin + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	return &passkeyEnv{authEnv: e, passkeys: svc}
}

// login signs in with the password and returns the pending sign-in.
func (e *passkeyEnv) login(acc *tillit.Account, slug string) *tillit.LoginResult {
	e.t.Helper()
	res, err := e.auth.Login(context.Background(), slug, acc.Email, testPassword)
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	return res
}

// mustEnrolPasskey signs in an account that has no factor yet by
// registering a passkey on a new authenticator, and returns both.
func (e *passkeyEnv) mustEnrolPasskey(acc *tillit.Account, slug string) (*person, *sqldbtest.Authenticator) {
	e.t.Helper()
	res := e.login(acc, slug)
	if res.Next != tillit.NextEnroll {
		e.t.Fatalf("login: %+v", res)
	}
	opts, err := e.passkeys.BeginRegistration(context.Background(), res.Pending)
	if err != nil {
		e.t.Fatalf("begin registration: %v", err)
	}
	a := sqldbtest.NewAuthenticator(testOrigin)
	in, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, a.Create(e.t, opts), " YubiKey ")
	if err != nil {
		e.t.Fatalf("finish registration: %v", err)
	}
	p := &person{acc: acc, slug: slug, secret: in.Secret, recovery: in.RecoveryCodes}
	p.ctx = e.session(in.Secret)
	return p, a
}

// passkeyLogin signs in with the password and answers the passkey
// challenge with a; it returns the pending sign-in and the outcome.
func (e *passkeyEnv) passkeyLogin(acc *tillit.Account, slug string, a *sqldbtest.Authenticator) (*tillit.SignIn, error) {
	e.t.Helper()
	res := e.login(acc, slug)
	opts, err := e.passkeys.BeginLogin(context.Background(), res.Pending)
	if err != nil {
		e.t.Fatalf("begin login: %v", err)
	}
	return e.passkeys.FinishLogin(context.Background(), res.Pending, a.Get(e.t, opts))
}

// publicKeyOptions is what the tests read of WebAuthn options.
type publicKeyOptions struct {
	PublicKey struct {
		RP struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		User struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"user"`
		Challenge        string `json:"challenge"`
		Attestation      string `json:"attestation"`
		UserVerification string `json:"userVerification"`
		Exclude          []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseOptions(t *testing.T, raw json.RawMessage) publicKeyOptions {
	t.Helper()
	var o publicKeyOptions
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return o
}

// ids returns the credential ids of a list of descriptors.
func ids(list []struct {
	ID string `json:"id"`
}) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.ID)
	}
	return out
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// eventFields returns the fields of the log's events of the action.
func (e *passkeyEnv) eventFields(log int64, action, outcome string) [][]string {
	var out [][]string
	for _, ev := range e.events(log) {
		if ev.Action == action && ev.Outcome == outcome {
			out = append(out, ev.Fields)
		}
	}
	return out
}
