package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// wantRefused fails unless err is the refusal of a passkey.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	if code(err) != tillit.EUnauthenticated || tillit.ErrorField(err) != "credential" {
		t.Fatalf("%s: %v, want a refused passkey", what, err)
	}
}

func TestPasskeyLoginRefusals(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		kari := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleAdmin)
		ola := e.mustAccount(tillit.KindUser, acme, "ola@example.com", tillit.RoleReader)
		_, key := e.mustEnrolPasskey(kari, "acme")
		_, olaKey := e.mustEnrolPasskey(ola, "acme")
		ctx := context.Background()

		t.Run("wrong origin", func(t *testing.T) {
			res := e.login(kari, "acme")
			opts, err := e.passkeys.BeginLogin(ctx, res.Pending)
			if err != nil {
				t.Fatal(err)
			}
			phished := key.Clone()
			phished.Origin = "https://tillit-login.example"
			_, err = e.passkeys.FinishLogin(ctx, res.Pending, phished.Get(t, opts))
			wantRefused(t, "another origin", err)
			_, err = e.passkeys.FinishLogin(ctx, res.Pending, key.Get(t, opts))
			wantRefused(t, "the right passkey on a challenge used up", err)
		})
		t.Run("replayed and old challenges", func(t *testing.T) {
			res := e.login(kari, "acme")
			opts, _ := e.passkeys.BeginLogin(ctx, res.Pending)
			resp := key.Get(t, opts)
			if _, err := e.passkeys.FinishLogin(ctx, res.Pending, resp); err != nil {
				t.Fatal(err)
			}
			res = e.login(kari, "acme")
			_, err := e.passkeys.FinishLogin(ctx, res.Pending, resp)
			wantRefused(t, "a replayed assertion without a challenge", err)
			if _, err := e.passkeys.BeginLogin(ctx, res.Pending); err != nil {
				t.Fatal(err)
			}
			_, err = e.passkeys.FinishLogin(ctx, res.Pending, resp)
			wantRefused(t, "a replayed assertion with a new challenge", err)
			opts, _ = e.passkeys.BeginLogin(ctx, res.Pending)
			e.clock.Add(tillit.PasskeyChallengeTTL)
			_, err = e.passkeys.FinishLogin(ctx, res.Pending, key.Get(t, opts))
			wantRefused(t, "a challenge 5 minutes old", err)
		})
		t.Run("sign count goes back", func(t *testing.T) {
			clone := key.Clone()
			for range 2 {
				e.clock.Add(time.Minute)
				if _, err := e.passkeyLogin(kari, "acme", key); err != nil {
					t.Fatal(err)
				}
			}
			_, err := e.passkeyLogin(kari, "acme", clone)
			wantRefused(t, "a cloned authenticator", err)
			if f := e.eventFields(acme.ID, "auth.mfa_failed", tillit.EUnauthenticated); !slices.ContainsFunc(f, func(f []string) bool {
				return slices.Equal(f, []string{"passkey", "sign_count"})
			}) {
				t.Fatalf("the clone is not audited as such: %v", f)
			}
		})
		t.Run("another account's passkey", func(t *testing.T) {
			_, err := e.passkeyLogin(kari, "acme", olaKey)
			wantRefused(t, "ola's passkey for kari", err)
		})
		t.Run("no passkey", func(t *testing.T) {
			p := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "per@example.com", tillit.RoleReader), "acme")
			res := e.login(p.acc, "acme")
			if _, err := e.passkeys.BeginLogin(ctx, res.Pending); code(err) != tillit.EForbidden {
				t.Fatalf("passkey login of an account without one: %v", err)
			}
		})
		if _, err := e.passkeyLogin(kari, "acme", key); err != nil {
			t.Fatalf("the real passkey after the refusals: %v", err)
		}
	})
}

