package sqldb_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

func TestCreateAccount(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		beta := sqldbtest.MustTenant(t, e.db, "beta")
		_, _, admin := sqldbtest.MustToken(t, e.db, acme, tillit.RoleAdmin)
		_, _, owner := sqldbtest.MustToken(t, e.db, acme, tillit.RoleOwner)
		_, _, reader := sqldbtest.MustToken(t, e.db, acme, tillit.RoleReader)
		user := func(email string, role tillit.Role, pw string) tillit.AccountCreate {
			return tillit.AccountCreate{Kind: tillit.KindUser, Email: email, Role: role, Password: pw}
		}
		tests := []struct {
			name  string
			ctx   context.Context
			c     tillit.AccountCreate
			code  string
			field string
		}{
			{"admin invites a caseworker", admin, user("a@example.com", tillit.RoleCaseworker, ""), "", ""},
			{"admin sets a password", admin, user("b@example.com", tillit.RoleCaseworker, testPassword), "", ""},
			{"inviting an admin needs a step-up", admin, user("b2@example.com", tillit.RoleAdmin, ""), tillit.EForbidden, ""},
			{"same address, other case", admin, user(" A@Example.COM ", tillit.RoleReader, ""), tillit.EConflict, "email"},
			{"admin may not give owner", admin, user("c@example.com", tillit.RoleOwner, ""), tillit.EForbidden, "role"},
			{"owner gives owner, without a step-up", owner, user("c@example.com", tillit.RoleOwner, ""), tillit.EForbidden, ""},
			{"owner invites a reader", owner, user("c@example.com", tillit.RoleReader, ""), "", ""},
			{"reader may not invite", reader, user("d@example.com", tillit.RoleReader, ""), tillit.EForbidden, ""},
			{"no principal", context.Background(), user("d@example.com", tillit.RoleReader, ""), tillit.EUnauthenticated, ""},
			{"bad address", admin, user("Kari <k@example.com>", tillit.RoleReader, ""), tillit.EInvalid, "email"},
			{"no role", admin, user("d@example.com", "", ""), tillit.EInvalid, "role"},
			{"common password", admin, user("d@example.com", tillit.RoleReader, "password1234"), tillit.EInvalid, "password"},
			{"password with the tenant's name", admin, user("d@example.com", tillit.RoleReader, "acme is my employer"), tillit.EInvalid, "password"},
			{"a tenant makes an operator", owner, tillit.AccountCreate{Kind: tillit.KindOperator, Email: "o@example.com"}, tillit.EForbidden, ""},
			{"system makes an operator", sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindOperator, Email: "o@example.com"}, "", ""},
			{"operator with a role", sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindOperator, Email: "p@example.com", Role: tillit.RoleOwner}, tillit.EInvalid, "role"},
			{"system, no tenant", sqldbtest.System(), user("d@example.com", tillit.RoleReader, ""), tillit.EInvalid, "tenant"},
			{"system, unknown tenant", sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindUser, TenantID: 999, Email: "d@example.com", Role: tillit.RoleReader}, tillit.ENotFound, ""},
			{"system, other tenant, same address", sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindUser, TenantID: beta.ID, Email: "a@example.com", Role: tillit.RoleOwner}, "", ""},
			{"no kind", admin, tillit.AccountCreate{Email: "d@example.com"}, tillit.EInvalid, "kind"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				acc, inv, err := e.accounts.CreateAccount(tc.ctx, tc.c)
				if code(err) != tc.code || tillit.ErrorField(err) != tc.field {
					t.Fatalf("got %v (field %q), want %q (field %q)", err, tillit.ErrorField(err), tc.code, tc.field)
				}
				if err == nil && (acc.ID == 0 || (inv == nil) != (tc.c.Password != "")) {
					t.Fatalf("account %+v, invitation %+v", acc, inv)
				}
			})
		}
		users, err := e.accounts.FindUsers(admin)
		if err != nil || len(users) != 3 || users[0].Email != "a@example.com" || users[0].Active {
			t.Fatalf("users %+v, %v", users, err)
		}
		if _, err := e.accounts.FindUsers(reader); code(err) != tillit.EForbidden {
			t.Fatalf("a reader listed users: %v", err)
		}
	})
}

