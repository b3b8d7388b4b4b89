package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
	"tillit/auditlog"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

func mustSigner(t testing.TB) *auditlog.Signer {
	t.Helper()
	skey, _, err := auditlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := auditlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawDB opens a plain connection to the database, as an intruder would.
func rawDB(t *testing.T, dialect, url string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if dialect == sqldb.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestChangeRecordsTheRequestEvent(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db := sqldbtest.Open(t, dialect, nil)
		acme := sqldbtest.MustTenant(t, db, "acme")
		_, _, admin := sqldbtest.MustToken(t, db, acme, tillit.RoleAdmin)
		req := &tillit.Request{Event: tillit.Event{Log: acme.ID, RequestID: "req-1", ClientAddr: "192.0.2.7"}}
		ctx := tillit.NewContextWithRequest(admin, req)
		tok, _, err := sqldb.NewTokenService(db).CreateToken(ctx, tillit.TokenCreate{Name: "n", Role: tillit.RoleReader})
		if err != nil {
			t.Fatal(err)
		}
		if !req.Recorded || req.Event.Action != "token.create" || req.Event.Target != fmt.Sprintf("token:%d", tok.ID) {
			t.Fatalf("request event %+v recorded=%v", req.Event, req.Recorded)
		}
		// A refused change does not mark the request recorded.
		req2 := &tillit.Request{Event: tillit.Event{Log: acme.ID}}
		_, _, err = sqldb.NewTokenService(db).CreateToken(tillit.NewContextWithRequest(admin, req2), tillit.TokenCreate{Name: "n", Role: tillit.RoleOwner})
		if code(err) != tillit.EForbidden || req2.Recorded || req2.Event.Action != "token.create" {
			t.Fatalf("refusal: err %v, event %+v recorded=%v", err, req2.Event, req2.Recorded)
		}
		events, err := sqldb.NewAuditService(db).FindEvents(admin, tillit.EventFilter{After: -1, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		last := events[len(events)-1]
		if last.Action != "token.create" || last.RequestID != "req-1" || last.ClientAddr != "192.0.2.7" ||
			last.Actor == "" || fmt.Sprint(last.Fields) != "[name role expires_at]" || last.Outcome != tillit.OutcomeOK {
			t.Fatalf("stored event %+v", last)
		}
	})
}

func TestRecordEventGroupCommit(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db := sqldbtest.Open(t, dialect, nil)
		acme := sqldbtest.MustTenant(t, db, "acme")
		beta := sqldbtest.MustTenant(t, db, "beta")
		var wg sync.WaitGroup
		const n = 300
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				log := []int64{acme.ID, beta.ID, tillit.OperatorLog}[i%3]
				e := &tillit.Event{Log: log, Actor: "anonymous", Action: "api.request", Outcome: tillit.EUnauthenticated}
				if err := db.RecordEvent(context.Background(), e); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		signer := mustSigner(t)
		if _, err := db.WriteCheckpoints(context.Background(), signer); err != nil {
			t.Fatal(err)
		}
		r, err := db.VerifyAudit(context.Background(), nil, signer.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		// 2 tenant.create events in the operator log, plus 300 recorded.
		if r.Logs != 3 || r.Events != n+2 || r.Checkpoints != 3 {
			t.Fatalf("report %+v", r)
		}
	})
}

// Read events go in as one statement at the head the last batch left, on
// PostgreSQL; the log stays whole when another process or a change
// appended in between.
func TestRecordEventAfterOtherWriters(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		url := sqldbtest.URL(t, dialect)
		a, b := sqldbtest.OpenURL(t, url, nil), sqldbtest.OpenURL(t, url, nil)
		acme := sqldbtest.MustTenant(t, a, "acme")
		read := func(db *sqldb.DB, n int) {
			t.Helper()
			e := &tillit.Event{Log: acme.ID, Actor: "token:1", Action: "person.read", Target: fmt.Sprintf("person:%d", n),
				Fields: []string{"given_name"}, Outcome: tillit.OutcomeOK}
			if err := db.RecordEvent(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			if e.Index != int64(n) {
				t.Fatalf("event %d stored at %d", n, e.Index)
			}
		}
		read(a, 0)
		read(a, 1)                                                                   // at the head a left
		read(b, 2)                                                                   // another process moves the head
		read(a, 3)                                                                   // a finds it moved, and locks and reads it
		if err := a.ChangeForTest(context.Background(), acme.ID, true); err != nil { // index 4
			t.Fatal(err)
		}
		read(a, 5)
		read(a, 6)
		if dialect == sqldb.Postgres && a.BatchesAtHeadForTest() != 2 { // 1 and 6
			t.Fatalf("%d batches at the head, want 2", a.BatchesAtHeadForTest())
		}
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				db := []*sqldb.DB{a, b}[i%2]
				e := &tillit.Event{Log: acme.ID, Actor: "anonymous", Action: "api.request", Outcome: tillit.EUnauthenticated}
				if err := db.RecordEvent(context.Background(), e); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		signer := mustSigner(t)
		if _, err := a.WriteCheckpoints(context.Background(), signer); err != nil {
			t.Fatal(err)
		}
		r, err := a.VerifyAudit(context.Background(), &acme.ID, signer.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		if r.Events != 7+200 {
			t.Fatalf("report %+v", r)
		}
	})
}

func TestCheckpointAndInclusionProof(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db := sqldbtest.Open(t, dialect, nil)
		acme := sqldbtest.MustTenant(t, db, "acme")
		_, _, admin := sqldbtest.MustToken(t, db, acme, tillit.RoleAdmin)
		audit := sqldb.NewAuditService(db)
		if _, err := audit.LatestCheckpoint(admin); code(err) != tillit.ENotFound {
			t.Fatalf("checkpoint before any was written: %v", err)
		}
		for i := range 12 {
			if _, _, err := sqldb.NewTokenService(db).CreateToken(admin, tillit.TokenCreate{Name: fmt.Sprint(i), Role: tillit.RoleReader}); err != nil {
				t.Fatal(err)
			}
		}
		signer := mustSigner(t)
		if n, err := db.WriteCheckpoints(context.Background(), signer); err != nil || n != 2 {
			t.Fatalf("wrote %d checkpoints, err %v", n, err)
		}
		if n, err := db.WriteCheckpoints(context.Background(), signer); err != nil || n != 0 {
			t.Fatalf("rewrote %d checkpoints without new events, err %v", n, err)
		}
		cp, err := audit.LatestCheckpoint(admin)
		if err != nil {
			t.Fatal(err)
		}
		size, root, err := auditlog.OpenCheckpoint(cp.Note, acme.ID, signer.VerifierKey())
		if err != nil || size != 13 || root != cp.RootHash {
			t.Fatalf("checkpoint: size %d, err %v", size, err)
		}
		events, err := audit.FindEvents(admin, tillit.EventFilter{After: -1, Limit: 1000})
		if err != nil || len(events) != 13 {
			t.Fatalf("%d events, err %v", len(events), err)
		}
		for _, i := range []int64{0, 5, 12} {
			proof, _, err := audit.ProveInclusion(admin, i)
			if err != nil {
				t.Fatal(err)
			}
			if proof.LeafHash != auditlog.LeafHash(events[i]) {
				t.Fatalf("event %d: stored leaf hash is not the event's", i)
			}
			hs := make([]tlog.Hash, len(proof.Hashes))
			for j, h := range proof.Hashes {
				hs[j] = h
			}
			if err := auditlog.CheckInclusion(hs, size, root, i, auditlog.LeafHash(events[i])); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		if _, _, err := audit.ProveInclusion(admin, 13); code(err) != tillit.EInvalid {
			t.Fatalf("proof beyond the checkpoint: %v", err)
		}
	})
}

