package sqldb_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

func TestPasskeyEnrolmentAtFirstSignIn(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleAdmin)
		res := e.login(acc, "acme")
		if _, err := e.passkeys.BeginLogin(context.Background(), res.Pending); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a sign-in that must enrol began a passkey login: %v", err)
		}
		raw, err := e.passkeys.BeginRegistration(context.Background(), res.Pending)
		if err != nil {
			t.Fatal(err)
		}
		o := parseOptions(t, raw)
		handle, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
		if err != nil || len(handle) != 32 || strings.Contains(string(handle), "kari") || o.PublicKey.RP.ID != testRPID ||
			o.PublicKey.Attestation != "none" || len(o.PublicKey.Challenge) < 22 {
			t.Fatalf("creation options %s", raw)
		}
		wantStoredChallenge(t, e, o.PublicKey.Challenge, "kari")
		a := sqldbtest.NewAuthenticator(testOrigin)
		resp := a.Create(t, raw)
		if _, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, resp, strings.Repeat("x", 65)); code(err) != tillit.EInvalid || tillit.ErrorField(err) != "name" {
			t.Fatalf("a 65-character name: %v", err)
		}
		in, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, resp, "YubiKey 5")
		if err != nil || len(in.RecoveryCodes) != 10 || in.Secret == "" || in.Session == nil {
			t.Fatalf("finish registration: %+v, %v", in, err)
		}
		if _, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, resp, "again"); code(err) != tillit.EUnauthenticated {
			t.Fatalf("the pending sign-in outlived the sign-in: %v", err)
		}
		ctx := e.session(in.Secret)
		me, err := e.accounts.CurrentAccount(ctx)
		if err != nil || !me.Active || !slices.Equal(me.Factors, []string{tillit.FactorPasskey}) {
			t.Fatalf("account after enrolment: %+v, %v", me, err)
		}

		// The next sign-in asks for the passkey, with the same user handle.
		res = e.login(acc, "acme")
		if res.Next != tillit.NextMFA || !slices.Equal(res.Methods, []string{tillit.FactorPasskey, tillit.FactorRecovery}) {
			t.Fatalf("second login: %+v", res)
		}
		raw, err = e.passkeys.BeginLogin(context.Background(), res.Pending)
		if err != nil {
			t.Fatal(err)
		}
		o = parseOptions(t, raw)
		if !slices.Equal(ids(o.PublicKey.Allow), []string{b64(a.IDs()[0])}) || o.PublicKey.UserVerification != "preferred" {
			t.Fatalf("request options %s", raw)
		}
		in2, err := e.passkeys.FinishLogin(context.Background(), res.Pending, a.Get(t, raw))
		if err != nil || in2.Session.ID == in.Session.ID || len(in2.RecoveryCodes) != 0 {
			t.Fatalf("finish login: %+v, %v", in2, err)
		}
		e.session(in2.Secret)
		actor := fmt.Sprintf("user:%d", acc.ID)
		for _, action := range []string{"auth.passkey_enroll", "auth.passkey_enrolled", "auth.passkey_login_begin", "auth.mfa"} {
			if !e.hasEvent(acme.ID, action, actor, tillit.OutcomeOK) {
				t.Errorf("no %s event by %s", action, actor)
			}
		}
		if f := e.eventFields(acme.ID, "auth.mfa", tillit.OutcomeOK); len(f) != 1 || !slices.Equal(f[0], []string{"passkey"}) {
			t.Errorf("auth.mfa fields %v", f)
		}
		if f := e.eventFields(acme.ID, "auth.passkey_enrolled", tillit.OutcomeOK); len(f) != 1 ||
			!slices.Equal(f[0], []string{"passkey", "name", "recovery", "session"}) {
			t.Errorf("auth.passkey_enrolled fields %v", f)
		}
	})
}

// wantStoredChallenge checks that the challenge is stored, without the
// e-mail address the options show, and that the user handle stored is 32
// bytes.
func wantStoredChallenge(t *testing.T, e *passkeyEnv, challenge, email string) {
	t.Helper()
	for q, want := range map[string]int64{
		`UPDATE webauthn_challenges SET kind = kind WHERE session_data LIKE '%` + challenge + `%'`: 1,
		`UPDATE webauthn_challenges SET kind = kind WHERE session_data LIKE '%` + email + `%'`:     0,
		`UPDATE webauthn_users SET user_handle = user_handle WHERE length(user_handle) = 32`:       1,
	} {
		if n, err := e.db.ExecForTest(context.Background(), q); err != nil || n != want {
			t.Fatalf("%s: %d rows, %v", q, n, err)
		}
	}
}

