package sqldb

import (
	"context"
	"fmt"
	"sync"

	"tillit"
)

// maxCreateBatch bounds the people one combined create writes.
const maxCreateBatch = 128

// createCombiner writes concurrent creates of people together: one
// transaction of the key store for their keys and one of the data for the
// people and their events, instead of two each. Like the group commit of
// events, the first create to arrive leads: it writes what is queued, its
// own included, and hands the lead to the first that queued meanwhile, so
// a lone create waits for nobody.
type createCombiner struct {
	mu      sync.Mutex
	queue   []*pendingCreate
	leading bool
}

// pendingCreate is a validated, indexed person waiting to be written.
type pendingCreate struct {
	ctx      context.Context
	tenantID int64
	row      *importRow
	done     chan createOutcome
}

type createOutcome struct {
	err  error
	lead bool // the receiver leads now: its own person is not written yet
}

// create writes one prepared person through the combiner and returns once
// it is stored (or refused). The request's event is written with it.
func (s *PeopleService) create(ctx context.Context, tenantID int64, row *importRow) error {
	c := &s.creates
	p := &pendingCreate{ctx: ctx, tenantID: tenantID, row: row, done: make(chan createOutcome, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.leading {
		c.leading = true
		c.mu.Unlock()
		return s.leadCreates(p)
	}
	c.mu.Unlock()
	if o := <-p.done; !o.lead {
		return o.err
	}
	return s.leadCreates(p)
}

// leadCreates writes up to maxCreateBatch queued creates, p's among them,
// answers the others and passes the lead on.
func (s *PeopleService) leadCreates(p *pendingCreate) error {
	c := &s.creates
	c.mu.Lock()
	n := min(len(c.queue), maxCreateBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	errs := s.writeCreates(batch)
	var mine error
	for i, q := range batch {
		if q == p {
			mine = errs[i]
		} else {
			q.done <- createOutcome{err: errs[i]}
		}
	}
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].done <- createOutcome{lead: true}
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return mine
}

// writeCreates makes the keys of a batch (one key store transaction per
// tenant) and writes the people with their events in one transaction. A
// person another has the national id or e-mail of is refused alone.
func (s *PeopleService) writeCreates(batch []*pendingCreate) []error {
	ctx := context.Background() // the batch is other requests' too
	errs := make([]error, len(batch))
	byTenant := map[int64][]int{}
	for i, q := range batch {
		byTenant[q.tenantID] = append(byTenant[q.tenantID], i)
	}
	var ok []int // positions whose key is stored
	for tenantID, pos := range byTenant {
		group := make([]*importRow, len(pos))
		for j, i := range pos {
			group[j] = batch[i].row
		}
		if err := s.sealRows(ctx, tenantID, group); err != nil {
			for _, i := range pos {
				errs[i] = err
			}
			continue
		}
		ok = append(ok, pos...)
	}
	if len(ok) == 0 {
		return errs
	}
	err := s.db.withTx(ctx, func(tx *Tx) error {
		rows := make([]*importRow, len(ok))
		tenants := make([]int64, len(ok))
		for j, i := range ok {
			rows[j], tenants[j] = batch[i].row, batch[i].tenantID
			rows[j].p.UpdatedAt, rows[j].p.LastActivityAt = tx.now, tx.now
		}
		stored, err := s.insertPeople(ctx, tx, tenants, rows)
		if err != nil {
			return err
		}
		var events []*tillit.Event
		for j, i := range ok {
			q := batch[i]
			if !stored[j] {
				errs[i] = &tillit.Error{Code: tillit.EConflict, Field: q.row.dup,
					Message: fmt.Sprintf("another person in your register has this %s; look them up instead of adding them twice", q.row.dup)}
				continue
			}
			e := tx.event(q.ctx, q.tenantID, "person.create", personTarget(q.row.p.ID), q.row.fields...)
			events = append(events, e)
			if r := tillit.RequestFromContext(q.ctx); r != nil {
				tx.onCommit = append(tx.onCommit, func() { r.Event, r.Recorded = *e, true })
			}
		}
		if len(events) == 0 {
			return nil
		}
		return tx.appendEvents(ctx, events)
	})
	if err != nil {
		for _, i := range ok {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	var unused = map[int64][]int64{}
	for _, i := range ok {
		if errs[i] != nil {
			unused[batch[i].tenantID] = append(unused[batch[i].tenantID], batch[i].row.p.ID)
		}
	}
	for tenantID, ids := range unused {
		s.destroyUnused(ctx, tenantID, ids)
	}
	return errs
}
