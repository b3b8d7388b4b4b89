package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// The sets of migrations: the data database's, and the key store's.
const (
	dataSchema     = ""
	keystoreSchema = "keystore"
)

// migrations returns the migrations of a set for a dialect by version. File
// names are NNNN_name.sql; a malformed name is a bug caught by the tests.
func migrations(set, dialect string) []migration {
	dir := path.Join("migrations", set, dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			panic(fmt.Sprintf("sqldb: migration %s is not named NNNN_name.sql", e.Name()))
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms
}

func latestMigration(set, dialect string) int {
	ms := migrations(set, dialect)
	return ms[len(ms)-1].version
}

// Migrate applies the migrations that are not yet applied, each in its own
// transaction with its record in schema_migrations, and returns the names
// of those it applied. Several processes may migrate at once: PostgreSQL
// takes an advisory lock, SQLite's write transactions are exclusive.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, translate(err)
	}
	var applied []string
	for _, m := range migrations(db.schema, db.dialect) {
		done, err := db.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if done {
			applied = append(applied, m.name)
		}
	}
	db.prepareHot(ctx)
	return applied, nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) (applied bool, err error) {
	err = db.withTx(ctx, func(tx *Tx) error {
		if db.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7461696)`); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, micros(tx.now))
		applied = err == nil
		return err
	})
	return applied, err
}
