// Package sqldb is the one database/sql store of tillit, for SQLite
// (modernc.org/sqlite) and PostgreSQL (pgx). Queries are the same for both,
// with $N placeholders; only the DDL of the migrations differs per dialect.
//
// Exported methods own their transaction; unexported helpers take a *Tx.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"tillit"
)

// Config says which database to open.
type Config struct {
	URL    string // "postgres://…" for PostgreSQL, else a SQLite file path
	Clock  tillit.Clock
	Logger *slog.Logger
}

// The dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is an open store. Its services share it.
type DB struct {
	dialect string
	schema  string  // dataSchema or keystoreSchema: which migrations it has
	write   *sql.DB // SQLite: one connection, so writers queue in Go, not in SQLITE_BUSY
	read    *sql.DB // SQLite: a pool of readers; PostgreSQL: the same pool as write
	clock   tillit.Clock
	logger  *slog.Logger

	stmtMu    sync.Mutex
	stmts     map[string]*sql.Stmt // see prepareHot
	readStmts map[string]*sql.Stmt // see readStmt

	group      groupCommit // RecordEvent's batches
	tokenCache tokenCache  // recently authenticated tokens

	stopCheckpoints func() // SQLite: stops the checkpointer and waits for it
	// cutLog asks the checkpointer to empty the write-ahead log at its next
	// turn (SQLite): the key store sets it when it deletes keys.
	cutLog atomic.Bool
}

// IsPostgres reports whether a database URL selects PostgreSQL.
func IsPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// Open opens the database; it does not migrate. Errors: EUnavailable.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	return open(ctx, cfg, dataSchema)
}

func open(ctx context.Context, cfg Config, schema string) (*DB, error) {
	db := &DB{clock: cfg.Clock, logger: cfg.Logger, schema: schema}
	db.group.idle.L = &db.group.mu
	if db.clock == nil {
		db.clock = tillit.SystemClock{}
	}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if IsPostgres(cfg.URL) {
		err = db.openPostgres(cfg.URL)
	} else {
		err = db.openSQLite(cfg.URL)
	}
	if err == nil {
		err = db.read.PingContext(ctx)
	}
	if err != nil {
		db.closeConns()
		return nil, &tillit.Error{Code: tillit.EUnavailable, Message: "the database cannot be opened", Err: err}
	}
	db.prepareHot(ctx)
	return db, nil
}

func (db *DB) openPostgres(u string) error {
	db.dialect = Postgres
	conn, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	conn.SetMaxOpenConns(32)
	conn.SetMaxIdleConns(32)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	db.write, db.read = conn, conn
	return nil
}

// sqlitePragmas are set on every SQLite connection: WAL so readers never
// wait for the writer, a busy timeout for other processes (the CLI beside a
// running server), and foreign keys. synchronous=NORMAL in WAL mode survives
// a crash of the process; a power cut may lose the last commits but never
// corrupts the database.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

func (db *DB) openSQLite(path string) error {
	db.dialect = SQLite
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + sqlitePragmas
	if db.schema == keystoreSchema {
		// A destroyed key must not linger in a free page of the file.
		dsn += "&_pragma=secure_delete(1)"
	}
	// The writer keeps up to 256 MiB of pages in memory, each reader 16 MiB:
	// blind indexes are random, so inserts and lookups touch pages all over
	// them (a register of a million people has about 100 MiB of them), and
	// SQLite's default of 2 MiB would read them from the file again and
	// again.
	//
	// The writer leaves checkpoints (copying the write-ahead log into the
	// database file) to a goroutine of their own, off the path of commits,
	// up to a WAL of 64 MiB (see checkpoints); past that the writer checkpoints itself.
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=cache_size(-262144)&_pragma=wal_autocheckpoint(16384)")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-65536)")
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.write, db.read = w, r
	// Make sure the file exists and is in WAL mode before readers open.
	if _, err = w.Exec("PRAGMA user_version"); err != nil {
		return err
	}
	db.stopCheckpoints = db.checkpoints(checkpointEvery)
	return nil
}

// checkpointEvery is how often the checkpointer copies the write-ahead log
// into the database file.
const checkpointEvery = 100 * time.Millisecond

// checkpoints copies the write-ahead log into the database file every
// period, on a reader connection, so that commits do not wait for it (a
// passive checkpoint neither waits for nor blocks readers and the writer).
// When cutLog is set it empties the log instead (a truncating checkpoint,
// which waits for the writer), and tries again next turn if the log was
// busy. It returns a function that stops it and runs a last checkpoint.
func (db *DB) checkpoints(period time.Duration) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := db.checkpoint(ctx); err != nil && ctx.Err() == nil {
					db.logger.Warn("SQLite checkpoint failed", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		_ = db.checkpoint(context.Background())
	}
}

// checkpoint runs one checkpoint: passive, or truncating when cutLog asks.
func (db *DB) checkpoint(ctx context.Context) error {
	if !db.cutLog.Swap(false) {
		_, err := db.read.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		return err
	}
	var busy, frames, copied int
	err := db.read.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
	if err != nil || busy != 0 {
		db.cutLog.Store(true)
	}
	return err
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Ready reports whether the database answers and its migrations are
// current. Errors: EUnavailable.
func (db *DB) Ready(ctx context.Context) error {
	var v int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return &tillit.Error{Code: tillit.EUnavailable, Message: "the database is not ready", Err: err}
	}
	if want := latestMigration(db.schema, db.dialect); v != want {
		return &tillit.Error{Code: tillit.EUnavailable, Message: "the database is not migrated",
			Err: fmt.Errorf("schema version %d, want %d", v, want)}
	}
	return nil
}

// Close waits for the events being recorded, refuses new ones and closes
// the database.
func (db *DB) Close() error {
	db.closeGroup()
	if db.stopCheckpoints != nil {
		db.stopCheckpoints()
	}
	for _, st := range db.stmts {
		st.Close()
	}
	for _, st := range db.readStmts {
		st.Close()
	}
	return db.closeConns()
}

func (db *DB) closeConns() error {
	var err error
	if db.write != nil {
		err = db.write.Close()
	}
	if db.read != nil && db.read != db.write {
		if e := db.read.Close(); err == nil {
			err = e
		}
	}
	return err
}

// now returns the store's time, at the microsecond precision it keeps.
func (db *DB) now() time.Time { return db.clock.Now().UTC().Truncate(time.Microsecond) }
