package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

func TestIdleTimeout(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := &tillit.Tenant{Slug: "acme", Name: "Acme AS", Settings: tillit.TenantSettings{SessionIdleMinutes: 5}}
		if err := newTenantService(e).CreateTenant(sqldbtest.System(), acme); err != nil {
			t.Fatal(err)
		}
		p := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader), "acme")
		steps := []struct {
			wait time.Duration
			code string
		}{
			{4 * time.Minute, ""},                      // used within 5 minutes: extended
			{4 * time.Minute, ""},                      // 8 minutes after sign-in, 4 after the last use
			{5*time.Minute - time.Microsecond, ""},     // just inside
			{5 * time.Minute, tillit.EUnauthenticated}, // idle exactly 5 minutes
			{time.Second, tillit.EUnauthenticated},     // and it stays over
		}
		for i, s := range steps {
			e.clock.Add(s.wait)
			if _, err := e.auth.AuthenticateSession(context.Background(), p.secret); code(err) != s.code {
				t.Fatalf("step %d (+%v): %v, want %q", i, s.wait, err, s.code)
			}
		}
		if !e.hasEvent(acme.ID, "session.expire", fmt.Sprintf("user:%d", p.acc.ID), tillit.OutcomeOK) {
			t.Fatal("no session.expire event")
		}
	})
}

func TestIdleTimeoutFollowsTheSetting(t *testing.T) {
	// An idle timeout made shorter applies to sessions at once.
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		p := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader), "acme")
		if err := e.db.SetTenantSettingsForTest(context.Background(), acme.ID, `{"session_idle_minutes":2}`); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(2 * time.Minute)
		if _, err := e.auth.AuthenticateSession(context.Background(), p.secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("session outlived the new idle timeout: %v", err)
		}
	})
}

func TestAbsoluteLifetime(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		op := e.mustSignIn(e.mustAccount(tillit.KindOperator, nil, "ops@vendor.example", ""), "")
		start := e.clock.Now()
		for e.clock.Now().Sub(start) < tillit.SessionLifetime-20*time.Minute {
			e.clock.Add(20 * time.Minute)
			if _, err := e.auth.AuthenticateSession(context.Background(), op.secret); err != nil {
				t.Fatalf("after %v: %v", e.clock.Now().Sub(start), err)
			}
		}
		e.clock.Add(start.Add(tillit.SessionLifetime).Sub(e.clock.Now()))
		if _, err := e.auth.AuthenticateSession(context.Background(), op.secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a session lived past 12 hours: %v", err)
		}
	})
}

func TestOperatorIdle(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		op := e.mustSignIn(e.mustAccount(tillit.KindOperator, nil, "ops@vendor.example", ""), "")
		e.clock.Add(30 * time.Minute)
		if _, err := e.auth.AuthenticateSession(context.Background(), op.secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("an operator's session outlived 30 idle minutes: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		first := e.mustSignIn(acc, "acme")
		e.clock.Add(30 * time.Second)
		res, _ := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		in, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", e.code(first.totp))
		if err != nil {
			t.Fatal(err)
		}
		second := e.session(in.Secret)
		if me, err := e.accounts.CurrentAccount(second); err != nil || me.Email != "kari@example.com" || !me.Active ||
			me.LastSignInAt == nil || len(me.Factors) != 1 {
			t.Fatalf("current account %+v, %v", me, err)
		}
		list, err := e.auth.FindSessions(second)
		if err != nil || len(list) != 2 || !list[0].Current || list[1].Current || list[0].ID != in.Session.ID {
			t.Fatalf("sessions %+v, %v", list, err)
		}
		other := sqldbtest.MustTenant(t, e.db, "other")
		stranger := e.mustSignIn(e.mustAccount(tillit.KindUser, other, "kari@example.com", tillit.RoleReader), "other")
		if err := e.auth.RevokeSession(stranger.ctx, list[1].ID); code(err) != tillit.ENotFound {
			t.Fatalf("revoked another's session: %v", err)
		}
		if n, err := e.auth.RevokeOtherSessions(second); err != nil || n != 1 {
			t.Fatalf("revoke others: %d, %v", n, err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), first.secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("revoked session: %v", err)
		}
		if err := e.auth.Logout(second); err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), in.Secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("session after logout: %v", err)
		}
		_, _, tok := sqldbtest.MustToken(t, e.db, acme, tillit.RoleAdmin)
		if _, err := e.auth.FindSessions(tok); code(err) != tillit.EForbidden {
			t.Fatalf("a token listed sessions: %v", err)
		}
		for _, action := range []string{"session.revoke_others", "auth.logout"} {
			if !e.hasEvent(acme.ID, action, fmt.Sprintf("user:%d", acc.ID), tillit.OutcomeOK) {
				t.Errorf("no %s event", action)
			}
		}
	})
}