func TestFindEventsFilters(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		clock := newClock()
		db := sqldbtest.Open(t, dialect, clock)
		acme := sqldbtest.MustTenant(t, db, "acme")
		beta := sqldbtest.MustTenant(t, db, "beta")
		tok, _, admin := sqldbtest.MustToken(t, db, acme, tillit.RoleAdmin)
		_, _, betaAdmin := sqldbtest.MustToken(t, db, beta, tillit.RoleAdmin)
		_, _, reader := sqldbtest.MustToken(t, db, acme, tillit.RoleReader)
		tokens := sqldb.NewTokenService(db)
		start := clock.Now()
		for i := range 5 {
			clock.Add(1e9)
			if _, _, err := tokens.CreateToken(admin, tillit.TokenCreate{Name: fmt.Sprint(i), Role: tillit.RoleReader}); err != nil {
				t.Fatal(err)
			}
		}
		audit := sqldb.NewAuditService(db)
		actor := fmt.Sprintf("token:%d", tok.ID)
		action := "token.create"
		from, to := start.Add(2e9), start.Add(4e9)
		target := "token:999"
		tests := []struct {
			name string
			f    tillit.EventFilter
			want int
		}{
			{"all", tillit.EventFilter{After: -1, Limit: 100}, 7},
			{"by actor", tillit.EventFilter{After: -1, Limit: 100, Actor: &actor}, 5},
			{"by action", tillit.EventFilter{After: -1, Limit: 100, Action: &action}, 7},
			{"by time", tillit.EventFilter{After: -1, Limit: 100, From: &from, To: &to}, 2},
			{"by unknown target", tillit.EventFilter{After: -1, Limit: 100, Target: &target}, 0},
			{"page", tillit.EventFilter{After: 2, Limit: 3}, 3},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := audit.FindEvents(admin, tc.f)
				if err != nil || len(got) != tc.want {
					t.Fatalf("%d events, want %d, err %v", len(got), tc.want, err)
				}
				for _, e := range got {
					if e.Log != acme.ID {
						t.Fatalf("event of log %d in tenant %d's list", e.Log, acme.ID)
					}
				}
			})
		}
		if got, _ := audit.FindEvents(betaAdmin, tillit.EventFilter{After: -1, Limit: 100}); len(got) != 1 {
			t.Fatalf("beta sees %d events", len(got))
		}
		if _, err := audit.FindEvents(reader, tillit.EventFilter{After: -1, Limit: 100}); code(err) != tillit.EForbidden {
			t.Fatalf("a reader read the audit log: %v", err)
		}
		if _, err := audit.FindEvents(admin, tillit.EventFilter{After: -1, Limit: 0}); code(err) != tillit.EInvalid {
			t.Fatalf("limit 0: %v", err)
		}
	})
}

