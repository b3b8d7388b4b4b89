package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// peopleEnv is a data directory with the tenant acme and an API token of
// it, on SQLite, or on two fresh PostgreSQL databases: one for the data and
// one for the key store.
type peopleEnv struct {
	t                *testing.T
	dialect          string
	dir              string
	dataURL, keysURL string // for database/sql: on SQLite the paths of tillit.db and keys.db
	cli              *tillitCLI
	tenant           tillit.Tenant
	token            string
}

func newPeopleEnv(t *testing.T, dialect string, role tillit.Role) *peopleEnv {
	t.Helper()
	e := &peopleEnv{t: t, dialect: dialect, dir: t.TempDir()}
	e.cli = &tillitCLI{t: t, args: []string{"--data", e.dir}}
	if dialect == sqldb.Postgres {
		e.dataURL, e.keysURL = sqldbtest.URL(t, dialect), sqldbtest.URL(t, dialect)
		e.cli.args = append(e.cli.args, "--database-url", e.dataURL, "--keystore-url", e.keysURL)
	} else {
		e.dataURL, e.keysURL = filepath.Join(e.dir, "tillit.db"), filepath.Join(e.dir, "keys.db")
	}
	e.cli.mustJSON(&e.tenant, "tenant", "create", "--slug", "acme", "--name", "Acme AS")
	var tok struct {
		Token string `json:"token"`
	}
	e.cli.mustJSON(&tok, "token", "create", "--tenant", "acme", "--role", string(role), "--name", "e2e", "--expires", "30d")
	e.token = tok.Token
	return e
}

// run runs a subcommand with the common flags after args.
func (e *peopleEnv) run(args ...string) (code int, stdout, stderr string) {
	var out bytes.Buffer
	code, stderr = e.cli.run(context.Background(), &out, args...)
	return code, out.String(), stderr
}

// runFile runs a subcommand whose last argument is a file: the common
// flags go before it, where the flag package reads them.
func (e *peopleEnv) runFile(args ...string) (code int, stdout, stderr string) {
	n := len(args)
	all := append(append(slices.Clone(args[:n-1]), e.cli.args...), args[n-1])
	var out bytes.Buffer
	code, stderr = (&tillitCLI{t: e.t}).run(context.Background(), &out, all...)
	return code, out.String(), stderr
}

