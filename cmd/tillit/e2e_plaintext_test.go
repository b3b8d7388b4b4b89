package main

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/keyring"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// plaintextProbe is what TestPeoplePlaintextAtRest writes through the API:
// values found nowhere else, and the forms they are stored and looked up in.
var plaintextProbe = struct {
	schema, person, patch, record, ndjson string
	secrets                               []string
}{
	schema: `{"attributes":[{"name":"diagnosis","type":"string","classification":"special"},
		{"name":"member_no","type":"string","classification":"personal"}],"categories":["note"]}`,
	person: `{"given_name":"Zebulonia","family_name":"Quixotewski","email":"Zebulonia.Quixotewski@Plaintext-Probe.example",
		"phone":"912 77 431","national_id":"811218-9876","national_id_country":"SE",
		"address":{"street":"Xylofonveien 4321","postal_code":"9999","city":"Vrengenfjordbyen","country":"NO"},
		"attributes":{"diagnosis":"Hypertrichosis Vangsnesiensis","member_no":"MBR-77123981"}}`,
	patch:  `{"family_name":"Quixotewski-Brimblecombe","language":"nb"}`,
	record: `{"category":"note","title":"Xenotransplantasjonssamtale","body":"Snakket med Quimbleberry om Trondhjemsgryta."}`,
	ndjson: `{"given_name":"Yggdrasilia","family_name":"Wumpernickel","email":"yggdrasilia@wumper-probe.example","national_id":"01010710029","phone":"+46 70 987 65 43"}` + "\n",
	secrets: []string{
		"Zebulonia", "Quixotewski", "Brimblecombe", "Zebulonia.Quixotewski@Plaintext-Probe.example", "Plaintext-Probe",
		"912 77 431", "+4791277431", "4791277431", "91277431",
		"811218-9876", "198112189876", "8112189876", "1981-12-18",
		"Xylofonveien", "Vrengenfjordbyen", "Hypertrichosis", "Vangsnesiensis", "MBR-77123981",
		"Xenotransplantasjonssamtale", "Quimbleberry", "Trondhjemsgryta",
		"Yggdrasilia", "Wumpernickel", "wumper-probe", "01010710029", "1907-01-01", "+46709876543", "709876543",
	},
}

// TestPeoplePlaintextAtRest writes people, a record and an import with
// distinctive values through the API and searches everything the server
// stored for them: every file under the data directory (before and after
// the server stops, so the SQLite write-ahead logs too), and on PostgreSQL
// every text and bytea value of both databases and a pg_dump of each.
func TestPeoplePlaintextAtRest(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleAdmin)
			base, stop := e.cli.serve()
			a := &api{c: httpsClient(t, e.dir), base: base, token: e.token}
			pr := plaintextProbe
			a.must(t, "PUT", "/api/v1/schema", "application/json", pr.schema, 200, nil)
			var p tillit.Person
			a.must(t, "POST", "/api/v1/people", "application/json", pr.person, 201, &p)
			if p.Phone != "+4791277431" || p.NationalID != "198112189876" || p.BirthDate != "1981-12-18" {
				t.Fatalf("created %+v", p)
			}
			path := fmt.Sprintf("/api/v1/people/%d", p.ID)
			a.must(t, "PATCH", path, "application/merge-patch+json", pr.patch, 200, nil)
			a.must(t, "POST", path+"/records", "application/json", pr.record, 201, nil)
			var res tillit.ImportResult
			a.must(t, "POST", "/api/v1/people/import", "application/x-ndjson", pr.ndjson, 200, &res)
			if res.Created != 1 {
				t.Fatalf("import: %+v", res)
			}
			a.must(t, "GET", path, "", "", 200, nil)
			a.must(t, "GET", "/api/v1/people?sort=family_name", "", "", 200, nil)
			a.must(t, "POST", "/api/v1/people/lookup", "application/json", `{"national_id":"198112189876"}`, 200, nil)
			a.must(t, "POST", "/api/v1/people/lookup", "application/json", `{"email":"yggdrasilia@wumper-probe.example"}`, 200, nil)

			// The controls, stored in plain text, prove that the search sees
			// the stored bytes.
			control := []string{}
			if dialect == sqldb.SQLite {
				control = []string{"Acme AS"}
			}
			searchDataDir(t, e.dir, pr.secrets, control) // while it runs: the write-ahead logs are there
			if code := stop(); code != 0 {
				t.Fatalf("serve stopped with %d", code)
			}
			searchDataDir(t, e.dir, pr.secrets, control)
			if dialect == sqldb.Postgres {
				for url, control := range map[string]string{e.dataURL: "Acme AS", e.keysURL: keyring.PurposeWrap} {
					searchPostgresColumns(t, e.raw(url == e.keysURL), pr.secrets, control)
					searchPgDump(t, url, pr.secrets, control)
				}
			}
		})
	}
}

