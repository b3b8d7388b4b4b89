package sqldb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
			searchColumns(t, dialect, e.url, secrets, 20)
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
// of the secrets. The database must have at least minCols such columns.
func searchColumns(t *testing.T, dialect, url string, secrets []string, minCols int) {
	t.Helper()
	raw := rawDB(t, dialect, url)
	cols := textColumns(t, raw, minCols)
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

// textColumns returns the text and bytea columns of a PostgreSQL database
// as table and column, failing if there are fewer than min.
func textColumns(t *testing.T, raw *sql.DB, min int) [][3]string {
	t.Helper()
	rows, err := raw.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'character varying')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols [][3]string
	for rows.Next() {
		var c [3]string
		if err := rows.Scan(&c[0], &c[1], &c[2]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if len(cols) < min {
		t.Fatalf("only %d text columns found, want %d or more", len(cols), min)
	}
	return cols
}

// searchColumnsRaw fails if any text or bytea value of the PostgreSQL
// database holds one of the byte strings.
func searchColumnsRaw(t *testing.T, url string, secrets map[string][]byte, minCols int) {
	t.Helper()
	raw := rawDB(t, sqldb.Postgres, url)
	for _, c := range textColumns(t, raw, minCols) {
		value := fmt.Sprintf("%q", c[1])
		if c[2] != "bytea" {
			value = fmt.Sprintf("convert_to(%q, 'UTF8')", c[1])
		}
		for name, b := range secrets {
			var n int
			q := fmt.Sprintf(`SELECT COUNT(*) FROM %q WHERE position($1::bytea in %s) > 0`, c[0], value)
			if err := raw.QueryRow(q, b).Scan(&n); err != nil {
				t.Fatalf("%s.%s: %v", c[0], c[1], err)
			}
			if n > 0 {
				t.Errorf("%s.%s holds %s", c[0], c[1], name)
			}
		}
	}
}

// searchFilesRaw fails if any file in dir holds one of the byte strings.
func searchFilesRaw(t *testing.T, dir string, secrets map[string][]byte) {
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
		for name, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s holds %s", filepath.Base(f), name)
			}
		}
	}
}

// TestNoPlaintextInRegister creates, changes and imports people with
// distinctive values and a record about one of them, and searches the
// data database and the key store for the values as given, lower-cased
// and normalised, and for unkeyed SHA-256 hashes of the lookup values: the
// SQLite files (data, key store, their write-ahead logs) byte by byte
// while open and once closed, every text and bytea column of both
// PostgreSQL databases.
func TestNoPlaintextInRegister(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		email := "Zebulon.Quixotesson@Hemmelig-Post.example"
		p := e.mustCreate(&tillit.Person{GivenName: "Zebulon", FamilyName: "Quixotesson", NationalID: "19811218-9876",
			NationalIDCountry: "SE", Email: email, Phone: "+47 412 87 905", Language: "nn",
			Address:    &tillit.Address{Street: "Hemmeligveien 42", PostalCode: "XQ-8841", City: "Zebraby", Country: "NO"},
			Attributes: map[string]any{"diagnosis": "Kronisk zebrafeber", "level": "silver", "joined": "1999-09-19"}})
		e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "visit", Title: "Samtale om zebrafeberen",
			Body: "Pasienten klager over striper og hovmod."})
		if _, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(`{"given_name":"Zebulonius","address":{"street":"Lurendreierveien 7"}}`)); err != nil {
			t.Fatal(err)
		}
		if res, _ := e.mustImport(&sliceSource{people: []*tillit.Person{{GivenName: "Xanthippe", FamilyName: "Importertsen",
			Email: "xanthippe@hemmelig-post.example", NationalID: "131052-308T", NationalIDCountry: "FI"}}}, tillit.ImportOptions{}); res.Created != 1 {
			t.Fatalf("import %+v", res)
		}
		// Read, listed and looked up too: nothing a read does may leave a
		// value behind.
		e.mustRead(p.ID)
		if _, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{Email: email}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindPeople(e.cw, tillit.PersonFilter{Sort: tillit.SortByFamilyName}); err != nil {
			t.Fatal(err)
		}

		secrets := []string{"Zebulon", "Quixotesson", "Zebulonius", "198112189876", "19811218-9876", "811218-9876", "1981-12-18",
			email, "hemmelig-post", "+4741287905", "41287905", "412 87 905", "Hemmeligveien", "Lurendreierveien", "XQ-8841",
			"Zebraby", "zebrafeber", "striper og hovmod", "1999-09-19", "Xanthippe", "Importertsen", "131052-308T", "1952-10-13"}
		hashes := map[string][]byte{}
		for _, v := range []string{email, strings.ToLower(email), "+4741287905", "SE:198112189876", "198112189876",
			"xanthippe@hemmelig-post.example", "131052-308T"} {
			sum := sha256.Sum256([]byte(v))
			hashes["SHA-256 of "+v] = sum[:]
			secrets = append(secrets, hex.EncodeToString(sum[:]))
		}
		if dialect == sqldb.SQLite {
			dir := filepath.Dir(e.dataURL)
			if _, err := os.Stat(filepath.Join(dir, "keys.db")); err != nil {
				t.Fatalf("the key store is not beside the data: %v", err)
			}
			if _, err := os.Stat(e.dataURL + "-wal"); err != nil {
				t.Fatalf("no write-ahead log while open: %v", err)
			}
			searchFiles(t, dir, secrets)
			searchFilesRaw(t, dir, hashes)
			if err := e.db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := e.ks.Close(); err != nil {
				t.Fatal(err)
			}
			searchFiles(t, dir, secrets)
			searchFilesRaw(t, dir, hashes)
			return
		}
		searchColumns(t, dialect, e.dataURL, secrets, 20)
		searchColumns(t, dialect, e.keysURL, secrets, 3)
		searchColumnsRaw(t, e.dataURL, hashes, 20)
		searchColumnsRaw(t, e.keysURL, hashes, 3)
	})
}