// TestPasskeyVariants: packed self attestation, an authenticator that
// keeps no signature counter, and a recovery code of a passkey-only
// account.
func TestPasskeyVariants(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acc := e.mustAccount(tillit.KindOperator, nil, "ops@example.com", "")
		res := e.login(acc, "")
		raw, err := e.passkeys.BeginRegistration(context.Background(), res.Pending)
		if err != nil {
			t.Fatal(err)
		}
		a := sqldbtest.NewAuthenticator(testOrigin)
		a.Format, a.NoCount = "packed", true
		in, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, a.Create(t, raw), "")
		if err != nil {
			t.Fatalf("packed self attestation: %v", err)
		}
		res = e.login(acc, "")
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, tillit.FactorRecovery, in.RecoveryCodes[0]); err != nil {
			t.Fatalf("a recovery code of a passkey-only account: %v", err)
		}
		for range 2 {
			if _, err := e.passkeyLogin(acc, "", a); err != nil {
				t.Fatalf("passkey login without a counter: %v", err)
			}
		}
	})
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acc := e.mustAccount(tillit.KindOperator, nil, "ops@example.com", "")
		res := e.login(acc, "")
		raw, err := e.passkeys.BeginRegistration(context.Background(), res.Pending)
		if err != nil {
			t.Fatal(err)
		}
		evil := sqldbtest.NewAuthenticator("https://tillit.test.evil.example")
		_, err = e.passkeys.FinishRegistration(context.Background(), res.Pending, evil.Create(t, raw), "")
		if code(err) != tillit.EInvalid || tillit.ErrorField(err) != "credential" {
			t.Fatalf("registration from another origin: %v", err)
		}
		a := sqldbtest.NewAuthenticator(testOrigin)
		if _, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, a.Create(t, raw), ""); code(err) != tillit.EInvalid {
			t.Fatalf("the challenge was used twice: %v", err)
		}
		if _, err := e.passkeys.FinishRegistration(context.Background(), res.Pending, []byte(`{"id":"x"}`), ""); code(err) != tillit.EInvalid {
			t.Fatalf("garbage: %v", err)
		}
		if !e.hasEvent(tillit.OperatorLog, "auth.passkey_enroll_failed", fmt.Sprintf("operator:%d", acc.ID), tillit.EInvalid) {
			t.Error("refused registrations are not audited")
		}
		if _, err := e.passkeys.BeginRegistration(context.Background(), ""); code(err) != tillit.EUnauthenticated {
			t.Fatalf("registration without a sign-in: %v", err)
		}
		if _, err := e.passkeys.BeginRegistration(context.Background(), "unknown"); code(err) != tillit.EUnauthenticated {
			t.Fatalf("registration with an unknown sign-in: %v", err)
		}
	})
}

func TestPasskeyConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  sqldb.PasskeyConfig
		ok   bool
	}{
		{"domain", sqldb.PasskeyConfig{RPID: "tillit.example", RPOrigins: []string{"https://tillit.example"}}, true},
		{"subdomain origin", sqldb.PasskeyConfig{RPID: "example.com", RPOrigins: []string{"https://console.example.com:8443/"}}, true},
		{"localhost http", sqldb.PasskeyConfig{RPID: "localhost", RPOrigins: []string{"http://localhost:8080"}}, true},
		{"no id", sqldb.PasskeyConfig{RPOrigins: []string{"https://tillit.example"}}, false},
		{"id with scheme", sqldb.PasskeyConfig{RPID: "https://tillit.example", RPOrigins: []string{"https://tillit.example"}}, false},
		{"no origin", sqldb.PasskeyConfig{RPID: "tillit.example"}, false},
		{"plain http", sqldb.PasskeyConfig{RPID: "tillit.example", RPOrigins: []string{"http://tillit.example"}}, false},
		{"other domain", sqldb.PasskeyConfig{RPID: "tillit.example", RPOrigins: []string{"https://eviltillit.example"}}, false},
		{"path", sqldb.PasskeyConfig{RPID: "tillit.example", RPOrigins: []string{"https://tillit.example/console"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok || (err != nil && code(err) != tillit.EInvalid) {
				t.Fatalf("validate: %v", err)
			}
		})
	}
}
