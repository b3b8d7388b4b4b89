package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// rightsRoutes adds to the fake the routes of people's rights the bench
// uses: erasure, the register extract and retention.
func (f *benchFake) rightsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("DELETE /api/v1/people/{id}", f.erase)
	mux.HandleFunc("GET /api/v1/people/{id}/report", f.report)
	mux.HandleFunc("GET /api/v1/retention/policy", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		benchFakeJSON(w, 200, map[string]any{"policy": f.policy})
	})
	mux.HandleFunc("PUT /api/v1/retention/policy", f.putPolicy)
	mux.HandleFunc("GET /api/v1/retention/flagged", func(w http.ResponseWriter, r *http.Request) {
		benchFakeJSON(w, 200, map[string]any{"people": []any{}})
	})
	mux.HandleFunc("POST /api/v1/retention/run", f.runRetention)
}

func (f *benchFake) erase(w http.ResponseWriter, r *http.Request) {
	if !f.sensitive {
		benchFakeProblem(w, 403, "forbidden", "this token was not created with permission for sensitive actions")
		return
	}
	p := f.person(w, r)
	if p == nil {
		return
	}
	f.mu.Lock()
	p.erased = true
	f.mu.Unlock()
	benchFakeJSON(w, 200, map[string]any{"kind": "erasure", "tenant": "bench", "person_id": p.ID, "note": "tillit/receipt/v1\n…"})
}

func (f *benchFake) report(w http.ResponseWriter, r *http.Request) {
	p := f.person(w, r)
	if p == nil {
		return
	}
	f.mu.Lock()
	records := make([]map[string]int, p.records)
	c := *p
	f.mu.Unlock()
	switch r.URL.Query().Get("format") {
	case "json":
		benchFakeJSON(w, 200, map[string]any{"person": &c, "records": records})
	case "pdf":
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprintf(w, "%%PDF-1.7\n%% %d records\n%%%%EOF\n", len(records))
	default:
		benchFakeProblem(w, 400, "invalid", "format")
	}
}

// due returns the people the policy p would erase now; f.mu is held.
func (f *benchFake) due(p benchPolicy) []*benchFakePerson {
	var due []*benchFakePerson
	cutoff := time.Now().AddDate(0, -p.Months, 0)
	for _, fp := range f.people {
		at, err := time.Parse(time.RFC3339, fp.CollectedAt)
		if !fp.erased && err == nil && !at.After(cutoff) {
			due = append(due, fp)
		}
	}
	return due
}

func (f *benchFake) putPolicy(w http.ResponseWriter, r *http.Request) {
	var p benchPolicy
	if !benchFakeDecode(w, r, "application/json", &p) {
		return
	}
	if p.Months < 1 || p.Months > 120 || p.From != "collected_at" || (p.Mode != "review" && p.Mode != "automatic") {
		benchFakeProblem(w, 400, "invalid", "policy")
		return
	}
	dry := r.URL.Query().Get("dry_run") == "true"
	f.mu.Lock()
	defer f.mu.Unlock()
	if !dry {
		f.policy = &p
		f.policySets++
	}
	benchFakeJSON(w, 200, map[string]any{"policy": p, "would_flag": len(f.due(p)), "would_delete": 0, "saved": !dry})
}

func (f *benchFake) runRetention(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.policy == nil || f.policy.Mode != "automatic" || f.reviewOnly {
		benchFakeJSON(w, 200, map[string]any{"tenant": "bench", "policy": f.policy != nil, "erased": 0, "flagged": 0, "held": []int{}})
		return
	}
	due := f.due(*f.policy)
	for _, p := range due {
		p.erased = true
	}
	erased := len(due) - min(f.othersErase, len(due)) // another run of the job took those
	benchFakeJSON(w, 200, map[string]any{"tenant": "bench", "policy": true, "erased": erased, "flagged": erased, "held": []int{}})
}

// benchRightsJSON is the --out file's header of the ops of people's rights.
type benchRightsJSON struct {
	ReportRecords int `json:"report_records"`
	EraseSize     int `json:"erase_size"`
	RetentionSize int `json:"retention_size"`
}

func TestBenchParseOps(t *testing.T) {
	fs := (&proc{}).flagSet("bench", "", "")
	tests := map[string][]string{
		"all":                    benchAllOps,
		"register":               benchRegisterOps,
		"rights":                 {"report", "report-pdf", "erase", "retention"},
		"retention,get, ERASE":   {"get", "erase", "retention"},
		"report-pdf,rights,list": {"list", "report", "report-pdf", "erase", "retention"},
	}
	for list, want := range tests {
		got, err := benchParseOps(fs, list)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %q, %v; want %q", list, got, err, want)
		}
	}
	// erase and retention destroy data: they run after every other op.
	if n := len(benchAllOps); benchAllOps[n-2] != "erase" || benchAllOps[n-1] != "retention" {
		t.Errorf("the order: %q", benchAllOps)
	}
}

