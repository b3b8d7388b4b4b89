package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)} }

// each runs f as a subtest on every engine.
func each(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range sqldbtest.Engines(t) {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

func code(err error) string { return tillit.ErrorCode(err) }

func TestMigrate(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db := sqldbtest.Open(t, dialect, nil)
		ctx := context.Background()
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("ready after migrate: %v", err)
		}
		again, err := db.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second migrate applied %v, err %v", again, err)
		}
		if db.Dialect() != dialect {
			t.Fatalf("dialect %q", db.Dialect())
		}
	})
}

func TestNotMigratedIsNotReady(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db, err := sqldb.Open(context.Background(), sqldb.Config{URL: sqldbtest.URL(t, dialect)})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ready(context.Background()); code(err) != tillit.EUnavailable {
			t.Fatalf("ready before migrate: %v", err)
		}
	})
}

func TestTenants(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db := sqldbtest.Open(t, dialect, nil)
		svc := sqldb.NewTenantService(db)
		ctx := sqldbtest.System()
		acme := &tillit.Tenant{Slug: "acme", Name: " Acme AS "}
		if err := svc.CreateTenant(ctx, acme); err != nil {
			t.Fatal(err)
		}
		if acme.ID == 0 || acme.Name != "Acme AS" || acme.Settings != tillit.DefaultTenantSettings() {
			t.Fatalf("created %+v", acme)
		}
		tests := []struct {
			name string
			t    tillit.Tenant
			code string
		}{
			{"duplicate slug", tillit.Tenant{Slug: "acme", Name: "Other"}, tillit.EConflict},
			{"upper case", tillit.Tenant{Slug: "Acme2", Name: "x"}, tillit.EInvalid},
			{"one char", tillit.Tenant{Slug: "a", Name: "x"}, tillit.EInvalid},
			{"64 chars", tillit.Tenant{Slug: fmt.Sprintf("%064d", 1), Name: "x"}, tillit.EInvalid},
			{"dash first", tillit.Tenant{Slug: "-ab", Name: "x"}, tillit.EInvalid},
			{"no name", tillit.Tenant{Slug: "noname", Name: "  "}, tillit.EInvalid},
			{"idle 121", tillit.Tenant{Slug: "idle", Name: "x", Settings: tillit.TenantSettings{SessionIdleMinutes: 121}}, tillit.EInvalid},
			{"locale de", tillit.Tenant{Slug: "loc", Name: "x", Settings: tillit.TenantSettings{Locale: "de"}}, tillit.EInvalid},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := svc.CreateTenant(ctx, &tc.t); code(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
			})
		}
		sqldbtest.MustTenant(t, db, "beta-2")
		list, err := svc.FindTenants(ctx)
		if err != nil || len(list) != 2 || list[0].Slug != "acme" || list[1].Slug != "beta-2" {
			t.Fatalf("list %v, err %v", list, err)
		}
		got, err := svc.FindTenantBySlug(ctx, "acme")
		if err != nil || got.ID != acme.ID {
			t.Fatalf("by slug %v, %v", got, err)
		}
		if _, err := svc.FindTenantBySlug(ctx, "nope"); code(err) != tillit.ENotFound {
			t.Fatalf("unknown slug: %v", err)
		}
		_, _, tokCtx := sqldbtest.MustToken(t, db, acme, tillit.RoleOwner)
		if _, err := svc.FindTenants(tokCtx); code(err) != tillit.EForbidden {
			t.Fatalf("a tenant's owner listed tenants: %v", err)
		}
		if cur, err := svc.CurrentTenant(tokCtx); err != nil || cur.ID != acme.ID {
			t.Fatalf("current tenant %v, %v", cur, err)
		}
	})
}

