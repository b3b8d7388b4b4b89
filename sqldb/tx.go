package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"tillit"
	"tillit/auditlog"
)

// Tx is a write transaction, with the time it started and the events it
// appends to the audit log on commit.
type Tx struct {
	*sql.Tx
	db       *DB
	now      time.Time
	onCommit []func()             // run after a successful commit
	heads    []*auditlog.Frontier // the heads of the logs it appended to
}

// withTx runs fn in a write transaction and commits it if fn returns nil.
// Errors are translated to *tillit.Error.
func (db *DB) withTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	tx := &Tx{Tx: sqlTx, db: db, now: db.now()}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return translate(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return translate(err)
	}
	for _, f := range tx.onCommit {
		f()
	}
	return nil
}

// hotStatements are prepared once per process on the write pool, after
// the migrations (see prepareHot): on SQLite the write pool is one
// connection, so they are parsed once; pgx caches prepared statements per
// connection by itself, so PostgreSQL does not need them.
var hotStatements = map[string][]string{
	dataSchema:     {selectHead, updateHead, insertOneEvent, sqliteRow(insertPersonPrefix, insertPersonCols) + onConflictNothing},
	keystoreSchema: {sqliteRow(insertPersonKeyPrefix, 4)},
}

// onConflictNothing ends an insert that leaves out rows breaking a unique
// index.
const onConflictNothing = " ON CONFLICT DO NOTHING"

// sqliteRow returns the single-row form of an insert for SQLite: the
// prefix and a row of cols "?" placeholders.
func sqliteRow(prefix string, cols int) string {
	return prefix + "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
}

// prepareHot prepares the hot statements, if the schema has their tables.
// It must not run inside a transaction of the write pool.
func (db *DB) prepareHot(ctx context.Context) {
	if db.dialect != SQLite {
		return
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	for _, q := range hotStatements[db.schema] {
		if db.stmts[q] != nil {
			continue
		}
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			return // not migrated yet
		}
		if db.stmts == nil {
			db.stmts = map[string]*sql.Stmt{}
		}
		db.stmts[q] = st
	}
}

// stmt returns the prepared statement q bound to tx, or nil if q was not
// prepared.
func (tx *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	tx.db.stmtMu.Lock()
	st := tx.db.stmts[q]
	tx.db.stmtMu.Unlock()
	if st == nil {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// translate turns driver errors into *tillit.Error, once, at the store's
// boundary. *tillit.Error values pass through.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var te *tillit.Error
	switch {
	case errors.As(err, &te):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return &tillit.Error{Code: tillit.ENotFound, Message: "not found", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &tillit.Error{Code: tillit.EUnavailable, Message: "the request was cancelled or took too long", Err: err}
	case isUniqueViolation(err):
		return &tillit.Error{Code: tillit.EConflict, Message: "it exists already", Err: err}
	case isDataException(err):
		return &tillit.Error{Code: tillit.EInvalid, Message: "a value is not valid text (invalid UTF-8 or a NUL character)", Err: err}
	}
	return &tillit.Error{Code: tillit.EUnavailable, Message: "the database failed; try again", Err: err}
}

// isDataException reports a PostgreSQL data exception (SQLSTATE class 22),
// such as text with invalid UTF-8 or a NUL: the input's fault, not ours.
func isDataException(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && strings.HasPrefix(pg.Code, "22")
}

func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		c := lite.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// micros converts a time to the Unix microseconds the store keeps.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts stored Unix microseconds to a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros converts an optional time for storage.
func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// timePtr converts an optional stored time.
func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// isConflict reports whether err is a translated unique violation.
func isConflict(err error) bool { return tillit.ErrorCode(err) == tillit.EConflict }

// insertRows inserts rows of cols values each, args holding them row after
// row, with prefix "INSERT INTO t (a, b) VALUES ". PostgreSQL gets
// multi-row statements (one round trip per 500 rows); SQLite one prepared
// single-row statement per row, since its parser slows down with thousands
// of parameters and a prepared statement costs no round trip.
func (tx *Tx) insertRows(ctx context.Context, prefix string, cols int, args []any) error {
	rows := len(args) / cols
	if tx.db.dialect == SQLite {
		q := sqliteRow(prefix, cols)
		if prefix == insertEvent {
			q = insertOneEvent
		}
		st := tx.stmt(ctx, q)
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			defer st.Close()
		}
		for r := range rows {
			if _, err := st.ExecContext(ctx, args[r*cols:(r+1)*cols]...); err != nil {
				return err
			}
		}
		return nil
	}
	const chunk = 500
	for start := 0; start < rows; start += chunk {
		n := min(chunk, rows-start)
		if _, err := tx.ExecContext(ctx, prefix+valueRows(n, cols), args[start*cols:(start+n)*cols]...); err != nil {
			return err
		}
	}
	return nil
}

// params returns the placeholders of n parameters numbered from first, in
// order: "$2, $3" on PostgreSQL, "?, ?" on SQLite (whose parser is slow
// with many numbered ones). Every parameter after them must be a "?" too,
// or numbered after them.
func (db *DB) params(first, n int) string {
	if db.dialect == SQLite {
		return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	}
	return placeholders(first, n)
}

// queryRow runs a query of the read pool from a statement prepared once per
// process (database/sql prepares it again on each connection as needed):
// for the hot reads of every request, which SQLite would otherwise parse
// each time.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.readStmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, q, args...)
}

