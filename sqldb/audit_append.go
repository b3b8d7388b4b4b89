package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
	"tillit/auditlog"
)

// maxBatch bounds the events one group commit writes.
const maxBatch = 256

// appendEvents appends events to their logs in tx: for each log it reads and
// locks the head (size and frontier), numbers the events, computes their
// stored hashes, inserts them in one statement and writes the new head.
func (tx *Tx) appendEvents(ctx context.Context, events []*tillit.Event) error {
	byLog := map[int64][]*tillit.Event{}
	var order []int64
	for _, e := range events {
		if err := checkEvent(e); err != nil {
			return err
		}
		if _, ok := byLog[e.Log]; !ok {
			order = append(order, e.Log)
		}
		byLog[e.Log] = append(byLog[e.Log], e)
	}
	for _, log := range order {
		if err := tx.appendToLog(ctx, log, byLog[log]); err != nil {
			return err
		}
	}
	return nil
}

// checkEvent refuses events that would not survive the store: field names
// are kept comma-separated.
func checkEvent(e *tillit.Event) error {
	for _, f := range e.Fields {
		if f == "" || strings.ContainsAny(f, ",\n") {
			return tillit.Internal(fmt.Errorf("audit field name %q is empty or holds a comma", f))
		}
	}
	return nil
}

const (
	selectHead     = `SELECT size, frontier FROM audit_logs WHERE id = $1`
	updateHead     = `UPDATE audit_logs SET size = $1, frontier = $2 WHERE id = $3`
	insertEvent    = `INSERT INTO audit_events (log_id, idx, at, actor, action, target, fields, outcome, request_id, client_addr, hashes) VALUES `
	insertOneEvent = insertEvent + `($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`
)

func (tx *Tx) appendToLog(ctx context.Context, log int64, events []*tillit.Event) error {
	front, err := tx.readHead(ctx, log)
	if err != nil {
		return err
	}
	args := leafArgs(front, events, tx.now)
	if err := tx.insertRows(ctx, insertEvent, 11, args); err != nil {
		return fmt.Errorf("append to audit log %d: %w", log, err)
	}
	if err := tx.execHot(ctx, updateHead, front.Size(), front.Bytes(), log); err != nil {
		return err
	}
	tx.heads = append(tx.heads, front)
	return nil
}

// leafArgs numbers events from the head front, which it advances, and
// returns the arguments of their rows: 11 a row, in insertEvent's order.
func leafArgs(front *auditlog.Frontier, events []*tillit.Event, now time.Time) []any {
	args := make([]any, 0, len(events)*11)
	var buf []byte
	for _, e := range events {
		e.Index = front.Size()
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC().Truncate(time.Microsecond) // the store keeps microseconds
		buf = auditlog.AppendLeaf(buf[:0], e)
		hashes := front.Append(tlog.RecordHash(buf))
		args = append(args, e.Log, e.Index, micros(e.At), e.Actor, e.Action, e.Target,
			strings.Join(e.Fields, ","), e.Outcome, e.RequestID, e.ClientAddr, auditlog.JoinHashes(hashes))
	}
	return args
}

// readHead reads and locks the head of a log.
func (tx *Tx) readHead(ctx context.Context, log int64) (*auditlog.Frontier, error) {
	q := selectHead
	if tx.db.dialect == Postgres {
		q += " FOR UPDATE"
	}
	row := tx.QueryRowContext
	if st := tx.stmt(ctx, q); st != nil {
		row = func(ctx context.Context, _ string, args ...any) *sql.Row { return st.QueryRowContext(ctx, args...) }
	}
	var size int64
	var raw []byte
	if err := row(ctx, q, log).Scan(&size, &raw); err != nil {
		return nil, fmt.Errorf("audit log %d head: %w", log, err)
	}
	front, err := auditlog.ParseFrontier(size, raw)
	if err != nil {
		return nil, tillit.Internal(err)
	}
	return front, nil
}