// TestBenchRightsFake runs the ops of people's rights against the fake:
// the phases, the safety checks of retention and the policy put back.
func TestBenchRightsFake(t *testing.T) {
	fake := newBenchFake(t, false)
	fake.policy = &benchPolicy{Months: 6, From: "collected_at", Mode: "review", GraceDays: 3}
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
		"--duration", "300ms", "--clients", "3", "--ops", "rights", "--report-records", "20", "--erase-size", "30",
		"--retention-size", "50", "--import-size", "20", "--out", out, "--ca", benchCAFile(t, fake.srv))
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	for _, want := range []string{"report: 20 records in", "erase: 30 people in", "retention: 50 people in",
		"all 30 people made for it were erased", "retention: the job erased 50 people in"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr has no %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^retention\s+1\s+1\s+0\s+[\d.]+ people\s`).MatchString(stdout) {
		t.Error("the table has no line of retention with one run and people erased per second")
	}
	rep := mustBenchJSON(t, out)
	if len(rep.Results) != 4 {
		t.Fatalf("report: %+v", rep)
	}
	for i, r := range rep.Results {
		if r.Op != benchRightsOps[i] || r.Requests == 0 || r.Errors != 0 || r.Items == 0 || r.PerSecond <= 0 || r.P50 <= 0 {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	// The probe of the preflight erased one more than --erase-size.
	if erase, ret := rep.Results[2], rep.Results[3]; erase.Items != 30 || erase.Requests != 30 || ret.Items != 50 || ret.Requests != 1 {
		t.Errorf("erase erased %d in %d requests, retention %d in %d runs; want 30 in 30 and 50 in 1",
			erase.Items, erase.Requests, ret.Items, ret.Requests)
	}
	var sizes benchRightsJSON
	mustReadJSON(t, out, &sizes)
	if sizes != (benchRightsJSON{20, 30, 50}) {
		t.Errorf("sizes in the JSON: %+v", sizes)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if want := (benchPolicy{Months: 6, From: "collected_at", Mode: "review", GraceDays: 3}); fake.policy == nil ||
		!benchSamePolicy(*fake.policy, want) || fake.policySets != 2 {
		t.Errorf("policy after the bench: %+v, set %d times; want the tenant's own back, set twice", fake.policy, fake.policySets)
	}
	erased := 0
	for _, p := range fake.people {
		if p.erased {
			erased++
		}
	}
	if erased != 1+30+50 {
		t.Errorf("%d people erased; want the probe, 30 and 50", erased)
	}
}

func benchSamePolicy(a, b benchPolicy) bool {
	return a.Months == b.Months && a.From == b.From && a.Mode == b.Mode && a.GraceDays == b.GraceDays && len(a.Categories) == len(b.Categories)
}

// TestBenchRetentionAlone: retention never sets its policy where it would
// erase people the bench did not make, and leaves an idle policy where the
// tenant had none.
func TestBenchRetentionAlone(t *testing.T) {
	t.Run("others due", func(t *testing.T) {
		fake := newBenchFake(t, false)
		p := benchPersonAt("someone", 1)
		p.CollectedAt = time.Now().AddDate(0, -3, 0).Format(time.RFC3339)
		if _, err := fake.add(p); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
			"--ops", "retention", "--retention-size", "10", "--out", "", "--ca", benchCAFile(t, fake.srv))
		if code != 1 || !strings.Contains(stderr, "would erase people of the tenant the bench did not make") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if fake.policy != nil || len(fake.people) != 1 || fake.people[0].erased {
			t.Errorf("policy %+v, %d people; want none set and the one person kept", fake.policy, len(fake.people))
		}
	})
	t.Run("another run", func(t *testing.T) {
		fake := newBenchFake(t, false)
		fake.othersErase = 4
		code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
			"--ops", "retention", "--retention-size", "10", "--out", "", "--ca", benchCAFile(t, fake.srv))
		if code != 0 || !strings.Contains(stderr, "another run of the job erased 4 of the due people") ||
			!regexp.MustCompile(`(?m)^retention\s+1\s+1\s+0\s`).MatchString(stdout) {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
	t.Run("not erased", func(t *testing.T) {
		fake := newBenchFake(t, false)
		fake.mu.Lock()
		fake.policy = &benchPolicy{Months: 6, From: "collected_at", Mode: "review"}
		fake.mu.Unlock()
		fake.reviewOnly = true
		code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
			"--ops", "retention", "--retention-size", "10", "--out", "", "--ca", benchCAFile(t, fake.srv))
		if code != 1 || !strings.Contains(stderr, "the job erased 0 of the 10 due people the bench imported; 10 are still due") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if fake.policy.Months != 6 {
			t.Errorf("policy after a failed run: %+v; want the tenant's own", fake.policy)
		}
	})
	t.Run("no policy before", func(t *testing.T) {
		fake := newBenchFake(t, false)
		code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
			"--ops", "retention", "--retention-size", "10", "--out", "", "--ca", benchCAFile(t, fake.srv))
		if code != 0 || !strings.Contains(stderr, "a policy cannot be removed") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if fake.policy == nil || !benchSamePolicy(*fake.policy, benchIdlePolicy) {
			t.Errorf("policy after: %+v; want %+v", fake.policy, benchIdlePolicy)
		}
	})
}

// TestBenchRightsRefused: a token that may not do the ops of people's
// rights is turned away before anything is made, with what to do.
func TestBenchRightsRefused(t *testing.T) {
	tests := []struct {
		name      string
		role      tillit.Role
		sensitive bool
		ops       string
		want      string
	}{
		{"caseworker erases", tillit.RoleCaseworker, true, "erase", "erase needs the permission person:erase, which the token's role caseworker has not"},
		{"caseworker retention", tillit.RoleCaseworker, true, "report,retention", "retention needs the permission retention:read"},
		{"reader reports", tillit.RoleReader, true, "report-pdf", "report-pdf needs the permission person:report"},
		{"not sensitive", tillit.RolePrivacy, false, "rights", "erasing needs a token created with --sensitive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newBenchFake(t, false)
			fake.role, fake.sensitive = tt.role, tt.sensitive
			code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
				"--ops", tt.ops, "--population", "100", "--out", "", "--ca", benchCAFile(t, fake.srv))
			if code != 1 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, benchRightsToken) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if len(fake.people) > 1 { // the probe of erase
				t.Errorf("%d people made before the refusal", len(fake.people))
			}
		})
	}
}

// TestBenchRightsRealServer runs the ops of people's rights of `tillit
// bench` against a real server with small sizes: a token that is not
// sensitive is turned away with what to do; a sensitive one reports,
// erases and runs the retention job, which erases every person retention
// imported; the tenant's policy is idle after, and the audit log verifies.
func TestBenchRightsRealServer(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RolePrivacy)
			var tok struct {
				Token     string `json:"token"`
				Sensitive bool   `json:"sensitive"`
			}
			e.cli.mustJSON(&tok, "token", "create", "--tenant", "acme", "--role", "privacy", "--name", "bench", "--sensitive")
			if !tok.Sensitive {
				t.Fatal("token create --sensitive made a token that is not sensitive")
			}
			base, stop := e.cli.serve()
			ca := filepath.Join(e.dir, "tls", "cert.pem")

			code, stdout, stderr := runBenchCmd(context.Background(), e.token, "--url", base, "--ops", "erase",
				"--erase-size", "5", "--ca", ca, "--out", "")
			if code != 1 || !strings.Contains(stderr, "--sensitive") || !strings.Contains(stderr, "403") {
				t.Errorf("a token not sensitive: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}

			out := filepath.Join(t.TempDir(), "bench.json")
			code, stdout, stderr = runBenchCmd(context.Background(), tok.Token, "--url", base, "--clients", "4",
				"--duration", "500ms", "--ops", "rights", "--report-records", "20", "--erase-size", "40",
				"--retention-size", "50", "--import-size", "20", "--ca", ca, "--out", out)
			if code != 0 {
				t.Fatalf("bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			if strings.Contains(stdout+stderr, tok.Token) {
				t.Error("the output holds the token")
			}
			rep := mustBenchJSON(t, out)
			if len(rep.Results) != len(benchRightsOps) || rep.Interrupted {
				t.Fatalf("report: %+v", rep)
			}
			for i, r := range rep.Results {
				if r.Op != benchRightsOps[i] || r.Requests == 0 || r.Errors != 0 || r.Items == 0 || r.P50 <= 0 {
					t.Errorf("%s: %+v", benchRightsOps[i], r)
				}
			}
			if ret := rep.Results[3]; ret.Items != 50 || ret.PerSecond <= 0 {
				t.Errorf("retention erased %d people, %.1f/s; want 50", ret.Items, ret.PerSecond)
			}
			var sizes benchRightsJSON
			mustReadJSON(t, out, &sizes)
			if sizes != (benchRightsJSON{20, 40, 50}) {
				t.Errorf("sizes in the JSON: %+v", sizes)
			}
			if code := stop(); code != 0 {
				t.Fatalf("serve stopped with %d", code)
			}

			// Nobody collected two years ago is left. The person the token
			// that was not sensitive could not erase is, with the reported
			// person and those erase did not get to in its 500 ms.
			old := time.Now().AddDate(-1, 0, 0).UnixMicro()
			if n := e.count(false, "people", fmt.Sprintf("tenant_id = $1 AND collected_at < %d", old)); n != 0 {
				t.Errorf("%d people collected two years ago after the retention job", n)
			}
			if n, want := e.count(false, "people", "tenant_id = $1"), 2+40-int(rep.Results[2].Items); n != want {
				t.Errorf("%d people left; want %d", n, want)
			}
			var policy string
			if err := e.raw(false).QueryRow(`SELECT policy FROM retention_policies WHERE tenant_id = $1`, e.tenant.ID).Scan(&policy); err != nil ||
				!strings.Contains(policy, `"months":120`) || !strings.Contains(policy, `"review"`) {
				t.Errorf("policy after the bench: %s, %v; want the idle one", policy, err)
			}
			var verify strings.Builder
			if code, errOut := e.cli.run(context.Background(), &verify, "audit", "verify"); code != 0 || !strings.Contains(verify.String(), "OK") {
				t.Errorf("audit verify: exit %d: %s %s", code, verify.String(), errOut)
			}
		})
	}
}
