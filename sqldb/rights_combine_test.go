package sqldb_test

import (
	"sync"
	"testing"

	"tillit"
)

// Concurrent erasures are combined: each request gets its own receipt and
// its own event (once), a person asked for twice at once is erased once,
// and the log verifies.
func TestConcurrentErasures(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		priv := e.privacy(true)
		const n = 24
		var ids []int64
		for _, p := range numbered(n) {
			if err := e.svc.CreatePerson(e.cw, p); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		twice := ids[0]
		asks := append(append([]int64{}, ids...), twice)
		reqs := make([]*tillit.Request, len(asks))
		results := make([]*tillit.Receipt, len(asks))
		errs := make([]error, len(asks))
		var wg sync.WaitGroup
		for i, id := range asks {
			reqs[i] = &tillit.Request{Event: tillit.Event{Log: e.tenant.ID, RequestID: "req-" + itoa(int64(i))}}
			wg.Go(func() {
				results[i], errs[i] = e.svc.ErasePerson(tillit.NewContextWithRequest(priv, reqs[i]), id)
			})
		}
		wg.Wait()
		erasedTwice := 0
		for i, id := range asks {
			switch {
			case errs[i] == nil:
				if results[i].PersonID != id || !reqs[i].Recorded || reqs[i].Event.Target != personTarget(id) ||
					reqs[i].Event.RequestID != "req-"+itoa(int64(i)) {
					t.Fatalf("erasure %d of %d: receipt %+v, request event %+v recorded %v", i, id, results[i], reqs[i].Event, reqs[i].Recorded)
				}
				verifyReceipt(t, results[i], tillit.ReceiptErasure, id, results[i].Erased)
				if id == twice {
					erasedTwice++
				}
			case id == twice && code(errs[i]) == tillit.ENotFound && !reqs[i].Recorded:
			default:
				t.Fatalf("erasure %d of %d: %v", i, id, errs[i])
			}
		}
		if erasedTwice != 1 {
			t.Fatalf("the person asked for twice was erased %d times", erasedTwice)
		}
		events := map[string]int{}
		for _, ev := range e.events() {
			if ev.Action == "person.erase" {
				events[ev.Target]++
			}
		}
		for _, id := range ids {
			if events[personTarget(id)] != 1 {
				t.Fatalf("person %d: %d erase events", id, events[personTarget(id)])
			}
		}
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM people`); n != 0 {
			t.Fatalf("%d people left", n)
		}
		e.verifyAudit()
	})
}
