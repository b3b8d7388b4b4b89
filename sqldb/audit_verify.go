package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"runtime"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
	"tillit/auditlog"
)

// WriteCheckpoints signs and stores a checkpoint for every log that grew
// since its last one, and returns how many it wrote. Several nodes may run
// it at once: a checkpoint of the same size is written once.
func (db *DB) WriteCheckpoints(ctx context.Context, s *auditlog.Signer) (int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT l.id, l.size, l.frontier FROM audit_logs l
		WHERE l.size > COALESCE((SELECT MAX(c.size) FROM audit_checkpoints c WHERE c.log_id = l.id), 0)`)
	if err != nil {
		return 0, translate(err)
	}
	type head struct {
		log, size int64
		frontier  []byte
	}
	var heads []head
	for rows.Next() {
		var h head
		if err := rows.Scan(&h.log, &h.size, &h.frontier); err != nil {
			rows.Close()
			return 0, translate(err)
		}
		heads = append(heads, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	for i, h := range heads {
		f, err := auditlog.ParseFrontier(h.size, h.frontier)
		if err != nil {
			return i, tillit.Internal(err)
		}
		root := f.Root()
		note, err := s.Sign(h.log, h.size, root)
		if err != nil {
			return i, tillit.Internal(err)
		}
		_, err = db.write.ExecContext(ctx, `INSERT INTO audit_checkpoints (log_id, size, root, note, at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (log_id, size) DO NOTHING`,
			h.log, h.size, root[:], note, micros(db.now()))
		if err != nil {
			return i, translate(err)
		}
	}
	return len(heads), nil
}

// VerifyAudit recomputes every log (or only log, if not nil) from its
// stored events and checks every checkpoint against the verifier key. A
// *auditlog.Failure names the first bad event. It reads checkpoints, then
// the head, then the events up to the head, so a server may keep appending
// while it runs.
func (db *DB) VerifyAudit(ctx context.Context, log *int64, verifierKey string) (*auditlog.Report, error) {
	logs, err := db.auditLogs(ctx, log)
	if err != nil {
		return nil, err
	}
	var total auditlog.Report
	for _, id := range logs {
		r, err := db.verifyLog(ctx, id, verifierKey)
		if err != nil {
			return nil, err
		}
		total.Add(r)
	}
	return &total, nil
}

func (db *DB) auditLogs(ctx context.Context, only *int64) ([]int64, error) {
	q, args := `SELECT id FROM audit_logs ORDER BY id`, []any{}
	if only != nil {
		q, args = `SELECT id FROM audit_logs WHERE id = $1`, []any{*only}
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		ids = append(ids, id)
	}
	if only != nil && len(ids) == 0 {
		return nil, tillit.Errorf(tillit.ENotFound, "there is no audit log %d", *only)
	}
	return ids, translate(rows.Err())
}

func (db *DB) checkpointNotes(ctx context.Context, log int64) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT note FROM audit_checkpoints WHERE log_id = $1 ORDER BY size`, log)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var notes []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, translate(err)
		}
		notes = append(notes, n)
	}
	return notes, translate(rows.Err())
}

// verifyChunk is how many events one reader scans at a time. Readers scan
// chunks in parallel and hash their leaves; the verifier takes the chunks
// in order and builds the tree, which is cheap.
const verifyChunk = 8192

// chunkResult is one chunk as a reader hashed it.
type chunkResult struct {
	index  []int64
	leaf   []tlog.Hash
	stored [][]byte
	err    error
}

func (db *DB) verifyLog(ctx context.Context, log int64, vkey string) (auditlog.Report, error) {
	notes, err := db.checkpointNotes(ctx, log)
	if err != nil {
		return auditlog.Report{}, err
	}
	v, err := auditlog.NewLogVerifier(log, vkey, notes)
	if err != nil {
		return auditlog.Report{}, err
	}
	var size int64
	var frontier []byte
	if err := db.read.QueryRowContext(ctx, `SELECT size, frontier FROM audit_logs WHERE id = $1`, log).Scan(&size, &frontier); err != nil {
		return auditlog.Report{}, translate(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for fut := range db.readChunks(ctx, log, size) {
		r := <-fut
		if r.err != nil {
			return auditlog.Report{}, translate(r.err)
		}
		for i, idx := range r.index {
			if err := v.AddLeaf(idx, r.leaf[i], r.stored[i]); err != nil {
				return auditlog.Report{}, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return auditlog.Report{}, translate(err)
	}
	if err := v.Finish(size, frontier); err != nil {
		return auditlog.Report{}, err
	}
	return v.Report(), db.checkBeyondHead(ctx, log)
}

// readChunks reads the events of log below size in chunks, on as many
// readers as there are CPUs, and returns the chunks' results in order. It
// stops when ctx is done.
func (db *DB) readChunks(ctx context.Context, log, size int64) <-chan chan chunkResult {
	workers := max(2, runtime.GOMAXPROCS(0))
	type job struct {
		from int64
		out  chan chunkResult
	}
	jobs := make(chan job)
	order := make(chan chan chunkResult, 2*workers)
	go func() {
		defer close(order)
		defer close(jobs)
		for from := int64(0); from < size; from += verifyChunk {
			j := job{from: from, out: make(chan chunkResult, 1)}
			select {
			case order <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				j.out <- chunkResult{err: ctx.Err()}
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				j.out <- db.readChunk(ctx, log, j.from, min(j.from+verifyChunk, size))
			}
		}()
	}
	return order
}

// readChunk scans the events of log with from <= index < to and hashes
// their leaves from the stored columns.
func (db *DB) readChunk(ctx context.Context, log, from, to int64) chunkResult {
	rows, err := db.read.QueryContext(ctx, `SELECT idx, at, actor, action, target, fields, outcome, request_id, client_addr, hashes
		FROM audit_events WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`, log, from, to)
	if err != nil {
		return chunkResult{err: err}
	}
	defer rows.Close()
	n := to - from
	r := chunkResult{index: make([]int64, 0, n), leaf: make([]tlog.Hash, 0, n), stored: make([][]byte, 0, n)}
	var idx, at int64
	var actor, action, target, fields, outcome, reqID, addr, hashes sql.RawBytes
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(&idx, &at, &actor, &action, &target, &fields, &outcome, &reqID, &addr, &hashes); err != nil {
			return chunkResult{err: err}
		}
		buf = auditlog.AppendLeafColumns(buf[:0], log, idx, at, actor, action, target, fields, outcome, reqID, addr)
		r.index = append(r.index, idx)
		r.leaf = append(r.leaf, tlog.RecordHash(buf))
		r.stored = append(r.stored, bytes.Clone(hashes))
	}
	r.err = rows.Err()
	return r
}

// checkBeyondHead fails if an event is stored outside the log's head: one
// statement, so that events a running server appends meanwhile (and the
// head that counts them) are seen together.
func (db *DB) checkBeyondHead(ctx context.Context, log int64) error {
	var n int64
	var first sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*), MIN(idx) FROM audit_events WHERE log_id = $1
		AND (idx < 0 OR idx >= (SELECT size FROM audit_logs WHERE id = $1))`, log).Scan(&n, &first)
	if err != nil {
		return translate(err)
	}
	if n > 0 {
		return &auditlog.Failure{Log: log, Index: first.Int64, Reason: fmt.Sprintf(
			"%d event(s) are stored outside the log: they were inserted behind its back", n)}
	}
	return nil
}
