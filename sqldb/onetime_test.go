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
