package sqldb

import (
	"context"
	"database/sql"
	"fmt"

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

// verifyBatch is a slice of scanned events handed from the reader to the
// hasher, so that reading and hashing run on both cores.
type verifyBatch struct {
	events []*tillit.Event
	hashes [][]byte
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
	batches := make(chan verifyBatch, 4)
	readErr := make(chan error, 1)
	go func() { readErr <- db.streamEvents(ctx, log, size, batches) }()
	var verr error
	for b := range batches {
		for i, e := range b.events {
			if verr == nil {
				verr = v.Add(e, b.hashes[i])
			}
		}
		if verr != nil {
			cancel()
		}
	}
	if verr != nil {
		return auditlog.Report{}, verr
	}
	if err := <-readErr; err != nil {
		return auditlog.Report{}, translate(err)
	}
	if err := v.Finish(size, frontier); err != nil {
		return auditlog.Report{}, err
	}
	return v.Report(), db.checkBeyondHead(ctx, log)
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

// streamEvents sends the events of log below size, in index order, in
// batches, and closes out.
func (db *DB) streamEvents(ctx context.Context, log, size int64, out chan<- verifyBatch) error {
	defer close(out)
	rows, err := db.read.QueryContext(ctx, `SELECT `+eventColumns+`, hashes FROM audit_events
		WHERE log_id = $1 AND idx < $2 ORDER BY idx`, log, size)
	if err != nil {
		return err
	}
	defer rows.Close()
	const n = 1024
	b := verifyBatch{events: make([]*tillit.Event, 0, n), hashes: make([][]byte, 0, n)}
	for rows.Next() {
		var hs []byte
		e, err := scanEvent(rows, &hs)
		if err != nil {
			return fmt.Errorf("audit log %d: %w", log, err)
		}
		b.events, b.hashes = append(b.events, e), append(b.hashes, hs)
		if len(b.events) == n {
			select {
			case out <- b:
			case <-ctx.Done():
				return nil
			}
			b = verifyBatch{events: make([]*tillit.Event, 0, n), hashes: make([][]byte, 0, n)}
		}
	}
	if len(b.events) > 0 {
		select {
		case out <- b:
		case <-ctx.Done():
		}
	}
	return rows.Err()
}