func TestPasskeyFailuresLock(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acc := e.mustAccount(tillit.KindOperator, nil, "ops@example.com", "")
		_, key := e.mustEnrolPasskey(acc, "")
		phished := key.Clone()
		phished.Origin = "https://evil.example"
		for i := range tillit.LockoutThreshold {
			e.clock.Add(time.Minute)
			_, err := e.passkeyLogin(acc, "", phished)
			wantRefused(t, fmt.Sprintf("attempt %d", i+1), err)
		}
		e.clock.Add(time.Minute)
		if _, err := e.auth.Login(context.Background(), "", acc.Email, testPassword); code(err) != tillit.ETooMany {
			t.Fatalf("login after %d refused passkeys: %v", tillit.LockoutThreshold, err)
		}
		if !e.hasEvent(tillit.OperatorLog, "auth.lockout", fmt.Sprintf("operator:%d", acc.ID), tillit.OutcomeOK) {
			t.Fatal("the lockout is not audited")
		}
		e.auth.Wait()
		if len(e.mail.sent()) != 1 {
			t.Fatalf("%d mails, want the lockout notice", len(e.mail.sent()))
		}
	})
}

func TestPasskeyStepUpAndSecondKey(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newPasskeyEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		p := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleAdmin), "acme")
		if _, err := e.passkeys.BeginRegistration(p.ctx, ""); code(err) != tillit.EStepUp {
			t.Fatalf("adding a passkey without a step-up: %v", err)
		}
		if _, err := e.passkeys.BeginStepUp(p.ctx); code(err) != tillit.EForbidden {
			t.Fatalf("passkey step-up without a passkey: %v", err)
		}
		e.stepUp(p)
		raw, err := e.passkeys.BeginRegistration(p.ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		key := sqldbtest.NewAuthenticator(testOrigin)
		in, err := e.passkeys.FinishRegistration(p.ctx, "", key.Create(t, raw), "Laptop")
		if err != nil || in.Secret != "" || in.RecoveryCodes != nil {
			t.Fatalf("adding a passkey when signed in: %+v, %v", in, err)
		}
		if me, _ := e.accounts.CurrentAccount(p.ctx); !slices.Equal(me.Factors, []string{tillit.FactorTOTP, tillit.FactorPasskey}) {
			t.Fatalf("factors %v", me.Factors)
		}
		raw, _ = e.passkeys.BeginRegistration(p.ctx, "")
		if o := parseOptions(t, raw); !slices.Equal(ids(o.PublicKey.Exclude), []string{b64(key.IDs()[0])}) {
			t.Fatalf("the registered passkey is not excluded: %s", raw)
		}

		e.clock.Add(tillit.StepUpValidity + time.Second)
		opts, err := e.passkeys.BeginStepUp(p.ctx)
		if err != nil || parseOptions(t, opts).PublicKey.UserVerification != "required" {
			t.Fatalf("begin step-up: %s, %v", opts, err)
		}
		noPIN := key.Clone()
		noPIN.NoUV = true
		_, err = e.passkeys.FinishStepUp(p.ctx, noPIN.Get(t, opts))
		wantRefused(t, "a step-up without user verification", err)

		old := p.secret
		opts, _ = e.passkeys.BeginStepUp(p.ctx)
		in, err = e.passkeys.FinishStepUp(p.ctx, key.Get(t, opts))
		if err != nil || in.Session.SteppedUpAt == nil || !in.Session.SteppedUpAt.Equal(e.clock.Now()) {
			t.Fatalf("finish step-up: %+v, %v", in, err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), old); code(err) != tillit.EUnauthenticated {
			t.Fatalf("the session before the step-up still works: %v", err)
		}
		if err := tillit.RequireStepUp(e.session(in.Secret), e.clock.Now()); err != nil {
			t.Fatalf("not stepped up: %v", err)
		}
		actor := tillit.PrincipalFromContext(p.ctx).Actor()
		if !e.hasEvent(acme.ID, "auth.step_up_failed", actor, tillit.EUnauthenticated) {
			t.Error("the refused step-up is not audited")
		}
		if f := e.eventFields(acme.ID, "auth.step_up", tillit.OutcomeOK); !slices.ContainsFunc(f, func(f []string) bool {
			return slices.Equal(f, []string{"passkey"})
		}) {
			t.Errorf("step-up events %v", f)
		}
		res := e.login(p.acc, "acme")
		if !slices.Equal(res.Methods, []string{tillit.FactorTOTP, tillit.FactorPasskey, tillit.FactorRecovery}) {
			t.Fatalf("methods %v", res.Methods)
		}
	})
}