func TestStepUp(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		p := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleAdmin), "acme")
		old := p.secret
		if _, err := e.auth.StepUp(p.ctx, "wrong password here", "totp", e.code(p.totp)); code(err) != tillit.EUnauthenticated {
			t.Fatalf("step-up with a wrong password: %v", err)
		}
		e.stepUp(p)
		pr := tillit.PrincipalFromContext(p.ctx)
		if pr.SteppedUpAt == nil || !pr.SteppedUpAt.Equal(e.clock.Now()) || p.secret == old {
			t.Fatalf("stepped-up principal %+v", pr)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), old); code(err) != tillit.EUnauthenticated {
			t.Fatalf("the session before the step-up still works: %v", err)
		}
		if err := tillit.RequireStepUp(p.ctx, e.clock.Now().Add(tillit.StepUpValidity)); err != nil {
			t.Fatalf("step-up not valid for 5 minutes: %v", err)
		}
		if err := tillit.RequireStepUp(p.ctx, e.clock.Now().Add(tillit.StepUpValidity+time.Microsecond)); code(err) != tillit.EStepUp {
			t.Fatalf("step-up valid after 5 minutes: %v", err)
		}
		if !e.hasEvent(acme.ID, "auth.step_up", pr.Actor(), tillit.OutcomeOK) || !e.hasEvent(acme.ID, "auth.step_up_failed", pr.Actor(), tillit.EUnauthenticated) {
			t.Fatal("step-ups are not audited")
		}
	})
}

func TestBlockingEndsSessions(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		admin := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "admin@example.com", tillit.RoleAdmin), "acme")
		owner := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "owner@example.com", tillit.RoleOwner), "acme")
		user := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader), "acme")
		yes, no := true, false
		caseworker, ownerRole := tillit.RoleCaseworker, tillit.RoleOwner
		if _, err := e.accounts.UpdateUser(admin.ctx, user.acc.ID, tillit.AccountUpdate{Blocked: &yes}); code(err) != tillit.EStepUp {
			t.Fatalf("blocked without a step-up: %v", err)
		}
		e.stepUp(admin)
		refusals := []struct {
			name string
			id   int64
			u    tillit.AccountUpdate
			code string
		}{
			{"block an owner", owner.acc.ID, tillit.AccountUpdate{Blocked: &yes}, tillit.EForbidden},
			{"give the owner role", user.acc.ID, tillit.AccountUpdate{Role: &ownerRole}, tillit.EForbidden},
			{"block oneself", admin.acc.ID, tillit.AccountUpdate{Blocked: &yes}, tillit.EInvalid},
			{"nothing", user.acc.ID, tillit.AccountUpdate{}, tillit.EInvalid},
			{"unknown user", 9999, tillit.AccountUpdate{Blocked: &yes}, tillit.ENotFound},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := e.accounts.UpdateUser(admin.ctx, tc.id, tc.u); code(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
			})
		}
		got, err := e.accounts.UpdateUser(admin.ctx, user.acc.ID, tillit.AccountUpdate{Blocked: &yes, Role: &caseworker})
		if err != nil || !got.Blocked || got.Role != caseworker {
			t.Fatalf("block: %+v, %v", got, err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), user.secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a blocked user's session: %v", err)
		}
		if _, err := e.auth.Login(context.Background(), "acme", user.acc.Email, testPassword); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a blocked user signed in: %v", err)
		}
		e.clock.Add(tillit.StepUpValidity + time.Second)
		if _, err := e.accounts.UpdateUser(admin.ctx, user.acc.ID, tillit.AccountUpdate{Blocked: &no}); code(err) != tillit.EStepUp {
			t.Fatalf("unblocked with a step-up over 5 minutes old: %v", err)
		}
		e.stepUp(admin)
		if _, err := e.accounts.UpdateUser(admin.ctx, user.acc.ID, tillit.AccountUpdate{Blocked: &no}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.Login(context.Background(), "acme", user.acc.Email, testPassword); err != nil {
			t.Fatalf("an unblocked user: %v", err)
		}
		if !e.hasEvent(acme.ID, "user.update", tillit.PrincipalFromContext(admin.ctx).Actor(), tillit.OutcomeOK) {
			t.Fatal("no user.update event")
		}
	})
}

func TestTokenCreationNeedsStepUp(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		admin := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "admin@example.com", tillit.RoleAdmin), "acme")
		svc := newTokenService(e)
		c := tillit.TokenCreate{Name: "CRM", Role: tillit.RoleReader}
		if _, _, err := svc.CreateToken(admin.ctx, c); code(err) != tillit.EStepUp {
			t.Fatalf("a token created without a step-up: %v", err)
		}
		e.stepUp(admin)
		if _, _, err := svc.CreateToken(admin.ctx, c); err != nil {
			t.Fatal(err)
		}
		c = tillit.TokenCreate{Name: "ops", Role: tillit.RoleAdmin, Sensitive: true}
		_, _, plain := sqldbtest.MustToken(t, e.db, acme, tillit.RoleAdmin)
		if _, _, err := svc.CreateToken(plain, c); code(err) != tillit.EForbidden {
			t.Fatalf("a token without sensitive permission created a sensitive one: %v", err)
		}
		tok, secret, err := svc.CreateToken(admin.ctx, c)
		if err != nil || !tok.Sensitive {
			t.Fatalf("sensitive token: %+v, %v", tok, err)
		}
		p, err := svc.AuthenticateToken(context.Background(), secret)
		if err != nil || !p.Sensitive {
			t.Fatalf("sensitive token principal %+v, %v", p, err)
		}
		sensitive := tillit.NewContextWithPrincipal(context.Background(), p)
		if _, _, err := svc.CreateToken(sensitive, tillit.TokenCreate{Name: "x", Role: tillit.RoleReader, Sensitive: true}); err != nil {
			t.Fatalf("a sensitive token: %v", err)
		}
		if list, _ := svc.FindTokens(admin.ctx, 0); len(list) != 4 || !list[0].Sensitive || list[3].Sensitive {
			t.Fatalf("tokens %+v", list)
		}
	})
}