// raw opens the data database, or with keys the key store, with
// database/sql alone.
func (e *peopleEnv) raw(keys bool) *sql.DB {
	e.t.Helper()
	url := e.dataURL
	if keys {
		url = e.keysURL
	}
	driver := map[string]string{sqldb.SQLite: "sqlite", sqldb.Postgres: "pgx"}[e.dialect]
	db, err := sql.Open(driver, url)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

// count returns the number of rows of a table of the data, or with keys of
// the key store, that match where (SQL with $1 for the tenant's id).
func (e *peopleEnv) count(keys bool, table, where string) int {
	e.t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	var args []any
	if where != "" {
		q += " WHERE " + where
		if strings.Contains(where, "$1") {
			args = append(args, e.tenant.ID)
		}
	}
	var n int
	if err := e.raw(keys).QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// writePeopleFile writes a file in a temporary directory of the test.
func writePeopleFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// api is a client of a running server, with a token.
type api struct {
	c     *http.Client
	base  string
	token string
}

// do makes a request and returns the status and the body; the error is a
// request that got no answer. It may be called from any goroutine.
func (a *api) do(method, path, ctype, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// must makes a request, fails t unless the answer has the status, and
// decodes it into out if not nil.
func (a *api) must(t *testing.T, method, path, ctype, body string, want int, out any) {
	t.Helper()
	code, data, err := a.do(method, path, ctype, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// ids lists the ids of every person of the token's tenant.
func (a *api) ids(t *testing.T) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for {
		var page tillit.PersonPage
		a.must(t, "GET", "/api/v1/people?limit=1000&cursor="+cursor, "", "", 200, &page)
		for _, p := range page.People {
			ids = append(ids, p.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			return ids
		}
	}
}

// importResult decodes what `people import` printed.
func importResult(t *testing.T, stdout string) tillit.ImportResult {
	t.Helper()
	var res tillit.ImportResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("people import printed %q: %v", stdout, err)
	}
	return res
}

// refusedLine returns the refusal of a line, or a zero one.
func refusedLine(res tillit.ImportResult, line int) tillit.ImportRefusal {
	for _, r := range res.Refused {
		if r.Line == line {
			return r
		}
	}
	return tillit.ImportRefusal{}
}

var progressDoneRE = regexp.MustCompile(`(?m)^importing people\.csv 100% \d+\.\d/\d+\.\d MiB \S+ MiB/s$`)

func TestPeopleImportCLI(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleReader)
			csv := writePeopleFile(t, "people.csv", "given_name;family_name;email;phone;national_id;national_id_country;city\n"+
				"Kari;Nordmann;kari@example.com;91234567;811218-9876;SE;Oslo\n"+ // line 2
				"Ola;Hansen;ola@example.com;;811218-9877;SE;Bergen\n"+ // 3: a bad national id
				"Nora;Berg;nora@example.com;+46 70 123 45 67;;;\n"+ // 4
				"Per;Olsen;KARI@example.com;;;;\n") // 5: the e-mail of line 2

			code, stdout, stderr := e.runFile("people", "import", "--tenant", "acme", csv)
			if code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}
			res := importResult(t, stdout)
			bad, dup := refusedLine(res, 3), refusedLine(res, 5)
			if res.Created != 2 || !res.Imported || len(res.Refused) != 2 || bad.Field != "national_id" || bad.Duplicate ||
				dup.Field != "email" || !dup.Duplicate {
				t.Fatalf("import: %+v", res)
			}
			// Not a terminal: plain lines, the last at 100 %, never a \r.
			if !progressDoneRE.MatchString(stderr) || strings.Contains(stderr, "\r") {
				t.Errorf("progress on stderr: %q", stderr)
			}
			if !strings.Contains(stderr, "2 people created; 2 lines refused") {
				t.Errorf("no summary on stderr: %q", stderr)
			}
			if strings.Contains(stdout, "importing") {
				t.Errorf("progress on stdout: %q", stdout)
			}
			if n := e.count(false, "people", "tenant_id = $1"); n != 2 {
				t.Fatalf("%d people stored, want 2", n)
			}

			// NDJSON is recognised by its first character.
			nd := writePeopleFile(t, "people.txt", `{"given_name":"Lars","email":"lars@example.com"}`+"\n"+
				`{"given_name":"Emil","phone":"+4791000001"}`+"\n")
			code, stdout, stderr = e.runFile("people", "import", "--tenant", "acme", nd)
			if res := importResult(t, stdout); code != 0 || res.Created != 2 || len(res.Refused) != 0 {
				t.Fatalf("ndjson: exit %d, %+v: %s", code, res, stderr)
			}

			// Flags may follow the file, as the common ones do here.
			nd2 := writePeopleFile(t, "more.ndjson", `{"given_name":"Ingrid","email":"ingrid@example.com"}`+"\n")
			code, stdout, stderr = e.run("people", "import", nd2, "--tenant", "acme", "--format", "ndjson")
			if res := importResult(t, stdout); code != 0 || res.Created != 1 {
				t.Fatalf("flags after the file: exit %d, %+v: %s", code, res, stderr)
			}

			// All or nothing: one bad line, and nobody is created, nor a key left.
			badFile := writePeopleFile(t, "bad.csv", "given_name,email\nSara,sara@example.com\nMaja,maja@example\nFilip,filip@example.com\n")
			people, keys := e.count(false, "people", ""), e.count(true, "person_keys", "")
			code, stdout, stderr = e.runFile("people", "import", "--tenant", "acme", "--all-or-nothing", badFile)
			if res := importResult(t, stdout); code != 1 || res.Imported || res.Created != 0 || len(res.Refused) != 1 || res.Refused[0].Line != 3 {
				t.Fatalf("all or nothing: exit %d, %+v: %s", code, res, stderr)
			}
			if !strings.Contains(stderr, "--all-or-nothing") {
				t.Errorf("all or nothing: stderr %q", stderr)
			}
			if p, k := e.count(false, "people", ""), e.count(true, "person_keys", ""); p != people || k != keys {
				t.Errorf("a refused import left %d people and %d keys, want %d and %d", p, k, people, keys)
			}

			// Every line refused, without --all-or-nothing: nothing was
			// imported, and the message does not claim the flag was given.
			code, stdout, stderr = e.runFile("people", "import", "--tenant", "acme", csv)
			if res := importResult(t, stdout); code != 1 || res.Created != 0 || len(res.Refused) != 4 || !refusedLine(res, 2).Duplicate {
				t.Fatalf("all refused: exit %d, %+v: %s", code, res, stderr)
			}
			if strings.Contains(stderr, "--all-or-nothing was given") || !strings.Contains(stderr, "no person was imported") {
				t.Errorf("all refused: stderr %q", stderr)
			}

			for _, tt := range []struct {
				name   string
				args   []string
				code   int
				stderr string
			}{
				{"no file", []string{"people", "import", "--tenant", "acme"}, 2, "give exactly one FILE"},
				{"two files", []string{"people", "import", "--tenant", "acme", csv, csv}, 2, "give exactly one FILE"},
				{"no tenant", []string{"people", "import", csv}, 2, "--tenant"},
				{"bad format", []string{"people", "import", "--tenant", "acme", "--format", "xlsx", csv}, 2, "--format"},
				{"missing file", []string{"people", "import", "--tenant", "acme", filepath.Join(e.dir, "nope.csv")}, 1, "nope.csv: no such file"},
				{"unknown tenant", []string{"people", "import", "--tenant", "nope", csv}, 1, `no tenant with the slug "nope"`},
			} {
				t.Run(tt.name, func(t *testing.T) {
					code, _, stderr := e.run(tt.args...)
					if code != tt.code || !strings.Contains(stderr, tt.stderr) {
						t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.stderr)
					}
				})
			}
			if n := e.count(false, "people", ""); n != 5 {
				t.Errorf("%d people in the end, want 5", n)
			}
		})
	}
}

