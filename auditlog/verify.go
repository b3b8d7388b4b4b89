package auditlog

import (
	"bytes"
	"fmt"
	"sort"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
)

// Report summarises a verification that passed.
type Report struct {
	Logs        int   // logs verified
	Events      int64 // events recomputed
	Checkpoints int   // checkpoint signatures checked
}

// Add adds the figures of another report.
func (r *Report) Add(o Report) {
	r.Logs += o.Logs
	r.Events += o.Events
	r.Checkpoints += o.Checkpoints
}

// Failure names the first bad event of a log that failed verification.
type Failure struct {
	Log    int64
	Index  int64 // the first bad event, or -1 when no single event is to blame
	Reason string
}

func (f *Failure) Error() string {
	if f.Index < 0 {
		return fmt.Sprintf("audit log %d: %s", f.Log, f.Reason)
	}
	return fmt.Sprintf("audit log %d: event %d: %s", f.Log, f.Index, f.Reason)
}

// signedSize is a checkpoint after its signature was checked.
type signedSize struct {
	size int64
	root tlog.Hash
}

// LogVerifier recomputes one log from its events, in index order, and checks
// each against its stored hashes and every signed checkpoint.
type LogVerifier struct {
	log      int64
	front    Frontier
	signed   []signedSize // by size, ascending
	next     int          // the next signed checkpoint to reach
	lastGood int64        // size of the last checkpoint matched
	buf      []byte
}

// NewLogVerifier checks the signature of every checkpoint of log (signed
// notes) against the verifier key and returns a verifier ready for the
// log's first event.
func NewLogVerifier(log int64, vkey string, checkpoints []string) (*LogVerifier, error) {
	v := &LogVerifier{log: log}
	for _, msg := range checkpoints {
		size, root, err := OpenCheckpoint(msg, log, vkey)
		if err != nil {
			return nil, &Failure{Log: log, Index: -1, Reason: "a stored checkpoint is not valid: " + err.Error()}
		}
		v.signed = append(v.signed, signedSize{size, root})
	}
	sort.Slice(v.signed, func(i, j int) bool { return v.signed[i].size < v.signed[j].size })
	for v.next < len(v.signed) && v.signed[v.next].size == 0 {
		v.next++
	}
	return v, nil
}

// Add checks the next event of the log and the hashes stored with it.
func (v *LogVerifier) Add(e *tillit.Event, stored []byte) error {
	if e.Log != v.log {
		return &Failure{Log: v.log, Index: e.Index, Reason: fmt.Sprintf("the event belongs to log %d", e.Log)}
	}
	v.buf = AppendLeaf(v.buf[:0], e)
	return v.AddLeaf(e.Index, tlog.RecordHash(v.buf), stored)
}

// AddLeaf checks the next event of the log, given as its index and the leaf
// hash recomputed from its content, and the hashes stored with it.
func (v *LogVerifier) AddLeaf(index int64, leaf tlog.Hash, stored []byte) error {
	n := v.front.Size()
	switch {
	case index > n:
		return &Failure{Log: v.log, Index: n, Reason: fmt.Sprintf("the event is missing (the next stored event is %d)", index)}
	case index < n:
		return &Failure{Log: v.log, Index: index, Reason: "the event is stored twice"}
	}
	created := v.front.Append(leaf)
	if !equalHashes(stored, created) {
		reason := "the stored tree hashes were changed"
		if len(stored) < tlog.HashSize || !equalHashes(stored[:tlog.HashSize], created[:1]) {
			reason = "the event was changed after it was written (its hash no longer matches)"
		}
		return &Failure{Log: v.log, Index: n, Reason: reason}
	}
	for v.next < len(v.signed) && v.signed[v.next].size == n+1 {
		if v.front.Root() != v.signed[v.next].root {
			return &Failure{Log: v.log, Index: v.lastGood, Reason: fmt.Sprintf(
				"events %d to %d do not match the signed checkpoint of size %d: one of them was changed, inserted, removed or reordered, and the stored hashes rewritten to hide it",
				v.lastGood, n, n+1)}
		}
		v.lastGood = n + 1
		v.next++
	}
	return nil
}

// Finish checks the end of the log: that no signed checkpoint is beyond its
// last event, and that the head the store keeps (size and frontier) is the
// one recomputed.
func (v *LogVerifier) Finish(headSize int64, headFrontier []byte) error {
	n := v.front.Size()
	if v.next < len(v.signed) {
		return &Failure{Log: v.log, Index: n, Reason: fmt.Sprintf(
			"the log was cut back: a checkpoint of %d events was signed, but only %d events remain", v.signed[len(v.signed)-1].size, n)}
	}
	if headSize != n {
		return &Failure{Log: v.log, Index: min(n, headSize), Reason: fmt.Sprintf(
			"the log's head says %d events, but %d are stored", headSize, n)}
	}
	if !bytes.Equal(headFrontier, v.front.Bytes()) {
		return &Failure{Log: v.log, Index: -1, Reason: "the log's stored frontier was changed"}
	}
	return nil
}

// Report returns the figures of the log verified so far.
func (v *LogVerifier) Report() Report {
	return Report{Logs: 1, Events: v.front.Size(), Checkpoints: len(v.signed)}
}