// secretForms returns a secret as given, in lower and in upper case.
func secretForms(s string) []string {
	out := []string{s}
	for _, f := range []string{strings.ToLower(s), strings.ToUpper(s)} {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// searchDataDir fails if any file under dir holds a secret, in any case,
// or if no file holds each of the controls.
func searchDataDir(t *testing.T, dir string, secrets, controls []string) {
	t.Helper()
	var names []string
	found := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil // a write-ahead log removed meanwhile
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		names = append(names, rel)
		lower := bytes.ToLower(data)
		for _, s := range secrets {
			if bytes.Contains(lower, []byte(strings.ToLower(s))) {
				t.Errorf("%s holds %q in plain text", rel, s)
			}
		}
		for _, c := range controls {
			found[c] = found[c] || bytes.Contains(lower, []byte(strings.ToLower(c)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range controls {
		if !found[c] {
			t.Errorf("no file holds the control %q: the search does not see the stored bytes", c)
		}
	}
	if !slices.Contains(names, "root.key") || !slices.Contains(names, "audit.key") {
		t.Fatalf("the data directory holds only %v", names)
	}
	t.Logf("searched %v", names)
}

// searchPostgresColumns fails if any text, JSON or bytea value of the
// database holds a secret, as given, in lower or in upper case, or if none
// holds the control.
func searchPostgresColumns(t *testing.T, raw *sql.DB, secrets []string, control string) {
	t.Helper()
	rows, err := raw.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'character varying', 'character', 'json', 'jsonb')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][3]string
	for rows.Next() {
		var c [3]string
		if err := rows.Scan(&c[0], &c[1], &c[2]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 2 {
		t.Fatalf("only %d text and bytea columns: %v", len(cols), cols)
	}
	controls := 0
	for _, c := range cols {
		value := fmt.Sprintf("%q", c[1])
		if c[2] != "bytea" {
			value = fmt.Sprintf("convert_to(%q::text, 'UTF8')", c[1])
		}
		q := fmt.Sprintf(`SELECT COUNT(*) FROM %q WHERE position($1::bytea in %s) > 0`, c[0], value)
		var n int
		if err := raw.QueryRow(q, []byte(control)).Scan(&n); err != nil {
			t.Fatalf("%s.%s: %v", c[0], c[1], err)
		}
		controls += n
		for _, s := range secrets {
			for _, form := range secretForms(s) {
				var n int
				if err := raw.QueryRow(q, []byte(form)).Scan(&n); err != nil {
					t.Fatalf("%s.%s: %v", c[0], c[1], err)
				}
				if n > 0 {
					t.Errorf("%s.%s holds %q in plain text", c[0], c[1], form)
				}
			}
		}
	}
	if controls == 0 {
		t.Errorf("no column holds the control %q: the search does not see the stored values", control)
	}
	t.Logf("searched %d columns", len(cols))
}

// searchPgDump dumps the database with pg_dump and fails if the dump holds
// a secret, as text or as the hex of a bytea, or lacks the control. It
// fails too without pg_dump (it comes with PostgreSQL's client).
func searchPgDump(t *testing.T, url string, secrets []string, control string) {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Fatal("pg_dump is not installed: the dump cannot be searched")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--no-owner", "--no-privileges", "--dbname", url)
	cmd.Stderr = &stderr
	dump, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump failed: %v: %s", err, stderr.String())
	}
	if !bytes.Contains(dump, []byte("COPY public.")) || !bytes.Contains(dump, []byte(control)) {
		t.Fatalf("pg_dump wrote no data, or not the control %q: %.200s", control, dump)
	}
	lower := bytes.ToLower(dump)
	for _, s := range secrets {
		for _, form := range secretForms(s) {
			if bytes.Contains(lower, []byte(strings.ToLower(form))) || bytes.Contains(lower, []byte(hex.EncodeToString([]byte(form)))) {
				t.Errorf("the dump holds %q", form)
			}
		}
	}
	t.Logf("searched a dump of %d bytes", len(dump))
}
