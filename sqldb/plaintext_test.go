package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// TestNoPlaintextPersonalValues creates accounts of every kind, signs in,
// asks for resets and sets a phone number, closes the store, and searches
// the database for the e-mail addresses and the phone number: the SQLite
// files byte by byte, every text and bytea column of PostgreSQL.
func TestNoPlaintextPersonalValues(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		secrets := []string{"+4798765432"}
		for i, kind := range []tillit.PrincipalKind{tillit.KindOperator, tillit.KindUser, tillit.KindUser} {
			email := fmt.Sprintf("Personal.Value%d@Secret-Domain.example", i)
			secrets = append(secrets, email, strings.ToLower(email))
			tenant, role, slug := acme, tillit.RoleReader, "acme"
			if kind == tillit.KindOperator {
				tenant, role, slug = nil, "", ""
			}
			p := e.mustSignIn(e.mustAccount(kind, tenant, email, role), slug)
			acc := p.acc
			if err := e.accounts.SetPhone(sqldbtest.System(), acc.ID, secrets[0]); err != nil {
				t.Fatal(err)
			}
			if err := e.auth.RequestPasswordReset(context.Background(), p.slug, email); err != nil {
				t.Fatal(err)
			}
		}
		invited := "invited.person@secret-domain.example"
		secrets = append(secrets, invited)
		if _, _, err := e.accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{Kind: tillit.KindUser, TenantID: acme.ID,
			Email: invited, Role: tillit.RoleReader}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute)
		if _, err := e.auth.Login(context.Background(), "acme", "unknown.person@secret-domain.example", "wrong password here"); code(err) != tillit.EUnauthenticated {
			t.Fatal(err)
		}
		secrets = append(secrets, "unknown.person@secret-domain.example", "secret-domain")
		e.auth.Wait()
		if err := e.db.Close(); err != nil {
			t.Fatal(err)
		}
		if dialect == sqldb.SQLite {
			searchFiles(t, filepath.Dir(e.url), secrets)
		} else {
			searchColumns(t, dialect, e.url, secrets)
		}
	})
}

// searchFiles fails if any file in dir holds one of the secrets.
func searchFiles(t *testing.T, dir string, secrets []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no database files in %s: %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(s))) {
				t.Errorf("%s holds %q in plain text", filepath.Base(f), s)
			}
		}
	}
}

// searchColumns fails if any text or bytea value of the database holds one
// of the secrets.
func searchColumns(t *testing.T, dialect, url string, secrets []string) {
	t.Helper()
	raw := rawDB(t, dialect, url)
	rows, err := raw.Query(`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'character varying')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 20 {
		t.Fatalf("only %d text columns found", len(cols))
	}
	for _, c := range cols {
		for _, s := range secrets {
			var n int
			q := fmt.Sprintf(`SELECT COUNT(*) FROM %q WHERE strpos(lower(encode(%q::bytea, 'escape')), lower($1)) > 0`, c[0], c[1])
			if err := raw.QueryRow(q, s).Scan(&n); err != nil {
				t.Fatalf("%s.%s: %v", c[0], c[1], err)
			}
			if n > 0 {
				t.Errorf("%s.%s holds %q in plain text", c[0], c[1], s)
			}
		}
	}
}
