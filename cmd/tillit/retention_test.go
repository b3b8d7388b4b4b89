package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// setRetentionPolicy stores the tenant's policy directly in the database.
func (e *peopleEnv) setRetentionPolicy(policy string) {
	e.t.Helper()
	db := e.raw(false)
	if _, err := db.Exec(`DELETE FROM retention_policies WHERE tenant_id = $1`, e.tenant.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO retention_policies (tenant_id, policy, updated_at) VALUES ($1, $2, 0)`, e.tenant.ID, policy); err != nil {
		e.t.Fatal(err)
	}
}

func TestRetentionRunCLI(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleReader)
			csv := writePeopleFile(t, "people.csv", "given_name,family_name,collected_at\n"+
				"Kari,Nordmann,2020-01-01T00:00:00Z\n"+
				"Ola,Hansen,2021-06-01T00:00:00Z\n")
			if code, _, stderr := e.runFile("people", "import", "--tenant", "acme", csv); code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}
			// Fresh: collected now.
			fresh := writePeopleFile(t, "fresh.csv", "given_name,family_name\nNora,Berg\n")
			if code, _, stderr := e.runFile("people", "import", "--tenant", "acme", fresh); code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}

			// No policy: nothing to do.
			code, stdout, stderr := e.run("retention", "run", "--tenant", "acme")
			if code != 0 || !strings.Contains(stderr, "acme: no retention policy") {
				t.Fatalf("without a policy: exit %d: %s %s", code, stdout, stderr)
			}

			e.setRetentionPolicy(`{"months":12,"from":"collected_at","mode":"review","grace_days":0}`)
			code, stdout, stderr = e.run("retention", "run")
			if code != 0 {
				t.Fatalf("run: exit %d: %s", code, stderr)
			}
			var runs []tillit.RetentionRun
			if err := json.Unmarshal([]byte(stdout), &runs); err != nil {
				t.Fatalf("stdout %q: %v", stdout, err)
			}
			if len(runs) != 1 || runs[0].Tenant != "acme" || runs[0].Flagged != 2 || runs[0].Erased != 0 {
				t.Fatalf("runs %+v", runs)
			}
			if !strings.Contains(stderr, "acme: 2 flagged, 0 unflagged, 0 erased, 0 held") {
				t.Fatalf("summary on stderr: %q", stderr)
			}
			for _, name := range []string{"Kari", "Nordmann", "Ola"} {
				if strings.Contains(stdout+stderr, name) {
					t.Fatalf("a name in the output: %s %s", stdout, stderr)
				}
			}
			if n := e.count(false, "people", "tenant_id = $1 AND flagged_at IS NOT NULL"); n != 2 {
				t.Fatalf("%d people flagged, want 2", n)
			}
			if n := e.count(false, "audit_events", "log_id = $1 AND action = 'retention.run' AND actor = 'system:cli'"); n != 1 {
				t.Fatalf("%d summary events, want 1", n)
			}

			// Automatic mode with no grace period: the flagged are erased.
			e.setRetentionPolicy(`{"months":12,"from":"collected_at","mode":"automatic","grace_days":0}`)
			code, stdout, stderr = e.run("retention", "run", "--tenant", "acme")
			runs = nil
			if err := json.Unmarshal([]byte(stdout), &runs); code != 0 || err != nil {
				t.Fatalf("automatic run: exit %d: %s %s", code, stdout, stderr)
			}
			if len(runs) != 1 || runs[0].Erased != 2 || runs[0].Flagged != 0 {
				t.Fatalf("automatic runs %+v", runs)
			}
			if !strings.Contains(stderr, "erasing people of acme") || !strings.Contains(stderr, "2 erased") {
				t.Fatalf("progress and summary on stderr: %q", stderr)
			}
			if n := e.count(false, "people", "tenant_id = $1"); n != 1 {
				t.Fatalf("%d people left, want the fresh one", n)
			}
			if n := e.count(true, "person_keys", "tenant_id = $1"); n != 1 {
				t.Fatalf("%d person keys left, want 1", n)
			}

			if code, _, stderr := e.run("retention", "run", "--tenant", "nosuch"); code != 1 || !strings.Contains(stderr, "nosuch") {
				t.Fatalf("unknown tenant: exit %d: %s", code, stderr)
			}
			if code, _, _ := e.run("retention", "run", "extra"); code != 2 {
				t.Fatalf("positional argument: exit %d", code)
			}
		})
	}
}

// TestRetentionDailyOneNode runs the daily job on two stores of the same
// database at once, as two nodes would: only one runs it.
func TestRetentionDailyOneNode(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleReader)
			e.setRetentionPolicy(`{"months":12,"from":"collected_at","mode":"review","grace_days":0}`)
			ctx := context.Background()
			p := &proc{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: &syncBuffer{},
				getenv: func(string) string { return "" }, clock: tillit.SystemClock{}}
			fs := p.flagSet("serve", "", "")
			cfg := newConfig(fs)
			if err := p.parseConfig(fs, cfg, e.cli.args); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			var stores []*store
			for range 2 {
				s, err := openStore(ctx, p, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
				if err != nil {
					t.Fatal(err)
				}
				defer s.close(ctx)
				stores = append(stores, s)
			}
			done := make(chan struct{})
			for _, s := range stores {
				go func() { s.retentionOnce(ctx); done <- struct{}{} }()
			}
			<-done
			<-done
			if n := e.count(false, "audit_events", "log_id = $1 AND action = 'retention.run' AND actor = 'system:retention'"); n != 1 {
				t.Fatalf("%d runs of the daily job, want 1; logs %s", n, logs.String())
			}
			if !strings.Contains(logs.String(), `"msg":"retention job done"`) || strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Fatalf("logs %s", logs.String())
			}
			// Later the same day, neither runs it again.
			stores[1].retentionOnce(ctx)
			if n := e.count(false, "audit_events", "log_id = $1 AND action = 'retention.run'"); n != 1 {
				t.Fatalf("%d runs after a second claim the same day", n)
			}
		})
	}
}
