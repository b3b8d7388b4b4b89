package sqldb

import (
	"context"
	"slices"

	"tillit"
)

// maxEraseCombined bounds the people one combined erasure erases.
const maxEraseCombined = 128

// pendingErase is one person waiting to be erased.
type pendingErase struct {
	ctx      context.Context // the request's: its event is the person's
	tenantID int64
	id       int64
}

// eraseResult is what became of one person: erased (receipt), held, not
// found (neither), or an error.
type eraseResult struct {
	receipt *tillit.Receipt
	held    bool
	err     error
}

// eraseOne erases one person through the combiner: concurrent erasures
// share one key store and one data transaction, so that they do not queue
// behind each other's commits.
func (s *PeopleService) eraseOne(ctx context.Context, tenantID, id int64) eraseResult {
	return s.erases.do(pendingErase{ctx: ctx, tenantID: tenantID, id: id}, maxEraseCombined, s.writeErasures)
}

// writeErasures erases a batch, tenant by tenant. Of two requests for the
// same person, the second finds them gone, as it would one after the other.
func (s *PeopleService) writeErasures(batch []pendingErase) []eraseResult {
	ctx := context.Background() // the batch is other requests' too
	results := make([]eraseResult, len(batch))
	byTenant := map[int64][]int{}
	for i, q := range batch {
		byTenant[q.tenantID] = append(byTenant[q.tenantID], i)
	}
	for tenantID, pos := range byTenant {
		reqs := map[int64]context.Context{}
		var ids []int64
		var mine []int // positions erased by this batch, not duplicates
		for _, i := range pos {
			q := batch[i]
			if _, dup := reqs[q.id]; dup {
				results[i].err = personNotFound()
				continue
			}
			reqs[q.id] = q.ctx
			ids = append(ids, q.id)
			mine = append(mine, i)
		}
		slices.Sort(ids)
		out := &tillit.BulkErasure{}
		slug, err := s.tenantSlug(ctx, tenantID)
		if err == nil {
			err = s.eraseBatch(ctx, tenantID, slug, ids, out, reqs)
		}
		receipts := map[int64]*tillit.Receipt{}
		for _, r := range out.Receipts {
			receipts[r.PersonID] = r
		}
		for _, i := range mine {
			id := batch[i].id
			switch {
			case err != nil:
				results[i].err = err
			case receipts[id] != nil:
				results[i].receipt = receipts[id]
			case slices.Contains(out.Held, id):
				results[i].held = true
			}
		}
	}
	return results
}
