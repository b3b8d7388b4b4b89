// Package sqldb is the one database/sql store of tillit, for SQLite
// (modernc.org/sqlite) and PostgreSQL (pgx). Queries are the same for both
// with $N placeholders; only the DDL of the migrations differs per dialect.
package sqldb

import (
	"context"
	"errors"
	"log/slog"

	"tillit"
)

// Config says which database to open.
type Config struct {
	URL    string // "postgres://…" for PostgreSQL, else a SQLite file path or "file:" URL
	Clock  tillit.Clock
	Logger *slog.Logger
}

// DB is an open store. Its services share it.
type DB struct {
	cfg Config
}

// Open opens the database; it does not migrate. Errors: EUnavailable.
func Open(ctx context.Context, cfg Config) (*DB, error) { return nil, errors.New("TODO") }

// Migrate applies the migrations that are not yet applied, each in its own
// transaction, and returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int, error) { return nil, errors.New("TODO") }

// Ready reports whether the database answers and its migrations are current.
func (db *DB) Ready(ctx context.Context) error { return errors.New("TODO") }

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return "" }

// Close stops the event recorder and closes the database.
func (db *DB) Close() error { return nil }

// RecordEvent writes an event that is not part of a change, batched with
// other such events in one transaction (group commit). It returns once the
// event is stored.
func (db *DB) RecordEvent(ctx context.Context, e *tillit.Event) error { return errors.New("TODO") }

var _ tillit.EventRecorder = (*DB)(nil)
