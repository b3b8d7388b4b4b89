package keyring

import (
	"container/list"
	"sync"
	"time"
)

// lru keeps the most recently used unwrapped person keys, each until it
// expires: a bounded, brief cache, so that a destroyed key does not live on
// in memory for long.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used *lruEntry
	items map[[2]int64]*list.Element
}

type lruEntry struct {
	key     *PersonKey
	expires time.Time
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[[2]int64]*list.Element, max)}
}

func (c *lru) get(tenantID, personID int64, now time.Time) *PersonKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.items[[2]int64{tenantID, personID}]
	if el == nil {
		return nil
	}
	e := el.Value.(*lruEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, [2]int64{tenantID, personID})
		return nil
	}
	c.order.MoveToFront(el)
	return e.key
}

func (c *lru) put(k *PersonKey, expires time.Time) {
	id := [2]int64{k.TenantID, k.PersonID}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[id]; el != nil {
		el.Value = &lruEntry{key: k, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.items[id] = c.order.PushFront(&lruEntry{key: k, expires: expires})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		e := last.Value.(*lruEntry)
		delete(c.items, [2]int64{e.key.TenantID, e.key.PersonID})
	}
}

func (c *lru) remove(tenantID, personID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[[2]int64{tenantID, personID}]; el != nil {
		c.order.Remove(el)
		delete(c.items, [2]int64{tenantID, personID})
	}
}
