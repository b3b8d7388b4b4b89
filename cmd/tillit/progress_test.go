package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// progressClock is a clock the test moves by hand.
type progressClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *progressClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *progressClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestProgress returns a progress on a buffer (not a terminal) with a
// clock of its own.
func newTestProgress(t *testing.T, total int64, unit string) (*progress, *bytes.Buffer, *progressClock) {
	t.Helper()
	var buf bytes.Buffer
	clock := &progressClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	p := newProgress(&buf, "importing", total, unit)
	if p.tty {
		t.Fatal("a bytes.Buffer is taken for a terminal")
	}
	p.now = clock.Now
	p.start, p.last = clock.Now(), clock.Now()
	return p, &buf, clock
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSuffix(buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestProgressThrottled(t *testing.T) {
	p, buf, clock := newTestProgress(t, 1000, "people")
	for i := range 100 { // 100 updates over 5 s: lines at 2 s and 4 s
		clock.Advance(50 * time.Millisecond)
		p.Set(int64(i + 1))
	}
	got := lines(buf)
	want := []string{
		"importing   4% 40/1000 people 20 people/s 48s left",
		"importing   8% 80/1000 people 20 people/s 46s left",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("a plain line has a carriage return: %q", buf.String())
	}
}

func TestProgressDone(t *testing.T) {
	p, buf, clock := newTestProgress(t, 3<<20, "bytes")
	r := p.Reader(strings.NewReader(strings.Repeat("x", 3<<20)))
	clock.Advance(1500 * time.Millisecond) // no line before 2 s
	if n, err := io.Copy(io.Discard, r); n != 3<<20 || err != nil {
		t.Fatalf("Copy = %d, %v", n, err)
	}
	if buf.Len() != 0 {
		t.Errorf("a line before 2 s: %q", buf.String())
	}
	p.Done()
	p.Done()
	p.Add(1)
	clock.Advance(time.Hour)
	p.Add(1)
	if got, want := buf.String(), "importing 100% 3.0/3.0 MiB 2.0 MiB/s\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestProgressUnknownTotal(t *testing.T) {
	p, buf, clock := newTestProgress(t, 0, "people")
	clock.Advance(4 * time.Second)
	p.Add(1000)
	clock.Advance(1 * time.Second)
	p.Add(1500)
	p.Done()
	want := "importing 1000 people 250 people/s\nimporting 2500 people 500 people/s\n"
	if got := buf.String(); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestProgressTerminal(t *testing.T) {
	p, buf, clock := newTestProgress(t, 100, "people")
	p.tty, p.every = true, progressTerminalEvery
	clock.Advance(100 * time.Millisecond)
	p.Set(50)
	clock.Advance(50 * time.Millisecond)
	p.Set(60) // too soon: not drawn
	clock.Advance(50 * time.Millisecond)
	p.Set(100)
	p.Done()
	bar := func(n int) string {
		return "[" + strings.Repeat("=", n) + strings.Repeat(" ", progressBarWidth-n) + "]"
	}
	want := "\rimporting " + bar(15) + "  50% 50/100 people 500 people/s" +
		"\rimporting " + bar(30) + " 100% 100/100 people 500 people/s" +
		"\rimporting " + bar(30) + " 100% 100/100 people 500 people/s\n"
	if got := buf.String(); got != want {
		t.Errorf("output\n%q\nwant\n%q", got, want)
	}
}

func TestProgressConcurrent(t *testing.T) {
	p, buf, clock := newTestProgress(t, 0, "bytes")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				clock.Advance(time.Millisecond)
				p.Add(1 << 10)
			}
		})
	}
	wg.Wait()
	p.Done()
	all := lines(buf)
	if got, want := all[len(all)-1], "importing 7.8 MiB 1.0 MiB/s"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

func TestProgressNotTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(&bytes.Buffer{}) {
		t.Error("a file or a buffer is taken for a terminal")
	}
}
