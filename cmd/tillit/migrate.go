package main

import (
	"context"
	"fmt"
	"os"

	"tillit/sqldb"
)

// runMigrate applies the database migrations that are not applied yet, and
// prints the versions it applied.
func runMigrate(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("migrate", "[flags]",
		"Apply the database migrations that are not applied yet, and exit.\n`tillit serve` applies them at start too.")
	cfg := newConfig(fs)
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db, err := sqldb.Open(ctx, sqldb.Config{URL: cfg.StoreURL(), Clock: p.clock, Logger: p.newLogger(cfg)})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	for _, m := range applied {
		fmt.Fprintf(p.stdout, "applied %s\n", m)
	}
	if err == nil && len(applied) == 0 {
		fmt.Fprintln(p.stdout, "the database is up to date")
	}
	return err
}
