package sqldb_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

func benchEvent(log int64) *tillit.Event {
	return &tillit.Event{Log: log, Actor: "token:1", Action: "person.read", Target: "person:123",
		Fields: []string{"given_name", "family_name"}, Outcome: tillit.OutcomeOK,
		RequestID: "0123456789abcdef0123456789abcdef", ClientAddr: "127.0.0.1"}
}

// BenchmarkAuditAppend measures a small change in its own transaction,
// without and with its audit event: the difference is what appending the
// event adds to a request that changes something.
func BenchmarkAuditAppend(b *testing.B) {
	for _, dialect := range sqldbtest.Engines(b) {
		db := sqldbtest.Open(b, dialect, nil)
		t := sqldbtest.MustTenant(b, db, "acme")
		ctx := context.Background()
		for _, withEvent := range []bool{false, true} {
			name := dialect + "/change-only"
			if withEvent {
				name = dialect + "/change+event"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if err := db.ChangeForTest(ctx, t.ID, withEvent); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAuditRecordParallel measures events recorded by concurrent
// requests through the group committer: what the audit log adds to a read.
func BenchmarkAuditRecordParallel(b *testing.B) {
	for _, dialect := range sqldbtest.Engines(b) {
		b.Run(dialect, func(b *testing.B) {
			db := sqldbtest.Open(b, dialect, nil)
			t := sqldbtest.MustTenant(b, db, "acme")
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := db.RecordEvent(context.Background(), benchEvent(t.ID)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAuditVerify measures tillit audit verify over a log of
// TILLIT_BENCH_EVENTS events (default 1,000,000) on SQLite.
func BenchmarkAuditVerify(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("TILLIT_BENCH_EVENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	db := sqldbtest.Open(b, "sqlite", nil)
	t := sqldbtest.MustTenant(b, db, "acme")
	ctx := context.Background()
	for done := 0; done < n; {
		batch := make([]*tillit.Event, min(256, n-done))
		for i := range batch {
			batch[i] = benchEvent(t.ID)
		}
		if err := db.AppendEventsForTest(ctx, batch); err != nil {
			b.Fatal(err)
		}
		done += len(batch)
	}
	signer := mustSigner(b)
	if _, err := db.WriteCheckpoints(ctx, signer); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var events int64
	for b.Loop() {
		r, err := db.VerifyAudit(ctx, &t.ID, signer.VerifierKey())
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
