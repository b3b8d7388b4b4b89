package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// How often progress draws: a terminal's line is redrawn in place, while a
// file, a pipe or a CI log gets a line now and then.
const (
	progressTerminalEvery = 100 * time.Millisecond
	progressPlainEvery    = 2 * time.Second
	progressBarWidth      = 30
)

// progress reports how far a long operation (import, export, backup,
// restore) has come on w, normally os.Stderr: a bar, percent, count and
// rate when the total is known, count and rate otherwise. On a terminal it
// redraws one line (\r) at most every 100 ms; when w is not a terminal (a
// file, a pipe, CI) it writes a plain line at most every 2 s. Done prints
// the final line with a newline. Its methods are safe for concurrent use.
type progress struct {
	w     io.Writer
	label string
	total int64  // 0 or less: unknown
	unit  string // "bytes" is shown in MiB
	tty   bool
	every time.Duration
	now   func() time.Time // the clock, replaced in tests

	mu    sync.Mutex
	n     int64
	start time.Time
	last  time.Time // when the last line was drawn (start before the first)
	width int       // the length of the last line drawn on a terminal
	done  bool
}

// newProgress returns a progress of an operation called label with total
// units of work (0 if not known), drawn on w. unit is what is counted:
// "bytes" (shown as MiB) or a plural noun such as "people".
func newProgress(w io.Writer, label string, total int64, unit string) *progress {
	p := &progress{w: w, label: label, total: total, unit: unit, tty: isTerminal(w), now: time.Now}
	p.every = progressPlainEvery
	if p.tty {
		p.every = progressTerminalEvery
	}
	p.start = p.now()
	p.last = p.start
	return p
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Set records that n units are done.
func (p *progress) Set(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	p.tick()
}

// SetTotal records how many units there are, once that is known.
func (p *progress) SetTotal(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

// Add records that n more units are done.
func (p *progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	p.tick()
}

// Done draws the final line, ending it with a newline. Later calls of Done,
// Set and Add draw nothing.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.draw(p.now())
	fmt.Fprintln(p.w)
}

// tick draws a line if the last was long enough ago. p.mu is held.
func (p *progress) tick() {
	if p.done {
		return
	}
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.draw(t)
		if !p.tty {
			fmt.Fprintln(p.w)
		}
	}
}

// draw writes the line of the state at t, without a newline: on a terminal
// over the last line. p.mu is held.
func (p *progress) draw(t time.Time) {
	p.last = t
	line := p.line(t.Sub(p.start))
	if !p.tty {
		io.WriteString(p.w, line)
		return
	}
	pad := max(p.width-len(line), 0)
	p.width = len(line)
	io.WriteString(p.w, "\r"+line+strings.Repeat(" ", pad))
}

// line formats the state after elapsed time: label, bar (on a terminal),
// percent, count, rate and, until Done, the time left.
func (p *progress) line(elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(p.label)
	if p.total > 0 {
		frac := min(float64(p.n)/float64(p.total), 1)
		if p.tty {
			fill := int(frac * progressBarWidth)
			b.WriteString(" [" + strings.Repeat("=", fill) + strings.Repeat(" ", progressBarWidth-fill) + "]")
		}
		fmt.Fprintf(&b, " %3.0f%% %s/%s", 100*frac, p.amount(p.n, false), p.amount(p.total, true))
	} else {
		b.WriteString(" " + p.amount(p.n, true))
	}
	if s := elapsed.Seconds(); s > 0 {
		rate := float64(p.n) / s
		fmt.Fprintf(&b, " %s/s", p.amount(int64(rate), true))
		if p.total > p.n && rate > 0 && !p.done {
			left := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
			if left > 0 {
				fmt.Fprintf(&b, " %s left", left)
			}
		}
	}
	return b.String()
}

// amount formats n units, with the unit's name if named is set: bytes as
// MiB with one decimal, anything else as a whole number.
func (p *progress) amount(n int64, named bool) string {
	var s, unit string
	if p.unit == "bytes" {
		s, unit = fmt.Sprintf("%.1f", float64(n)/(1<<20)), "MiB"
	} else {
		s, unit = fmt.Sprint(n), p.unit
	}
	if named && unit != "" {
		return s + " " + unit
	}
	return s
}

// Reader returns a reader of r that adds the bytes read to p.
func (p *progress) Reader(r io.Reader) io.Reader { return &countingReader{r: r, p: p} }

// countingReader adds the bytes read through it to a progress.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.p.Add(int64(n))
	}
	return n, err
}
