package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tillit"
	"tillit/auditlog"
	"tillit/sqldb/sqldbtest"
)

// TestPeopleEraseAndReceiptCLI erases people with `people erase`, checks
// their receipts with `receipt verify` against the data directory's key
// and a given one, and refuses changed receipts and other keys.
func TestPeopleEraseAndReceiptCLI(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleReader)
			nd := writePeopleFile(t, "people.ndjson", `{"given_name":"Kari","email":"kari@example.com","national_id":"811218-9876","national_id_country":"SE"}`+"\n"+
				`{"given_name":"Ola","email":"ola@example.com"}`+"\n")
			if code, _, stderr := e.runFile("people", "import", "--tenant", "acme", nd); code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}
			var ids []string
			rows, err := e.raw(false).Query(`SELECT id FROM people WHERE tenant_id = $1 ORDER BY id`, e.tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, fmt.Sprint(id))
			}
			rows.Close()
			if len(ids) != 2 {
				t.Fatalf("imported %v", ids)
			}
			idsFile := writePeopleFile(t, "ids.txt", "# to erase\n"+strings.Join(ids, "\n")+"\n\n424242\n")

			if code, _, stderr := e.run("people", "erase", "--tenant", "acme", "--ids-file", writePeopleFile(t, "bad.txt", "12\nabc\n")); code != 1 || !strings.Contains(stderr, "line 2") {
				t.Fatalf("bad ids file: exit %d: %s", code, stderr)
			}
			code, stdout, stderr := e.run("people", "erase", "--tenant", "acme", "--ids-file", idsFile)
			if code != 0 {
				t.Fatalf("erase: exit %d: %s", code, stderr)
			}
			var res tillit.BulkErasure
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("erase printed %q: %v", stdout, err)
			}
			if len(res.Receipts) != 2 || len(res.NotFound) != 1 || res.NotFound[0] != 424242 || !strings.Contains(stderr, "2 erased, 0 held, 1 not found") {
				t.Fatalf("erase: %s %s", stdout, stderr)
			}
			if n := e.count(false, "people", "tenant_id = $1"); n != 0 {
				t.Fatalf("%d people left", n)
			}
			if n := e.count(true, "person_keys", "tenant_id = $1"); n != 0 {
				t.Fatalf("%d keys left", n)
			}

			dir := t.TempDir()
			js, _ := json.Marshal(res.Receipts[0])
			jsonFile := filepath.Join(dir, "receipt.json")
			noteFile := filepath.Join(dir, "receipt.note")
			os.WriteFile(jsonFile, js, 0o600)
			os.WriteFile(noteFile, []byte(res.Receipts[0].Note), 0o600)
			for _, f := range []string{jsonFile, noteFile} {
				code, stdout, stderr := e.runFile("receipt", "verify", f)
				want := fmt.Sprintf("receipt verify: OK: erasure of person %d of tenant acme at ", res.Receipts[0].PersonID)
				if code != 0 || !strings.HasPrefix(stdout, want) {
					t.Fatalf("verify %s: exit %d: %s %s", filepath.Base(f), code, stdout, stderr)
				}
			}
			// The key the server serves, given explicitly.
			skey, err := os.ReadFile(filepath.Join(e.dir, "audit.key"))
			if err != nil {
				t.Fatal(err)
			}
			signer, err := auditlog.NewSigner(string(skey))
			if err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := e.runFile("receipt", "verify", "--public-key", signer.VerifierKey(), jsonFile); code != 0 {
				t.Fatalf("verify with --public-key: exit %d: %s", code, stderr)
			}
			// Another key, a changed receipt: refused.
			_, other, _ := auditlog.GenerateKey()
			if code, _, stderr := e.runFile("receipt", "verify", "--public-key", other, jsonFile); code != 1 || !strings.Contains(stderr, "FAILED") {
				t.Fatalf("verify with another key: exit %d: %s", code, stderr)
			}
			changed := res.Receipts[0]
			changed.Erased.Records = 7
			js, _ = json.Marshal(changed)
			os.WriteFile(jsonFile, js, 0o600)
			if code, _, stderr := e.runFile("receipt", "verify", jsonFile); code != 1 || !strings.Contains(stderr, "do not say what the signed note says") {
				t.Fatalf("verify a changed receipt: exit %d: %s", code, stderr)
			}
			// No key at all.
			if code, stderr := (&tillitCLI{t: t, args: []string{"--data", t.TempDir()}}).run(context.Background(), io.Discard, "receipt", "verify", noteFile); code != 1 || !strings.Contains(stderr, "--public-key") {
				t.Fatalf("verify without a key: exit %d: %s", code, stderr)
			}

			if code, stdout, stderr := e.run("audit", "verify", "--tenant", "acme"); code != 0 || !strings.Contains(stdout, "OK") {
				t.Fatalf("audit verify after erasure: exit %d: %s %s", code, stdout, stderr)
			}
		})
	}
}
