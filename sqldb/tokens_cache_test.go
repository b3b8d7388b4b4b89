package sqldb_test

import (
	"context"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// TestTokenCache: an authenticated token is believed for two seconds
// without a query; revoking it through this process stops it at once, and
// a revocation by another process (straight in the database) within two
// seconds.
func TestTokenCache(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		clock := newClock()
		url := sqldbtest.URL(t, dialect)
		db := sqldbtest.OpenURL(t, url, clock)
		ten := sqldbtest.MustTenant(t, db, "acme")
		svc := sqldb.NewTokenService(db)
		ctx := context.Background()
		auth := func(secret string) error { _, err := svc.AuthenticateToken(ctx, secret); return err }

		// Revoked by this process: refused at once.
		tok, secret, _ := sqldbtest.MustToken(t, db, ten, tillit.RoleReader)
		if err := auth(secret); err != nil {
			t.Fatal(err)
		}
		if err := svc.RevokeToken(sqldbtest.System(), ten.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := auth(secret); tillit.ErrorCode(err) != tillit.EUnauthenticated {
			t.Fatalf("a token revoked by this process: %v", err)
		}

		// Revoked by another: believed from the cache until two seconds pass.
		tok, secret, _ = sqldbtest.MustToken(t, db, ten, tillit.RoleReader)
		if err := auth(secret); err != nil {
			t.Fatal(err)
		}
		raw := rawDB(t, dialect, url)
		if _, err := raw.Exec(`UPDATE tokens SET revoked_at = $1 WHERE id = $2`, clock.Now().UnixMicro(), tok.ID); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Second)
		if err := auth(secret); err != nil {
			t.Fatalf("within the cache's two seconds: %v", err)
		}
		clock.Add(time.Second)
		if err := auth(secret); tillit.ErrorCode(err) != tillit.EUnauthenticated {
			t.Fatalf("a token revoked by another process, after two seconds: %v", err)
		}

		// An expiring token is not believed past its expiry.
		exp, secret3, err := svc.CreateToken(sqldbtest.System(), tillit.TokenCreate{TenantID: ten.ID, Name: "short", Role: tillit.RoleReader, ExpiresInDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(exp.ExpiresAt.Sub(clock.Now()) - 500*time.Millisecond)
		if err := auth(secret3); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		clock.Add(time.Second)
		if err := auth(secret3); tillit.ErrorCode(err) != tillit.EUnauthenticated {
			t.Fatalf("just after expiry: %v", err)
		}
	})
}
