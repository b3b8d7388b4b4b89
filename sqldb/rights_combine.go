package sqldb

import (
	"context"
	"slices"
	"sync"

	"tillit"
)

// maxEraseCombined bounds the people one combined erasure erases.
const maxEraseCombined = 128

// eraseCombiner erases the people of concurrent ErasePerson calls together,
// as createCombiner creates: one key store transaction and one data
// transaction for all of them instead of two each, so that erasures
// arriving at once do not queue behind each other's commits. The first to
// arrive leads; a lone erasure waits for nobody.
type eraseCombiner struct {
	mu      sync.Mutex
	queue   []*pendingErase
	leading bool
}

// pendingErase is one person waiting to be erased.
type pendingErase struct {
	ctx      context.Context // the request's: its event is the person's
	tenantID int64
	id       int64
	done     chan eraseOutcome
}

type eraseOutcome struct {
	res  eraseResult
	lead bool // the receiver leads now: its own person is not erased yet
}

// eraseResult is what became of one person: erased (receipt), held, not
// found (neither), or an error.
type eraseResult struct {
	receipt *tillit.Receipt
	held    bool
	err     error
}

// eraseOne erases one person through the combiner.
func (s *PeopleService) eraseOne(ctx context.Context, tenantID, id int64) eraseResult {
	c := &s.erases
	p := &pendingErase{ctx: ctx, tenantID: tenantID, id: id, done: make(chan eraseOutcome, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.leading {
		c.leading = true
		c.mu.Unlock()
		return s.leadErasures(p)
	}
	c.mu.Unlock()
	if o := <-p.done; !o.lead {
		return o.res
	}
	return s.leadErasures(p)
}

// leadErasures erases up to maxEraseCombined queued people, p's among
// them, answers the others and passes the lead on.
func (s *PeopleService) leadErasures(p *pendingErase) eraseResult {
	c := &s.erases
	c.mu.Lock()
	n := min(len(c.queue), maxEraseCombined)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	results := s.writeErasures(batch)
	var mine eraseResult
	for i, q := range batch {
		if q == p {
			mine = results[i]
		} else {
			q.done <- eraseOutcome{res: results[i]}
		}
	}
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].done <- eraseOutcome{lead: true}
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return mine
}

// writeErasures erases a batch, tenant by tenant. Of two requests for the
// same person, the second finds them gone, as it would one after the other.
func (s *PeopleService) writeErasures(batch []*pendingErase) []eraseResult {
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
