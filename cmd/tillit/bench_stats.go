package main

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// benchSubBits is the number of bits of a latency the histogram keeps below
// its leading one: 2^7 = 128 buckets per power of two, so a bucket is at
// most 1/128 of its lower bound wide and its midpoint is within 0.4% of any
// value in it.
const benchSubBits = 7

// benchHistogram counts latencies in log-linear buckets of nanoseconds:
// exact below 256 ns, then 128 buckets per power of two. Its memory is a
// few kilobytes whatever the number of requests, and histograms of workers
// merge by adding counts.
type benchHistogram struct {
	counts   []uint64
	n        uint64
	min, max time.Duration
}

// benchBucket returns the bucket of a latency of v ns (negative is 0).
func benchBucket(v int64) int {
	if v < 2<<benchSubBits {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - (benchSubBits + 1)
	mantissa := int(v >> shift) // in [128, 256)
	return 2<<benchSubBits + (shift-1)<<benchSubBits + mantissa - 1<<benchSubBits
}

// benchBucketRange returns the latencies [lo, hi) in ns of bucket i.
func benchBucketRange(i int) (lo, hi int64) {
	if i < 2<<benchSubBits {
		return int64(i), int64(i) + 1
	}
	j := i - 2<<benchSubBits
	shift := j>>benchSubBits + 1
	mantissa := int64(j&(1<<benchSubBits-1) + 1<<benchSubBits)
	return mantissa << shift, (mantissa + 1) << shift
}

// add counts one latency.
func (h *benchHistogram) add(d time.Duration) {
	i := benchBucket(int64(d))
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
}

// merge adds the counts of o to h.
func (h *benchHistogram) merge(o *benchHistogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

// quantile returns the latency at quantile q (0.5 for the median) by the
// nearest-rank method, within 0.4% of the exact one; 0 when h is empty.
func (h *benchHistogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			lo, hi := benchBucketRange(i)
			mid := time.Duration(lo + (hi-1-lo)/2)
			return min(max(mid, h.min), h.max)
		}
	}
	return h.max
}

// benchMaxSamples is how many distinct error messages an op keeps.
const benchMaxSamples = 3

// benchStats is what a worker measured of one op; the stats of the workers
// of a phase merge into one.
type benchStats struct {
	hist                             benchHistogram // of the requests that succeeded
	requests, errors, items, refused int64
	samples                          []string // the first distinct error messages
	refusedSamples                   []string // the first distinct reasons of refused import lines
}

// record counts one request that handled items and took took; err is its
// failure, if it failed.
func (s *benchStats) record(items int, took time.Duration, err error) {
	s.requests++
	if err != nil {
		s.errors++
		s.sample(err.Error())
		return
	}
	s.items += int64(items)
	s.hist.add(took)
}

// sample keeps msg in s.samples if it is new and there is room.
func (s *benchStats) sample(msg string) { s.samples = benchKeep(s.samples, msg) }

// refusedLine counts a line an import refused, for reason.
func (s *benchStats) refusedLine(reason string) {
	s.refused++
	s.refusedSamples = benchKeep(s.refusedSamples, reason)
}

// benchKeep appends msg to samples if it is new and there is room.
func benchKeep(samples []string, msg string) []string {
	if len(samples) < benchMaxSamples && !slices.Contains(samples, msg) {
		samples = append(samples, msg)
	}
	return samples
}

// merge adds o to s.
func (s *benchStats) merge(o *benchStats) {
	s.hist.merge(&o.hist)
	s.requests += o.requests
	s.errors += o.errors
	s.items += o.items
	s.refused += o.refused
	for _, m := range o.samples {
		s.sample(m)
	}
	for _, m := range o.refusedSamples {
		s.refusedSamples = benchKeep(s.refusedSamples, m)
	}
}

// benchResult is one op's line of the report.
type benchResult struct {
	Op                string   `json:"op"`
	Clients           int      `json:"clients"`
	Requests          int64    `json:"requests"`
	Errors            int64    `json:"errors"`
	Items             int64    `json:"items"`               // people created (import, create), read (get, list), found (lookup), erased (erase, retention); records made; reports read
	PerSecond         float64  `json:"per_second"`          // successful requests a second; for import people created, for retention people erased, a second
	RequestsPerSecond float64  `json:"requests_per_second"` // successful requests a second
	ElapsedS          float64  `json:"elapsed_s"`           // from the start of the phase until its last request ended
	P50               float64  `json:"p50_ms"`              // latency percentiles of the successful requests
	P95               float64  `json:"p95_ms"`
	P99               float64  `json:"p99_ms"`
	ErrorSamples      []string `json:"error_samples"`             // up to 3 distinct: status, problem code and detail
	Refused           int64    `json:"refused,omitempty"`         // import lines the server refused
	RefusedSamples    []string `json:"refused_samples,omitempty"` // up to 3 distinct reasons
	Interrupted       bool     `json:"interrupted,omitempty"`     // cut short by Ctrl-C
}

