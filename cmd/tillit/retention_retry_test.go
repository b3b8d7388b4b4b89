package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// TestRetentionDailyRetriesAfterFailure: a failed run of the daily job
// gives the day back, so the next check runs it again instead of waiting
// 23 hours; a run that succeeds keeps the day. The job times itself with
// the injected clock.
func TestRetentionDailyRetriesAfterFailure(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleReader)
			e.setRetentionPolicy(`not a policy`) // the run fails on it
			ctx := context.Background()
			clock := &fixedClock{time.Now().UTC()}
			p := &proc{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: &syncBuffer{},
				getenv: func(string) string { return "" }, clock: clock}
			fs := p.flagSet("serve", "", "")
			cfg := newConfig(fs)
			if err := p.parseConfig(fs, cfg, e.cli.args); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			s, err := openStore(ctx, p, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.close(ctx)
			ranAt := func() int64 {
				t.Helper()
				var at int64
				if err := e.raw(false).QueryRow(`SELECT ran_at FROM jobs WHERE name = 'retention'`).Scan(&at); err != nil {
					t.Fatal(err)
				}
				return at
			}

			s.retentionOnce(ctx)
			if !strings.Contains(logs.String(), `"msg":"retention job failed`) {
				t.Fatalf("no failure logged: %s", logs.String())
			}
			if at := ranAt(); at != 0 {
				t.Fatalf("the failed run kept the day: ran_at %d, want 0", at)
			}

			e.setRetentionPolicy(`{"months":12,"from":"collected_at","mode":"review","grace_days":0}`)
			clock.now = clock.now.Add(time.Hour) // the next check
			s.retentionOnce(ctx)
			if n := e.count(false, "audit_events", "log_id = $1 AND action = 'retention.run' AND actor = 'system:retention'"); n != 1 {
				t.Fatalf("%d runs after the retry, want 1; logs %s", n, logs.String())
			}
			if !strings.Contains(logs.String(), `"msg":"retention job done","tenants":1,"seconds":0`) {
				t.Fatalf("the job is not timed with the injected clock: %s", logs.String())
			}
			if at := ranAt(); at != clock.now.UnixMicro() {
				t.Fatalf("ran_at %d after a successful run, want %d", at, clock.now.UnixMicro())
			}
			clock.now = clock.now.Add(time.Hour)
			s.retentionOnce(ctx)
			if n := e.count(false, "audit_events", "log_id = $1 AND action = 'retention.run'"); n != 1 {
				t.Fatalf("%d runs after a successful run the same day", n)
			}
		})
	}
}