func TestTokens(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		clock := newClock()
		db := sqldbtest.Open(t, dialect, clock)
		svc := sqldb.NewTokenService(db)
		acme := sqldbtest.MustTenant(t, db, "acme")
		beta := sqldbtest.MustTenant(t, db, "beta")
		_, _, admin := sqldbtest.MustToken(t, db, acme, tillit.RoleAdmin)
		_, _, reader := sqldbtest.MustToken(t, db, acme, tillit.RoleReader)
		_, _, betaAdmin := sqldbtest.MustToken(t, db, beta, tillit.RoleAdmin)

		tok, secret, err := svc.CreateToken(admin, tillit.TokenCreate{Name: "CRM sync", Role: tillit.RoleCaseworker, ExpiresInDays: 90})
		if err != nil {
			t.Fatal(err)
		}
		if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(clock.Now().AddDate(0, 0, 90)) || tok.CreatedBy == "" {
			t.Fatalf("token %+v", tok)
		}
		p, err := svc.AuthenticateToken(context.Background(), secret)
		if err != nil || p.TenantID != acme.ID || p.Role != tillit.RoleCaseworker || p.ID != tok.ID {
			t.Fatalf("authenticate: %+v, %v", p, err)
		}

		refusals := []struct {
			name string
			ctx  context.Context
			c    tillit.TokenCreate
			code string
		}{
			{"reader may not create", reader, tillit.TokenCreate{Name: "x", Role: tillit.RoleReader}, tillit.EForbidden},
			{"admin may not create owner", admin, tillit.TokenCreate{Name: "x", Role: tillit.RoleOwner}, tillit.EForbidden},
			{"unknown role", admin, tillit.TokenCreate{Name: "x", Role: "root"}, tillit.EInvalid},
			{"no name", admin, tillit.TokenCreate{Role: tillit.RoleReader}, tillit.EInvalid},
			{"too long", admin, tillit.TokenCreate{Name: "x", Role: tillit.RoleReader, ExpiresInDays: 4000}, tillit.EInvalid},
			{"no principal", context.Background(), tillit.TokenCreate{Name: "x", Role: tillit.RoleReader}, tillit.EUnauthenticated},
			{"operator without tenant", sqldbtest.System(), tillit.TokenCreate{Name: "x", Role: tillit.RoleReader}, tillit.EInvalid},
			{"operator, unknown tenant", sqldbtest.System(), tillit.TokenCreate{TenantID: 999, Name: "x", Role: tillit.RoleReader}, tillit.ENotFound},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				if _, _, err := svc.CreateToken(tc.ctx, tc.c); code(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
			})
		}

		list, err := svc.FindTokens(admin, 0)
		if err != nil || len(list) != 3 || list[0].ID != tok.ID {
			t.Fatalf("list %v, err %v", list, err)
		}
		if betaList, _ := svc.FindTokens(betaAdmin, 0); len(betaList) != 1 {
			t.Fatalf("beta sees %d tokens", len(betaList))
		}
		if err := svc.RevokeToken(betaAdmin, 0, tok.ID); code(err) != tillit.ENotFound {
			t.Fatalf("another tenant revoked the token: %v", err)
		}
		if err := svc.RevokeToken(admin, 0, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.RevokeToken(admin, 0, tok.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := svc.AuthenticateToken(context.Background(), secret); code(err) != tillit.EUnauthenticated {
			t.Fatalf("revoked token authenticated: %v", err)
		}

		_, short, err := svc.CreateToken(admin, tillit.TokenCreate{Name: "short", Role: tillit.RoleReader, ExpiresInDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(24*time.Hour - time.Second)
		if _, err := svc.AuthenticateToken(context.Background(), short); err != nil {
			t.Fatalf("token refused before it expired: %v", err)
		}
		clock.Add(time.Second)
		if _, err := svc.AuthenticateToken(context.Background(), short); code(err) != tillit.EUnauthenticated {
			t.Fatalf("expired token authenticated: %v", err)
		}
		for _, bad := range []string{"", "tillit_", "Bearer x", secret + "x", "tillit_" + string(make([]byte, 200))} {
			if _, err := svc.AuthenticateToken(context.Background(), bad); code(err) != tillit.EUnauthenticated {
				t.Fatalf("secret %q: %v", bad, err)
			}
		}
	})
}

func TestConcurrentWritersOnOneSQLiteFile(t *testing.T) {
	// A server and the operator CLI: two processes' worth of handles on one
	// file, writing at once, must both succeed.
	url := sqldbtest.URL(t, sqldb.SQLite)
	a := sqldbtest.OpenURL(t, url, nil)
	b := sqldbtest.OpenURL(t, url, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 100 {
		for j, db := range []*sqldb.DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := sqldb.NewTenantService(db).CreateTenant(sqldbtest.System(), &tillit.Tenant{Slug: fmt.Sprintf("t%d-%d", i, j), Name: "x"})
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, _ := sqldb.NewTenantService(a).FindTenants(sqldbtest.System())
	if len(list) != 200 {
		t.Fatalf("%d tenants, want 200", len(list))
	}
}

var _ = errors.New
