// Package sqldbtest opens real, throw-away tillit databases for tests: a
// SQLite file in a temporary directory, and a fresh PostgreSQL database
// when TILLIT_TEST_POSTGRES holds a server URL.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"tillit"
	"tillit/keyring"
	"tillit/sqldb"
)

// Engines returns the dialects the tests run on: SQLite always, PostgreSQL
// when TILLIT_TEST_POSTGRES is set. With TILLIT_REQUIRE_POSTGRES=1 (as CI
// sets it) a missing PostgreSQL fails the test instead of skipping it.
func Engines(tb testing.TB) []string {
	tb.Helper()
	if os.Getenv("TILLIT_TEST_POSTGRES") != "" {
		return []string{sqldb.SQLite, sqldb.Postgres}
	}
	if os.Getenv("TILLIT_REQUIRE_POSTGRES") != "" {
		tb.Fatal("TILLIT_REQUIRE_POSTGRES is set but TILLIT_TEST_POSTGRES is empty: PostgreSQL tests would be skipped")
	}
	return []string{sqldb.SQLite}
}

// URL returns the URL of a new, empty database of the dialect, dropped when
// the test ends.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	if dialect == sqldb.SQLite {
		return filepath.Join(tb.TempDir(), "tillit.db")
	}
	server := os.Getenv("TILLIT_TEST_POSTGRES")
	if server == "" {
		tb.Fatal("TILLIT_TEST_POSTGRES is not set")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "tillit_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open returns a migrated store of the dialect on a new database, closed
// when the test ends. clock may be nil for the system clock.
func Open(tb testing.TB, dialect string, clock tillit.Clock) *sqldb.DB {
	tb.Helper()
	return OpenURL(tb, URL(tb, dialect), clock)
}

// OpenURL returns a migrated store on the database at u, closed when the
// test ends.
func OpenURL(tb testing.TB, u string, clock tillit.Clock) *sqldb.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{URL: u, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// System returns a context acting as the operator CLI.
func System() context.Context {
	return tillit.NewContextWithPrincipal(context.Background(), &tillit.Principal{Kind: tillit.KindSystem, Name: "test"})
}

// MustTenant creates a tenant with the slug.
func MustTenant(tb testing.TB, db *sqldb.DB, slug string) *tillit.Tenant {
	tb.Helper()
	t := &tillit.Tenant{Slug: slug, Name: slug + " AS"}
	if err := sqldb.NewTenantService(db).CreateTenant(System(), t); err != nil {
		tb.Fatal(err)
	}
	return t
}

// MustToken creates a token of the role in the tenant and returns it with
// its secret and a context acting as it.
func MustToken(tb testing.TB, db *sqldb.DB, tenant *tillit.Tenant, role tillit.Role) (*tillit.Token, string, context.Context) {
	tb.Helper()
	svc := sqldb.NewTokenService(db)
	tok, secret, err := svc.CreateToken(System(), tillit.TokenCreate{TenantID: tenant.ID, Name: string(role) + " token", Role: role})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.AuthenticateToken(context.Background(), secret)
	if err != nil {
		tb.Fatal(err)
	}
	return tok, secret, tillit.NewContextWithPrincipal(context.Background(), p)
}

// Keys opens a key store of its own for dialect (a SQLite file, or a fresh
// PostgreSQL database apart from the data's), migrates it, and returns a
// keyring over it with a new root key file.
func Keys(tb testing.TB, dialect string, clock tillit.Clock) (*keyring.Keyring, *sqldb.KeyStore) {
	tb.Helper()
	ctx := context.Background()
	u := URL(tb, dialect)
	if dialect == sqldb.SQLite {
		u = filepath.Join(tb.TempDir(), "keys.db")
	}
	ks, err := sqldb.OpenKeyStore(ctx, sqldb.Config{URL: u, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ks.Close() })
	if _, err := ks.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	rootPath := filepath.Join(tb.TempDir(), "root.key")
	kr, err := keyring.New(keyring.Config{
		Roots: func() (*keyring.RootKeys, error) { return keyring.LoadRootKeys(rootPath) },
		Store: ks, Clock: clock,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return kr, ks
}

// People opens a store and a key store for dialect and returns the
// register over them.
func People(tb testing.TB, dialect string, clock tillit.Clock) (*sqldb.DB, *sqldb.PeopleService) {
	tb.Helper()
	db := Open(tb, dialect, clock)
	kr, _ := Keys(tb, dialect, clock)
	return db, sqldb.NewPeopleService(db, kr)
}
