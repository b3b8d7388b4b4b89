package sqldb

import (
	"context"
	"fmt"

	"tillit"
)

// maxCreateBatch bounds the people one combined create writes.
const maxCreateBatch = 128

// pendingCreate is a validated, indexed person waiting to be written.
type pendingCreate struct {
	ctx      context.Context
	tenantID int64
	row      *importRow
}

// create writes one prepared person through the combiner (one key store
// and one data transaction for concurrent creates) and returns once it is
// stored (or refused). The request's event is written with it.
func (s *PeopleService) create(ctx context.Context, tenantID int64, row *importRow) error {
	return s.creates.do(pendingCreate{ctx: ctx, tenantID: tenantID, row: row}, maxCreateBatch, s.writeCreates)
}

// writeCreates makes the keys of a batch (one key store transaction per
// tenant) and writes the people with their events in one transaction. A
// person another has the national id or e-mail of is refused alone.
func (s *PeopleService) writeCreates(batch []pendingCreate) []error {
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
