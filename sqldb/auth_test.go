package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

func TestSignInWithTOTPEnrolment(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "Kari.Nordmann@Example.com", tillit.RoleAdmin)
		if acc.Email != "kari.nordmann@example.com" || acc.Active || len(acc.Factors) != 0 {
			t.Fatalf("created %+v", acc)
		}
		res, err := e.auth.Login(context.Background(), "acme", " KARI.nordmann@example.com", testPassword)
		if err != nil || res.Next != tillit.NextEnroll {
			t.Fatalf("login: %+v, %v", res, err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), res.Pending); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a pending sign-in authenticated as a session: %v", err)
		}
		secret, _, err := e.auth.EnrollTOTP(context.Background(), res.Pending)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.ConfirmTOTP(context.Background(), res.Pending, "000000"); code(err) != tillit.EInvalid {
			t.Fatalf("wrong first code: %v", err)
		}
		in, err := e.auth.ConfirmTOTP(context.Background(), res.Pending, e.code(secret))
		if err != nil || len(in.RecoveryCodes) != 10 || in.Secret == "" || in.Secret == res.Pending {
			t.Fatalf("confirm: %+v, %v", in, err)
		}
		if _, _, err := e.auth.EnrollTOTP(context.Background(), res.Pending); code(err) != tillit.EUnauthenticated {
			t.Fatalf("the pending sign-in outlived the sign-in: %v", err)
		}
		p, err := e.auth.AuthenticateSession(context.Background(), in.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if p.IdleUntil == nil || !p.IdleUntil.Equal(e.clock.Now().Add(30*time.Minute)) {
			t.Fatalf("idle until %v, want 30 minutes from now", p.IdleUntil)
		}
		want := tillit.Principal{Kind: tillit.KindUser, ID: acc.ID, TenantID: acme.ID, Role: tillit.RoleAdmin,
			Name: fmt.Sprintf("user:%d", acc.ID), SessionID: in.Session.ID, IdleUntil: p.IdleUntil}
		if *p != want {
			t.Fatalf("principal %+v, want %+v", *p, want)
		}

		// The next sign-in asks for the factor; a code of the next step works.
		e.clock.Add(30 * time.Second)
		res, err = e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if err != nil || res.Next != tillit.NextMFA || !slices.Equal(res.Methods, []string{"totp", "recovery"}) {
			t.Fatalf("second login: %+v, %v", res, err)
		}
		if _, _, err := e.auth.EnrollTOTP(context.Background(), res.Pending); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a pending sign-in that must give a factor enrolled a new one: %v", err)
		}
		in2, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", e.code(secret))
		if err != nil || in2.Session.ID == in.Session.ID {
			t.Fatalf("mfa: %+v, %v", in2, err)
		}
		actor := fmt.Sprintf("user:%d", acc.ID)
		for _, action := range []string{"auth.login", "auth.totp_enroll", "auth.totp_enrolled", "auth.mfa"} {
			if !e.hasEvent(acme.ID, action, actor, tillit.OutcomeOK) {
				t.Errorf("no %s event by %s", action, actor)
			}
		}
	})
}

func TestOperatorSignIn(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		op := e.mustAccount(tillit.KindOperator, nil, "ops@vendor.example", "")
		p := e.mustSignIn(op, "")
		pr := tillit.PrincipalFromContext(p.ctx)
		if pr.Kind != tillit.KindOperator || pr.TenantID != 0 || pr.Role != "" || pr.Name != fmt.Sprintf("operator:%d", op.ID) {
			t.Fatalf("operator principal %+v", pr)
		}
		if !e.hasEvent(tillit.OperatorLog, "auth.totp_enrolled", pr.Actor(), tillit.OutcomeOK) {
			t.Fatal("the operator's sign-in is not in the operator log")
		}
		// An operator's e-mail is not a user's of some tenant, nor the other way.
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		if _, err := e.auth.Login(context.Background(), "acme", op.Email, testPassword); code(err) != tillit.EUnauthenticated {
			t.Fatalf("an operator signed in to a tenant: %v", err)
		}
		e.mustAccount(tillit.KindUser, acme, "ops@vendor.example", tillit.RoleReader)
	})
}

func TestLoginFailuresLookAlike(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		blocked := e.mustAccount(tillit.KindUser, acme, "blocked@example.com", tillit.RoleReader)
		if _, err := e.db.ExecForTest(context.Background(), `UPDATE accounts SET blocked = $1 WHERE id = $2`, true, blocked.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindUser, TenantID: acme.ID,
			Email: "invited@example.com", Role: tillit.RoleReader}); err != nil {
			t.Fatal(err)
		}
		tests := []struct{ name, tenant, email, password string }{
			{"wrong password", "acme", "kari@example.com", "wrong password here"},
			{"unknown account", "acme", "nobody@example.com", testPassword},
			{"unknown tenant", "nope", "kari@example.com", testPassword},
			{"operator that is not", "", "kari@example.com", testPassword},
			{"blocked account, right password", "acme", "blocked@example.com", testPassword},
			{"invited, no password yet", "acme", "invited@example.com", testPassword},
			{"not an e-mail address", "acme", "kari", testPassword},
			{"empty", "", "", ""},
		}
		var first error
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.auth.Login(context.Background(), tt.tenant, tt.email, tt.password)
				if code(err) != tillit.EUnauthenticated {
					t.Fatalf("got %v", err)
				}
				if first == nil {
					first = err
				}
				if tillit.ErrorMessage(err) != tillit.ErrorMessage(first) || tillit.ErrorField(err) != "" {
					t.Fatalf("message %q differs from %q", tillit.ErrorMessage(err), tillit.ErrorMessage(first))
				}
			})
		}
		if !e.hasEvent(acme.ID, "auth.login_failed", "anonymous", tillit.EUnauthenticated) ||
			!e.hasEvent(tillit.OperatorLog, "auth.login_failed", "anonymous", tillit.EUnauthenticated) {
			t.Fatal("failed sign-ins with unknown accounts are not audited")
		}
	})
}

