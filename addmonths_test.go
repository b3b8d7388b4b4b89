package tillit

import (
	"testing"
	"time"
)

func TestAddMonthsClamps(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 10, 30, 0, 0, time.UTC) }
	for _, c := range []struct {
		from   time.Time
		months int
		want   time.Time
	}{
		{d(2026, 10, 31), 1, d(2026, 11, 30)},
		{d(2027, 1, 31), 1, d(2027, 2, 28)},
		{d(2028, 1, 31), 1, d(2028, 2, 29)},
		{d(2027, 3, 31), -1, d(2027, 2, 28)},
		{d(2027, 3, 31), -13, d(2026, 2, 28)},
		{d(2027, 5, 31), -1, d(2027, 4, 30)},
		{d(2027, 3, 15), -3, d(2026, 12, 15)},
		{d(2026, 12, 31), 2, d(2027, 2, 28)},
		{d(2027, 3, 31), 0, d(2027, 3, 31)},
	} {
		if got := AddMonths(c.from, c.months); !got.Equal(c.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", c.from.Format(time.DateOnly), c.months, got, c.want)
		}
	}
}

func TestDueAtAtMonthEnd(t *testing.T) {
	p := &RetentionPolicy{Months: 1, From: RetentionFromCollected}
	got := p.DueAt(&Person{CollectedAt: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)})
	if want := time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("due %s, want %s (not 3 March)", got, want)
	}
}
