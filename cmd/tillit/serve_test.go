package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// TestCheckpointEvery shows the server signs a checkpoint of a log that
// grew without waiting for shutdown.
func TestCheckpointEvery(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Data = dir
	p := &proc{stderr: io.Discard, clock: tillit.SystemClock{}}
	s, err := openStore(context.Background(), p, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.checkpointEvery(ctx, 20*time.Millisecond)

	tenant := sqldbtest.MustTenant(t, s.db, "acme")
	_, _, admin := sqldbtest.MustToken(t, s.db, tenant, tillit.RoleAdmin)
	audit := sqldb.NewAuditService(s.db)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cp, err := audit.LatestCheckpoint(admin); err == nil && cp.Size == 1 {
			return
		}
	}
	t.Fatal("no checkpoint of the tenant's log was signed within 5 s")
}
