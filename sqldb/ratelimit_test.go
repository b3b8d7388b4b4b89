package sqldb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

func TestRateLimit(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		clock := newClock()
		db := sqldbtest.Open(t, dialect, clock)
		ctx := context.Background()
		const key = "login:ip:192.0.2.7"
		steps := []struct {
			wait  time.Duration
			key   string
			ok    bool
			retry time.Duration
		}{
			{0, key, true, 0},
			{10 * time.Second, key, true, 0},
			{10 * time.Second, key, true, 0},
			{10 * time.Second, key, false, 30 * time.Second}, // the fourth in the window
			{0, "login:ip:192.0.2.8", true, 0},               // another key counts apart
			{29 * time.Second, key, false, time.Second},      // still in the window
			{time.Second, key, true, 0},                      // a new window
			{59 * time.Second, key, true, 0},
			{0, key, true, 0},
			{0, key, false, time.Second},
		}
		for i, s := range steps {
			clock.Add(s.wait)
			ok, retry, err := db.Allow(ctx, s.key, 3, time.Minute)
			if err != nil || ok != s.ok || retry != s.retry {
				t.Fatalf("step %d: %v, %v, %v; want %v, %v", i, ok, retry, err, s.ok, s.retry)
			}
		}
		if _, _, err := db.Allow(ctx, key, 0, time.Minute); code(err) != tillit.EInvalid {
			t.Fatalf("limit 0: %v", err)
		}
		clock.Add(time.Hour)
		if n, err := db.PurgeExpired(ctx); err != nil || n != 2 {
			t.Fatalf("purged %d, %v", n, err)
		}
	})
}

func TestRateLimitConcurrent(t *testing.T) {
	// Nodes share the count: concurrent requests never get more than the
	// limit through.
	each(t, func(t *testing.T, dialect string) {
		db := sqldbtest.Open(t, dialect, newClock())
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := db.Allow(context.Background(), "k", 10, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if allowed != 10 {
			t.Fatalf("%d allowed, want 10", allowed)
		}
	})
}