// execHot runs q, from a prepared statement if there is one.
func (tx *Tx) execHot(ctx context.Context, q string, args ...any) error {
	var err error
	if st := tx.stmt(ctx, q); st != nil {
		_, err = st.ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, q, args...)
	}
	return err
}

// event returns the audit event of the change tx is making: the request's
// event when ctx carries a request, else a new one for the principal of ctx
// (the operator CLI). log is the log it belongs to.
func (tx *Tx) event(ctx context.Context, log int64, action, target string, fields ...string) *tillit.Event {
	var e tillit.Event
	if r := tillit.RequestFromContext(ctx); r != nil {
		e = r.Event
	}
	e.Log, e.Action, e.Target, e.Fields, e.Outcome = log, action, target, fields, tillit.OutcomeOK
	e.Actor = tillit.PrincipalFromContext(ctx).Actor()
	if e.At.IsZero() {
		e.At = tx.now
	}
	return &e
}

// record appends the event of the change and, once tx commits, marks the
// request's event as recorded so the web layer does not write it again.
// It must be the last write of the transaction's function.
func (tx *Tx) record(ctx context.Context, e *tillit.Event) error {
	return tx.recordWith(ctx, e)
}

// recordWith appends e, the request's event, followed by more events, and
// marks e recorded as tx.record does. It must be the last write.
func (tx *Tx) recordWith(ctx context.Context, e *tillit.Event, more ...*tillit.Event) error {
	if err := tx.appendEvents(ctx, append([]*tillit.Event{e}, more...)); err != nil {
		return err
	}
	if r := tillit.RequestFromContext(ctx); r != nil {
		tx.onCommit = append(tx.onCommit, func() {
			r.Event = *e
			r.Recorded = true
		})
	}
	return nil
}

// groupCommit batches the events of requests that changed nothing, so
// that concurrent requests share one transaction. The first request to
// arrive leads: it writes what is queued, including its own event, and
// hands the lead to the first request that queued meanwhile. A lone request
// thus commits its event itself, with no hand-off to another goroutine.
type groupCommit struct {
	// heads is, on PostgreSQL, the head of each log as the last batch left
	// it. Only the leader uses it.
	heads  map[int64]*auditlog.Frontier
	atHead int // batches appendAtHead wrote, for tests

	mu      sync.Mutex
	idle    sync.Cond // signalled when leading becomes false
	queue   []*pending
	leading bool
	closed  bool
}

// pending is an event waiting to be written.
type pending struct {
	e    []*tillit.Event // the request's event, then those it also touched
	done chan outcome    // one outcome: the result, or the lead
}

type outcome struct {
	err  error
	lead bool // the receiver leads now: its own event is not written yet
}