func TestInvitation(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		_, _, admin := sqldbtest.MustToken(t, e.db, acme, tillit.RoleAdmin)
		invite := func(email string) string {
			t.Helper()
			_, inv, err := e.accounts.CreateAccount(admin, tillit.AccountCreate{Kind: tillit.KindUser, Email: email, Role: tillit.RoleReader})
			if err != nil {
				t.Fatal(err)
			}
			mails := e.mail.sent()
			last := mails[len(mails)-1]
			page, token := linkToken(t, last.Body)
			if page != "invite" || token != inv.Token || last.To != email || !inv.ExpiresAt.Equal(e.clock.Now().Add(72*time.Hour)) {
				t.Fatalf("invitation %+v, mail %+v", inv, last)
			}
			return token
		}
		token := invite("kari@example.com")
		if _, err := e.auth.AcceptInvitation(context.Background(), token, "short"); code(err) != tillit.EInvalid {
			t.Fatalf("a weak password: %v", err)
		}
		res, err := e.auth.AcceptInvitation(context.Background(), token, testPassword)
		if err != nil || res.Next != tillit.NextEnroll {
			t.Fatalf("accept: %+v, %v", res, err)
		}
		if _, err := e.auth.AcceptInvitation(context.Background(), token, testPassword); code(err) != tillit.EUnauthenticated {
			t.Fatalf("an invitation used twice: %v", err)
		}
		if _, _, err := e.auth.EnrollTOTP(context.Background(), res.Pending); err != nil {
			t.Fatalf("enrol after accepting: %v", err)
		}

		late := invite("late@example.com")
		e.clock.Add(72 * time.Hour)
		if _, err := e.auth.AcceptInvitation(context.Background(), late, testPassword); code(err) != tillit.EUnauthenticated {
			t.Fatalf("an invitation 72 hours old: %v", err)
		}
		if _, err := e.auth.AcceptInvitation(context.Background(), "nonsense", testPassword); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a made-up invitation: %v", err)
		}
	})
}

func TestInvitationMailFails(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		e.mail.fail = errors.New("connection refused")
		acc, inv, err := e.accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindOperator, Email: "ops@vendor.example"})
		if code(err) != tillit.EUnavailable || acc == nil || inv == nil || !strings.HasPrefix(inv.URL, "https://tillit.test/invite#") {
			t.Fatalf("got %+v, %+v, %v", acc, inv, err)
		}
		if _, err := e.auth.AcceptInvitation(context.Background(), inv.Token, testPassword); err != nil {
			t.Fatalf("the invitation of a mail that failed: %v", err)
		}
	})
}