// query is queryRow for queries of several rows.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.readStmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, q, args...)
}

// readStmt returns the prepared statement of q on the read pool, preparing
// it on first use; nil if it cannot be prepared (the caller runs q as is,
// and meets the error there).
func (db *DB) readStmt(ctx context.Context, q string) *sql.Stmt {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st := db.readStmts[q]; st != nil {
		return st
	}
	st, err := db.read.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if db.readStmts == nil {
		db.readStmts = map[string]*sql.Stmt{}
	}
	db.readStmts[q] = st
	return st
}

// hotReads is the read pool as a querier whose statements are prepared once
// (see queryRow).
type hotReads struct{ db *DB }

func (h hotReads) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return h.db.queryRow(ctx, q, args...)
}

func (h hotReads) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.db.query(ctx, q, args...)
}

// insertRowsIgnoring is insertRows with ON CONFLICT DO NOTHING: rows that
// would break a unique index are left out. It reports which rows (by
// position) were inserted; the table's first column must be its id (an
// integer that tells the rows apart).
func (tx *Tx) insertRowsIgnoring(ctx context.Context, prefix string, cols int, args []any) ([]bool, error) {
	rows := len(args) / cols
	inserted := make([]bool, rows)
	if tx.db.dialect == SQLite {
		q := sqliteRow(prefix, cols) + onConflictNothing
		st := tx.stmt(ctx, q)
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return nil, err
			}
			defer st.Close()
		}
		for r := range rows {
			res, err := st.ExecContext(ctx, args[r*cols:(r+1)*cols]...)
			if err != nil {
				return nil, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, err
			}
			inserted[r] = n == 1
		}
		return inserted, nil
	}
	const chunk = 500
	for start := 0; start < rows; start += chunk {
		n := min(chunk, rows-start)
		res, err := tx.QueryContext(ctx, prefix+valueRows(n, cols)+onConflictNothing+" RETURNING id", args[start*cols:(start+n)*cols]...)
		if err != nil {
			return nil, err
		}
		done := map[int64]bool{}
		for res.Next() {
			var id int64
			if err := res.Scan(&id); err != nil {
				res.Close()
				return nil, err
			}
			done[id] = true
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, err
		}
		for r := start; r < start+n; r++ {
			id, _ := args[r*cols].(int64)
			inserted[r] = done[id]
		}
	}
	return inserted, nil
}
