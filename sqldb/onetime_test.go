package sqldb_test

import (
	"context"
	"sync"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// TestInvitationUsedOnceUnderConcurrency redeems one invitation from many
// requests at once: exactly one may set the password. (On PostgreSQL a
// conditional UPDATE whose conditions sat only in a subquery let several
// through.)
func TestInvitationUsedOnceUnderConcurrency(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		_, inv, err := e.accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{
			Kind: tillit.KindUser, TenantID: acme.ID, Email: "kari@acme.example", Role: tillit.RoleReader})
		if err != nil || inv == nil {
			t.Fatalf("invite: %v", err)
		}
		const n = 8
		var wg sync.WaitGroup
		results := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.auth.AcceptInvitation(context.Background(), inv.Token, testPassword)
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			switch tillit.ErrorCode(err) {
			case "":
				ok++
			case tillit.EUnauthenticated:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("the invitation was accepted %d times, want once", ok)
		}
	})
}

// TestStalePendingEnrolment: two sign-ins with the password before the
// first factor exists; once one enrols, the other may not replace it.
func TestStalePendingEnrolment(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@acme.example", tillit.RoleReader)
		stale, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if err != nil || stale.Next != tillit.NextEnroll {
			t.Fatalf("first login: %+v, %v", stale, err)
		}
		e.mustSignIn(acc, "acme") // a second sign-in enrols TOTP
		if _, _, err := e.auth.EnrollTOTP(context.Background(), stale.Pending); tillit.ErrorCode(err) != tillit.EUnauthenticated {
			t.Fatalf("the stale sign-in could enrol a new factor: %v", err)
		}
	})
}

// TestCodeGuessesUnderConcurrency fires wrong second-factor codes at one
// pending sign-in at once: no more are judged than the slow-down allows
// (the rest are told to wait), as if they had come one by one.
func TestCodeGuessesUnderConcurrency(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@acme.example", tillit.RoleReader)
		e.mustSignIn(acc, "acme")
		res, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword)
		if err != nil || res.Next != tillit.NextMFA {
			t.Fatalf("login: %+v, %v", res, err)
		}
		const n = 20
		var wg sync.WaitGroup
		codes := make(chan string, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.auth.VerifySecondFactor(context.Background(), res.Pending, tillit.FactorTOTP, "000000")
				codes <- tillit.ErrorCode(err)
			}()
		}
		wg.Wait()
		close(codes)
		judged := 0
		for c := range codes {
			switch c {
			case tillit.EUnauthenticated:
				judged++
			case tillit.ETooMany:
			default:
				t.Errorf("unexpected answer %q", c)
			}
		}
		if judged != tillit.SlowdownThreshold {
			t.Fatalf("%d wrong codes judged at once, want %d before the slow-down", judged, tillit.SlowdownThreshold)
		}
	})
}