// newBenchResult summarises the merged stats of op's phase.
func newBenchResult(op string, clients int, s *benchStats, elapsed time.Duration) benchResult {
	r := benchResult{Op: op, Clients: clients, Requests: s.requests, Errors: s.errors, Items: s.items,
		ErrorSamples: append([]string{}, s.samples...), Refused: s.refused, RefusedSamples: s.refusedSamples,
		ElapsedS: elapsed.Seconds()}
	if secs := elapsed.Seconds(); secs > 0 {
		r.RequestsPerSecond = float64(s.requests-s.errors) / secs
		r.PerSecond = r.RequestsPerSecond
		if benchCountsPeople(op) {
			r.PerSecond = float64(s.items) / secs
		}
	}
	ms := func(q float64) float64 { return float64(s.hist.quantile(q)) / float64(time.Millisecond) }
	r.P50, r.P95, r.P99 = ms(0.50), ms(0.95), ms(0.99)
	return r
}

// benchCountsPeople reports whether the per second of op counts people
// rather than requests: import creates many in a request, and one run of
// the retention job erases many.
func benchCountsPeople(op string) bool { return op == "import" || op == "retention" }

// benchReport is the JSON file of `tillit bench --out`.
type benchReport struct {
	URL        string  `json:"url"`
	Tenant     string  `json:"tenant"`
	RunID      string  `json:"run_id"` // the people made have e-mails bench-RUNID-N@example.com
	Clients    int     `json:"clients"`
	DurationS  float64 `json:"duration_s"`
	Population int     `json:"population"`
	ImportSize int     `json:"import_size"`
	// The sizes of the ops of people's rights that ran.
	ReportRecords int           `json:"report_records,omitempty"` // records of the person report and report-pdf read
	EraseSize     int           `json:"erase_size,omitempty"`     // people made for erase
	RetentionSize int           `json:"retention_size,omitempty"` // people retention imported, due
	Insecure      bool          `json:"insecure"`                 // the server's certificate was not verified
	StartedAt     time.Time     `json:"started_at"`
	Go            string        `json:"go"`
	CPUs          int           `json:"cpus"`
	Interrupted   bool          `json:"interrupted,omitempty"`
	Results       []benchResult `json:"results"`
}

// printBenchTable writes the results as a table, then the error samples.
func printBenchTable(w io.Writer, results []benchResult) {
	const row = "%-10s %7s %9s %7s %16s %9s %9s %9s\n"
	fmt.Fprintf(w, row, "op", "clients", "requests", "errors", "per second", "p50 ms", "p95 ms", "p99 ms")
	var notes []string
	for _, r := range results {
		per := fmt.Sprintf("%.1f", r.PerSecond)
		switch r.Op {
		case "import":
			per += " people"
			notes = append(notes, fmt.Sprintf("import: per second counts people created (%d in all); the requests ran at %.2f/s",
				r.Items, r.RequestsPerSecond))
		case "retention":
			per += " people"
			notes = append(notes, fmt.Sprintf("retention: per second counts people erased (%d in all) by %d run(s) of the job in %.2fs",
				r.Items, r.Requests, r.ElapsedS))
		}
		ms := func(v float64) string {
			if r.Requests == r.Errors {
				return "-"
			}
			return fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(w, row, r.Op, fmt.Sprint(r.Clients), fmt.Sprint(r.Requests), fmt.Sprint(r.Errors), per,
			ms(r.P50), ms(r.P95), ms(r.P99))
		if r.Refused > 0 {
			notes = append(notes, fmt.Sprintf("%s: the server refused %d lines", r.Op, r.Refused))
		}
		if r.Interrupted {
			notes = append(notes, r.Op+": interrupted")
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, "note: "+n)
	}
	for _, r := range results {
		if len(r.ErrorSamples) > 0 {
			fmt.Fprintf(w, "\nerrors of %s (%d of %d requests):\n  %s\n", r.Op, r.Errors, r.Requests,
				strings.Join(r.ErrorSamples, "\n  "))
		}
		if len(r.RefusedSamples) > 0 {
			fmt.Fprintf(w, "\nlines refused by %s (%d):\n  %s\n", r.Op, r.Refused,
				strings.Join(r.RefusedSamples, "\n  "))
		}
	}
}

// benchThousands writes n with commas between groups of three digits.
func benchThousands(n int64) string {
	if n < 0 {
		return "-" + benchThousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