// TestKeystoreURLConfig: the key store must be a database apart from the
// data's, and PostgreSQL data needs a PostgreSQL key store.
func TestKeystoreURLConfig(t *testing.T) {
	const pg = "postgres://tillit@db.example:5432/tillit?sslmode=disable"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"same url", []string{"--database-url", pg, "--keystore-url", pg}, "keystore-url: it is the same database as database-url"},
		{"same url, other case", []string{"--database-url", pg, "--keystore-url", strings.ToUpper(pg[:8]) + pg[8:]}, "keystore-url: it is the same database"},
		{"same database, postgresql scheme", []string{"--database-url", pg, "--keystore-url", "postgresql://tillit@db.example/tillit"}, "keystore-url: it is the same database"},
		{"same database, other parameters", []string{"--database-url", pg, "--keystore-url", "postgres://tillit@db.example:5432/tillit?connect_timeout=5"}, "keystore-url: it is the same database"},
		{"postgres data, no key store", []string{"--database-url", pg}, "keystore-url: with PostgreSQL for the data"},
		{"not postgres", []string{"--keystore-url", "mysql://x/y"}, `keystore-url: scheme "mysql" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"migrate", "--data", t.TempDir()}, tt.args...)
			code, _, stderr := runTest(t, args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tt.want)
			}
			if strings.Contains(stderr, "db.example") {
				t.Errorf("the error shows the URL: %q", stderr)
			}
		})
	}
	// Another database on the same server is fine.
	cfg := DefaultConfig()
	cfg.DatabaseURL, cfg.KeystoreURL = pg, strings.Replace(pg, "/tillit?", "/tillit_keys?", 1)
	if err := cfg.Validate(); err != nil {
		t.Errorf("a key store of its own: %v", err)
	}
}

// TestPeopleBenchRealServer runs `tillit bench` with every op of the
// register against a real server (the ops of people's rights: bench_rights_test.go).
func TestPeopleBenchRealServer(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleCaseworker)
			base, stop := e.cli.serve()
			out := filepath.Join(t.TempDir(), "bench.json")
			code, stdout, stderr := runBenchCmd(context.Background(), e.token, "--url", base, "--clients", "4",
				"--duration", "500ms", "--ops", "register", "--population", "2000", "--import-size", "500",
				"--ca", filepath.Join(e.dir, "tls", "cert.pem"), "--out", out)
			if code != 0 {
				t.Fatalf("bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			t.Logf("stdout:\n%s", stdout)
			for _, op := range benchRegisterOps {
				clients := "4"
				if op == "import" { // one stream, whatever --clients says
					clients = "1"
				}
				if !regexp.MustCompile(`(?m)^` + op + `\s+` + clients + `\s+[1-9]\d*\s+0\s`).MatchString(stdout) {
					t.Errorf("the table has no line of %s with %s clients, requests and no errors", op, clients)
				}
			}
			if !strings.Contains(stderr, "population: 2000 people in") || strings.Contains(stdout+stderr, e.token) {
				t.Errorf("stderr: %s", stderr)
			}
			rep := mustBenchJSON(t, out)
			if len(rep.Results) != len(benchRegisterOps) || rep.Interrupted || rep.Clients != 4 {
				t.Fatalf("report: %+v", rep)
			}
			for _, r := range rep.Results {
				if r.Requests == 0 || r.Errors != 0 || r.P50 <= 0 {
					t.Errorf("%s: %+v", r.Op, r)
				}
			}
			if code := stop(); code != 0 {
				t.Fatalf("serve stopped with %d", code)
			}
			// The population is there: 2,000 imported and more created.
			if n := e.count(false, "people", "tenant_id = $1"); n < 2000 {
				t.Errorf("%d people after the bench", n)
			}
		})
	}
}