// RecordEvent writes an event that is not part of a change (a read, a
// refusal), batched with the events of concurrent requests in one
// transaction (group commit). It returns once the event is stored, so a
// request can fail closed. Errors: EUnavailable.
func (db *DB) RecordEvent(ctx context.Context, e *tillit.Event, also ...*tillit.Event) error {
	g := &db.group
	p := &pending{e: append([]*tillit.Event{e}, also...), done: make(chan outcome, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return tillit.Errorf(tillit.EUnavailable, "the server is shutting down")
	}
	g.queue = append(g.queue, p)
	if !g.leading {
		g.leading = true
		g.mu.Unlock()
		return db.lead(p)
	}
	g.mu.Unlock()
	if o := <-p.done; !o.lead {
		return o.err
	}
	return db.lead(p)
}

// lead writes up to maxBatch queued events, p's first among them, answers
// the others, and passes the lead on if more are queued.
func (db *DB) lead(p *pending) error {
	g := &db.group
	g.mu.Lock()
	n := min(len(g.queue), maxBatch)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	var events []*tillit.Event
	for _, q := range batch {
		events = append(events, q.e...)
	}
	ctx := context.Background() // the batch is other requests' too
	err := db.appendBatch(ctx, events)
	if err != nil {
		db.logger.Error("audit events not stored", "err", err, "events", len(batch))
	}
	for _, q := range batch {
		if q != p {
			q.done <- outcome{err: err}
		}
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- outcome{lead: true}
	} else {
		g.leading = false
		g.idle.Broadcast()
	}
	g.mu.Unlock()
	return err
}

// appendBatch writes a batch of events of requests that changed nothing.
// On PostgreSQL a batch of one log whose head the last batch left is one
// statement (appendAtHead); otherwise, or if another writer moved the head
// since, it takes a transaction that locks and reads the head first.
func (db *DB) appendBatch(ctx context.Context, events []*tillit.Event) error {
	g := &db.group
	if db.dialect != Postgres {
		return db.withTx(ctx, func(tx *Tx) error { return tx.appendEvents(ctx, events) })
	}
	log := events[0].Log
	if front := g.heads[log]; front != nil && oneLog(events) {
		done, err := db.appendAtHead(ctx, front, events)
		if err != nil || done {
			if err != nil {
				delete(g.heads, log)
			}
			return err
		}
	}
	var heads []*auditlog.Frontier
	err := db.withTx(ctx, func(tx *Tx) error {
		if err := tx.appendEvents(ctx, events); err != nil {
			return err
		}
		heads = tx.heads
		return nil
	})
	if err != nil || len(heads) != 1 {
		clear(g.heads)
		return err
	}
	if g.heads == nil {
		g.heads = map[int64]*auditlog.Frontier{}
	}
	g.heads[log] = heads[0]
	return nil
}

// oneLog reports whether all events belong to the log of the first.
func oneLog(events []*tillit.Event) bool {
	for _, e := range events[1:] {
		if e.Log != events[0].Log {
			return false
		}
	}
	return true
}

// appendAtHead appends events of one log as a single statement, in one
// round trip instead of five (begin, lock and read the head, insert, move
// the head, commit): the head moves from front only if the log still ends
// there, and the events are inserted only if it moved. It reports false,
// having written nothing, when another writer appended since; then
// neither front nor the events' numbers are to be trusted. On success
// front is the new head.
func (db *DB) appendAtHead(ctx context.Context, front *auditlog.Frontier, events []*tillit.Event) (bool, error) {
	next, err := auditlog.ParseFrontier(front.Size(), front.Bytes()) // front stays as it was if this fails
	if err != nil {
		return false, tillit.Internal(err)
	}
	args := leafArgs(next, events, db.now())
	res, err := db.write.ExecContext(ctx, appendAtHeadSQL(len(events)),
		append([]any{next.Size(), next.Bytes(), events[0].Log, front.Size()}, args...)...)
	if err != nil {
		return false, fmt.Errorf("append to audit log %d: %w", events[0].Log, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	if n != int64(len(events)) {
		return false, tillit.Internal(fmt.Errorf("audit log %d: %d of %d events inserted", events[0].Log, n, len(events)))
	}
	*front = *next
	db.group.atHead++
	return true, nil
}

// appendAtHeadSQL is appendAtHead's statement for n events. PostgreSQL
// does not infer the types of parameters in a VALUES list that is not
// the insert's own, so each is cast.
func appendAtHeadSQL(n int) string {
	const row = "($%d::bigint, $%d::bigint, $%d::bigint, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::bytea)"
	var b strings.Builder
	b.WriteString(`WITH head AS (UPDATE audit_logs SET size = $1, frontier = $2 WHERE id = $3 AND size = $4 RETURNING id) ` +
		strings.TrimSuffix(insertEvent, "VALUES ") + `SELECT v.* FROM head, (VALUES `)
	p := 5
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, row, p, p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+9, p+10)
		p += 11
	}
	b.WriteString(") AS v")
	return b.String()
}

// closeGroup refuses new events and waits for the queued ones to be
// written.
func (db *DB) closeGroup() {
	g := &db.group
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.leading {
		g.idle.Wait()
	}
}