func TestVerifyCatchesTamperingInTheDatabase(t *testing.T) {
	tampers := []struct {
		name      string
		sql       []string
		wantIndex int64
	}{
		{"modified", []string{`UPDATE audit_events SET action = 'token.list' WHERE log_id = $1 AND idx = 4`}, 4},
		{"actor changed", []string{`UPDATE audit_events SET actor = 'token:999' WHERE log_id = $1 AND idx = 7`}, 7},
		{"deleted", []string{`DELETE FROM audit_events WHERE log_id = $1 AND idx = 3`}, 3},
		{"reordered", []string{
			`UPDATE audit_events SET idx = -1 WHERE log_id = $1 AND idx = 5`,
			`UPDATE audit_events SET idx = 5 WHERE log_id = $1 AND idx = 6`,
			`UPDATE audit_events SET idx = 6 WHERE log_id = $1 AND idx = -1`}, 5},
		{"cut back", []string{`DELETE FROM audit_events WHERE log_id = $1 AND idx >= 8`}, 8},
		{"inserted beyond the head", []string{`INSERT INTO audit_events (log_id, idx, at, actor, action, target, fields, outcome, request_id, client_addr, hashes)
			SELECT log_id, 100, at, actor, action, target, fields, outcome, request_id, client_addr, hashes FROM audit_events WHERE log_id = $1 AND idx = 2`}, 100},
	}
	each(t, func(t *testing.T, dialect string) {
		for _, tc := range tampers {
			t.Run(tc.name, func(t *testing.T) {
				url := sqldbtest.URL(t, dialect)
				db := sqldbtest.OpenURL(t, url, nil)
				acme := sqldbtest.MustTenant(t, db, "acme")
				_, _, admin := sqldbtest.MustToken(t, db, acme, tillit.RoleAdmin)
				for i := range 11 {
					if _, _, err := sqldb.NewTokenService(db).CreateToken(admin, tillit.TokenCreate{Name: fmt.Sprint(i), Role: tillit.RoleReader}); err != nil {
						t.Fatal(err)
					}
				}
				signer := mustSigner(t)
				if _, err := db.WriteCheckpoints(context.Background(), signer); err != nil {
					t.Fatal(err)
				}
				if _, err := db.VerifyAudit(context.Background(), &acme.ID, signer.VerifierKey()); err != nil {
					t.Fatalf("intact log: %v", err)
				}
				raw := rawDB(t, dialect, url)
				for _, q := range tc.sql {
					if _, err := raw.Exec(q, acme.ID); err != nil {
						t.Fatal(err)
					}
				}
				_, err := db.VerifyAudit(context.Background(), nil, signer.VerifierKey())
				var f *auditlog.Failure
				if !errors.As(err, &f) {
					t.Fatalf("tampering not caught: %v", err)
				}
				if f.Log != acme.ID || f.Index != tc.wantIndex {
					t.Fatalf("failure %v, want log %d event %d", f, acme.ID, tc.wantIndex)
				}
			})
		}
	})
}
