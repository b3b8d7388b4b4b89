package sqldb

import "sync"

// combiner writes the work of concurrent calls together (creates of people,
// erasures), so that calls arriving at once share one key store and one
// data transaction instead of queueing behind each other's commits. Like
// the group commit of events, the first call to arrive leads: it writes
// what is queued, its own included, and hands the lead to the first call
// that queued meanwhile, so a lone call waits for nobody.
type combiner[T, R any] struct {
	mu      sync.Mutex
	queue   []*combined[T, R]
	leading bool
}

// combined is one call's work waiting to be written.
type combined[T, R any] struct {
	item T
	done chan combinedOutcome[R] // one outcome: the result, or the lead
}

type combinedOutcome[R any] struct {
	res  R
	lead bool // the receiver leads now: its own item is not written yet
}

// do queues item and returns its result once a leader (this call or
// another) has written it with write, at most max items at a time. write
// returns one result per item, in order.
func (c *combiner[T, R]) do(item T, max int, write func([]T) []R) R {
	p := &combined[T, R]{item: item, done: make(chan combinedOutcome[R], 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.leading {
		c.leading = true
		c.mu.Unlock()
		return c.lead(p, max, write)
	}
	c.mu.Unlock()
	if o := <-p.done; !o.lead {
		return o.res
	}
	return c.lead(p, max, write)
}

// lead writes up to max queued items, p's among them, answers the others
// and passes the lead on.
func (c *combiner[T, R]) lead(p *combined[T, R], max int, write func([]T) []R) R {
	c.mu.Lock()
	n := min(len(c.queue), max)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	items := make([]T, len(batch))
	for i, q := range batch {
		items[i] = q.item
	}
	results := write(items)
	var mine R
	for i, q := range batch {
		if q == p {
			mine = results[i]
		} else {
			q.done <- combinedOutcome[R]{res: results[i]}
		}
	}
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].done <- combinedOutcome[R]{lead: true}
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return mine
}