func TestResetNeverBypassesMFA(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		p := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader), "acme")
		for _, email := range []string{"nobody@example.com", "KARI@example.com"} {
			if err := e.auth.RequestPasswordReset(context.Background(), "acme", email); err != nil {
				t.Fatalf("reset request for %s: %v", email, err)
			}
		}
		e.auth.Wait()
		mails := e.mail.sent()
		if len(mails) != 1 || mails[0].To != "kari@example.com" {
			t.Fatalf("reset mails %+v", mails)
		}
		page, token := linkToken(t, mails[0].Body)
		if page != "reset" {
			t.Fatalf("link to %s", page)
		}
		const next = "a brand new passphrase"
		res, err := e.auth.ResetPassword(context.Background(), token, next)
		if err != nil || res.Next != tillit.NextMFA {
			t.Fatalf("reset: %+v, %v", res, err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), res.Pending); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a reset gave a session: %v", err)
		}
		if _, _, err := e.auth.EnrollTOTP(context.Background(), res.Pending); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a reset enrolled a new factor: %v", err)
		}
		if _, err := e.auth.AuthenticateSession(context.Background(), p.secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a session outlived the reset: %v", err)
		}
		if _, err := e.auth.ResetPassword(context.Background(), token, next); code(err) != tillit.EUnauthenticated {
			t.Fatalf("a reset token used twice: %v", err)
		}
		if _, err := e.auth.Login(context.Background(), "acme", p.acc.Email, testPassword); code(err) != tillit.EUnauthenticated {
			t.Fatalf("the old password: %v", err)
		}
		e.clock.Add(30 * time.Second)
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "totp", e.code(p.totp)); err != nil {
			t.Fatalf("second factor after a reset: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		p := e.mustSignIn(acc, "acme")
		const next = "a brand new passphrase"
		if err := e.auth.ChangePassword(p.ctx, "wrong password here", next); code(err) != tillit.EUnauthenticated {
			t.Fatalf("wrong current password: %v", err)
		}
		if err := e.auth.ChangePassword(p.ctx, testPassword, "kari is my name"); code(err) != tillit.EInvalid {
			t.Fatalf("a password with the e-mail's name: %v", err)
		}
		if err := e.auth.ChangePassword(p.ctx, testPassword, next); err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.Login(context.Background(), "acme", acc.Email, next); err != nil {
			t.Fatalf("the new password: %v", err)
		}
	})
}

func TestSMSCodes(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		worker := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleCaseworker), "acme")
		admin := e.mustSignIn(e.mustAccount(tillit.KindUser, acme, "admin@example.com", tillit.RoleAdmin), "acme")
		for _, p := range []*person{worker, admin} {
			if err := e.accounts.SetPhone(sqldbtest.System(), p.acc.ID, "+4791234567"); err != nil {
				t.Fatal(err)
			}
		}
		pending := func(p *person) *tillit.LoginResult {
			t.Helper()
			res, err := e.auth.Login(context.Background(), "acme", p.acc.Email, testPassword)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if err := e.auth.SendSMSCode(context.Background(), pending(worker).Pending); code(err) != tillit.EForbidden {
			t.Fatalf("SMS where the tenant does not allow it: %v", err)
		}
		if err := e.db.SetTenantSettingsForTest(context.Background(), acme.ID, `{"sms_allowed":true}`); err != nil {
			t.Fatal(err)
		}
		if err := e.auth.SendSMSCode(context.Background(), pending(admin).Pending); code(err) != tillit.EForbidden {
			t.Fatalf("SMS for an admin: %v", err)
		}
		res := pending(worker)
		if len(res.Methods) != 3 || res.Methods[2] != "sms" {
			t.Fatalf("methods %v", res.Methods)
		}
		if err := e.auth.SendSMSCode(context.Background(), res.Pending); err != nil {
			t.Fatal(err)
		}
		sms := e.sms.last(t)
		smsCode := sixDigits.FindString(sms.Body)
		if sms.To != "+4791234567" || smsCode == "" {
			t.Fatalf("SMS %+v", sms)
		}
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "sms", smsCode); err != nil {
			t.Fatalf("the SMS code: %v", err)
		}
		res = pending(worker)
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "sms", smsCode); code(err) != tillit.EUnauthenticated {
			t.Fatalf("an SMS code used twice: %v", err)
		}
		for i := range 2 {
			if err := e.auth.SendSMSCode(context.Background(), res.Pending); err != nil {
				t.Fatalf("SMS %d: %v", i+2, err)
			}
		}
		if err := e.auth.SendSMSCode(context.Background(), res.Pending); code(err) != tillit.ETooMany {
			t.Fatalf("a fourth SMS in 10 minutes: %v", err)
		}
		e.clock.Add(tillit.SMSCodeTTL)
		res = pending(worker)
		if _, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, "sms", sixDigits.FindString(e.sms.last(t).Body)); code(err) != tillit.EUnauthenticated {
			t.Fatalf("an SMS code 10 minutes old: %v", err)
		}
	})
}