// failLogins makes n more failed sign-ins after from earlier ones, and
// checks that from the fifth each slows the next attempt down, twice as
// long each time, moving the clock past each delay.
func failLogins(t *testing.T, e *authEnv, tenant, email string, from, n int) {
	t.Helper()
	for i := from + 1; i <= from+n; i++ {
		_, err := e.auth.Login(context.Background(), tenant, email, "wrong password here")
		if code(err) != tillit.EUnauthenticated {
			t.Fatalf("failure %d: %v", i, err)
		}
		if i >= tillit.SlowdownThreshold && i < tillit.LockoutThreshold {
			_, err := e.auth.Login(context.Background(), tenant, email, testPassword)
			want := time.Second << (i - tillit.SlowdownThreshold)
			if code(err) != tillit.ETooMany || tillit.RetryAfter(err) != want {
				t.Fatalf("after %d failures: %v (retry after %v), want too many, %v", i, err, tillit.RetryAfter(err), want)
			}
			e.clock.Add(want)
		}
	}
}

func TestLockout(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		failLogins(t, e, "acme", acc.Email, 0, tillit.SlowdownThreshold-1)
		if _, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword); err != nil {
			t.Fatalf("4 failures slowed the account down: %v", err)
		}
		failLogins(t, e, "acme", acc.Email, tillit.SlowdownThreshold-1, tillit.LockoutThreshold-tillit.SlowdownThreshold+1)
		_, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if code(err) != tillit.ETooMany || tillit.RetryAfter(err) != tillit.LockoutDuration {
			t.Fatalf("locked account: %v, retry after %v", err, tillit.RetryAfter(err))
		}
		e.auth.Wait()
		mails := e.mail.sent()
		if len(mails) != 1 || mails[0].To != acc.Email {
			t.Fatalf("lockout mails %+v", mails)
		}
		if !e.hasEvent(acme.ID, "auth.lockout", fmt.Sprintf("user:%d", acc.ID), tillit.OutcomeOK) {
			t.Fatal("no lockout event")
		}
		e.clock.Add(tillit.LockoutDuration)
		e.mustSignIn(acc, "acme")
		// A full sign-in starts the count again.
		failLogins(t, e, "acme", acc.Email, 0, tillit.SlowdownThreshold-1)
		if _, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword); err != nil {
			t.Fatalf("the count did not start again: %v", err)
		}
	})
}

func TestUnknownAddressLocksAlike(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		sqldbtest.MustTenant(t, e.db, "acme")
		failLogins(t, e, "acme", "nobody@example.com", 0, tillit.LockoutThreshold)
		_, err := e.auth.Login(context.Background(), "acme", "Nobody@example.com", testPassword)
		if code(err) != tillit.ETooMany || tillit.RetryAfter(err) != tillit.LockoutDuration {
			t.Fatalf("an unknown address is not locked like an account: %v", err)
		}
		e.auth.Wait()
		if n := len(e.mail.sent()); n != 0 {
			t.Fatalf("%d mails for an unknown address", n)
		}
	})
}

func TestAdminUnlocks(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		failLogins(t, e, "acme", acc.Email, 0, tillit.LockoutThreshold)
		_, _, admin := sqldbtest.MustToken(t, e.db, acme, tillit.RoleAdmin)
		got, err := e.accounts.UpdateUser(admin, acc.ID, tillit.AccountUpdate{Unlock: true})
		if err != nil || got.LockedUntil != nil {
			t.Fatalf("unlock: %+v, %v", got, err)
		}
		if _, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword); err != nil {
			t.Fatalf("unlocked account: %v", err)
		}
	})
}

func TestSecondFactorFailuresCount(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		e.mustSignIn(acc, "acme")
		res, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tillit.SlowdownThreshold {
			if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", "000000"); code(err) != tillit.EUnauthenticated {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "recovery", "x"); code(err) != tillit.ETooMany {
			t.Fatalf("after 5 wrong codes: %v", err)
		}
		if !e.hasEvent(acme.ID, "auth.mfa_failed", fmt.Sprintf("user:%d", acc.ID), tillit.EUnauthenticated) {
			t.Fatal("no auth.mfa_failed event")
		}
	})
}

func TestTOTPReplayRefused(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		p := e.mustSignIn(acc, "acme")
		used := e.code(p.totp) // the code that confirmed the enrolment
		res, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", used); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a used code was accepted again: %v", err)
		}
		e.clock.Add(30 * time.Second)
		fresh := e.code(p.totp)
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", fresh); err != nil {
			t.Fatalf("a fresh code: %v", err)
		}
		res, _ = e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", fresh); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a code was accepted twice: %v", err)
		}
	})
}

func TestRecoveryCodeSingleUse(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		p := e.mustSignIn(acc, "acme")
		typed := strings.ToUpper(strings.ReplaceAll(p.recovery[3], "-", " "))
		for i, want := range []string{"", tillit.EUnauthenticated} {
			res, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "recovery", typed); code(err) != want {
				t.Fatalf("use %d of a recovery code: %v, want %q", i+1, err, want)
			}
		}
	})
}
