package auditlog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
	"tillit/auditlog"
)

// memLog is an in-memory log built the way the store builds one.
type memLog struct {
	events []*tillit.Event
	stored [][]byte
	front  auditlog.Frontier
	all    []tlog.Hash // every stored hash, by tlog's index
}

func (m *memLog) append(e *tillit.Event) {
	e.Index = m.front.Size()
	hs := m.front.Append(auditlog.LeafHash(e))
	m.events = append(m.events, e)
	m.stored = append(m.stored, auditlog.JoinHashes(hs))
	m.all = append(m.all, hs...)
}

func (m *memLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		leaf, off := auditlog.StoredLocation(x)
		copy(out[i][:], m.stored[leaf][off*tlog.HashSize:])
	}
	return out, nil
}

func event(log, i int64) *tillit.Event {
	return &tillit.Event{
		Log: log, At: time.Unix(1700000000, 0).Add(time.Duration(i) * time.Microsecond).UTC(),
		Actor: "token:1", Action: "token.create", Target: fmt.Sprintf("token:%d", i),
		Fields: []string{"name", "role"}, Outcome: "ok", RequestID: "r1", ClientAddr: "127.0.0.1",
	}
}

func newLog(n int64) *memLog {
	m := &memLog{}
	for i := range n {
		m.append(event(7, i))
	}
	return m
}

func TestFrontierMatchesTlog(t *testing.T) {
	m := &memLog{}
	for n := int64(0); n < 300; n++ {
		e := event(7, n)
		e.Index = n
		want, err := tlog.StoredHashes(n, auditlog.AppendLeaf(nil, e), tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for i, x := range idx {
				out[i] = m.all[x]
			}
			return out, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		m.append(e)
		if got := m.all[tlog.StoredHashIndex(0, n):]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("append %d: stored hashes %v, tlog says %v", n, got, want)
		}
		root, err := tlog.TreeHash(n+1, m)
		if err != nil {
			t.Fatal(err)
		}
		if m.front.Root() != root {
			t.Fatalf("size %d: root %v, tlog says %v", n+1, m.front.Root(), root)
		}
		again, err := auditlog.ParseFrontier(m.front.Size(), m.front.Bytes())
		if err != nil || again.Root() != root {
			t.Fatalf("size %d: frontier does not survive storage: %v", n+1, err)
		}
	}
	if _, err := auditlog.ParseFrontier(3, make([]byte, 32)); err == nil {
		t.Fatal("a frontier of one hash was accepted for a log of 3")
	}
}

func TestInclusionProof(t *testing.T) {
	m := newLog(37)
	root := m.front.Root()
	for _, i := range []int64{0, 1, 16, 36} {
		p, err := tlog.ProveRecord(37, i, m)
		if err != nil {
			t.Fatal(err)
		}
		if err := auditlog.CheckInclusion(p, 37, root, i, auditlog.LeafHash(m.events[i])); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
		if err := auditlog.CheckInclusion(p, 37, root, i, auditlog.LeafHash(event(7, 99))); err == nil {
			t.Errorf("event %d: proof accepted for another event", i)
		}
	}
}

func TestCheckpointSignature(t *testing.T) {
	skey, vkey, err := auditlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := auditlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.VerifierKey() != vkey {
		t.Fatalf("verifier key %q, generated %q", s.VerifierKey(), vkey)
	}
	root := newLog(5).front.Root()
	msg, err := s.Sign(7, 5, root)
	if err != nil {
		t.Fatal(err)
	}
	size, got, err := auditlog.OpenCheckpoint(msg, 7, vkey)
	if err != nil || size != 5 || got != root {
		t.Fatalf("open: size %d root %v err %v", size, got, err)
	}
	_, otherKey, _ := auditlog.GenerateKey()
	tests := map[string]struct {
		msg  string
		log  int64
		vkey string
	}{
		"other key":    {msg, 7, otherKey},
		"other log":    {msg, 8, vkey},
		"changed size": {strings.Replace(msg, "\n5\n", "\n6\n", 1), 7, vkey},
		"not a note":   {"hello", 7, vkey},
		"bad key":      {msg, 7, "nonsense"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := auditlog.OpenCheckpoint(tc.msg, tc.log, tc.vkey); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// verify runs a LogVerifier over events and stored hashes as given.
func verify(t *testing.T, vkey string, cps []string, events []*tillit.Event, stored [][]byte, headSize int64, head []byte) error {
	t.Helper()
	v, err := auditlog.NewLogVerifier(7, vkey, cps)
	if err != nil {
		return err
	}
	for i, e := range events {
		if err := v.Add(e, stored[i]); err != nil {
			return err
		}
	}
	return v.Finish(headSize, head)
}

func TestVerifierCatchesTampering(t *testing.T) {
	skey, vkey, _ := auditlog.GenerateKey()
	s, _ := auditlog.NewSigner(skey)
	const n = 20
	m := newLog(n)
	// Checkpoints at 8 and 16, as a checkpointer would have signed them.
	var cps []string
	for _, size := range []int64{8, 16} {
		part := newLog(size)
		msg, err := s.Sign(7, size, part.front.Root())
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, msg)
	}
	clone := func() ([]*tillit.Event, [][]byte) {
		ev := make([]*tillit.Event, n)
		for i, e := range m.events {
			c := *e
			ev[i] = &c
		}
		st := make([][]byte, n)
		copy(st, m.stored)
		return ev, st
	}
	head := m.front.Bytes()
	if err := verify(t, vkey, cps, m.events, m.stored, n, head); err != nil {
		t.Fatalf("intact log: %v", err)
	}

	// rehash rewrites the stored hashes of events from a consistent
	// recomputation, as an attacker who knows the algorithm would.
	rehash := func(ev []*tillit.Event) ([][]byte, []byte) {
		var f auditlog.Frontier
		st := make([][]byte, len(ev))
		for i, e := range ev {
			st[i] = auditlog.JoinHashes(f.Append(auditlog.LeafHash(e)))
		}
		return st, f.Bytes()
	}
	tests := []struct {
		name      string
		mutate    func() ([]*tillit.Event, [][]byte, int64, []byte)
		wantIndex int64
	}{
		{"modified action", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			ev[5].Action = "token.revoke"
			return ev, st, n, head
		}, 5},
		{"modified time", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			ev[11].At = ev[11].At.Add(time.Second)
			return ev, st, n, head
		}, 11},
		{"deleted", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			return append(ev[:3:3], ev[4:]...), append(st[:3:3], st[4:]...), n, head
		}, 3},
		{"reordered", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			ev[9].Index, ev[10].Index = 10, 9
			ev[9], ev[10] = ev[10], ev[9]
			st[9], st[10] = st[10], st[9]
			return ev, st, n, head
		}, 9},
		{"inserted and renumbered", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			extra := event(7, 99)
			ev = append(ev[:4:4], append([]*tillit.Event{extra}, ev[4:]...)...)
			for i, e := range ev {
				e.Index = int64(i)
			}
			st = append(st[:4:4], append([][]byte{st[4]}, st[4:]...)...)
			return ev, st, n + 1, head
		}, 4},
		{"modified and hashes rewritten", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, _ := clone()
			ev[12].Outcome = "forbidden"
			st, h := rehash(ev)
			return ev, st, n, h
		}, 8},
		{"cut back behind a checkpoint", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, _ := clone()
			st, h := rehash(ev[:12])
			return ev[:12], st, 12, h
		}, 12},
		{"head disagrees", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			return ev, st, n + 3, head
		}, n},
		{"stored hash changed", func() ([]*tillit.Event, [][]byte, int64, []byte) {
			ev, st := clone()
			b := append([]byte(nil), st[7]...)
			b[len(b)-1] ^= 1
			st[7] = b
			return ev, st, n, head
		}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, st, size, h := tc.mutate()
			err := verify(t, vkey, cps, ev, st, size, h)
			f, ok := err.(*auditlog.Failure)
			if !ok {
				t.Fatalf("tampering not caught: %v", err)
			}
			if f.Index != tc.wantIndex {
				t.Fatalf("first bad event %d, want %d (%v)", f.Index, tc.wantIndex, f)
			}
		})
	}

	t.Run("forged checkpoint", func(t *testing.T) {
		forged := strings.Replace(cps[0], "\n8\n", "\n9\n", 1)
		if err := verify(t, vkey, []string{forged}, m.events, m.stored, n, head); err == nil {
			t.Fatal("a checkpoint with a broken signature was accepted")
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	m := newLog(4096)
	_, vkey, _ := auditlog.GenerateKey()
	b.ResetTimer()
	for b.Loop() {
		v, _ := auditlog.NewLogVerifier(7, vkey, nil)
		for i, e := range m.events {
			if err := v.Add(e, m.stored[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(m.events))/b.Elapsed().Seconds(), "events/s")
}

func TestAnySignerKeyParses(t *testing.T) {
	// Keys are random base64, which often holds "+", the note field separator.
	for range 200 {
		skey, vkey, err := auditlog.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		s, err := auditlog.NewSigner(skey)
		if err != nil {
			t.Fatalf("key %d chars: %v", len(skey), err)
		}
		if s.VerifierKey() != vkey {
			t.Fatal("derived verifier key differs from the generated one")
		}
	}
}

func TestAppendLeafColumnsMatchesAppendLeaf(t *testing.T) {
	for _, fields := range [][]string{nil, {"name"}, {"name", "role", "expires_at"}} {
		e := event(3, 9)
		e.Index, e.Fields = 9, fields
		got := auditlog.AppendLeafColumns(nil, e.Log, e.Index, e.At.UnixMicro(), []byte(e.Actor), []byte(e.Action),
			[]byte(e.Target), []byte(strings.Join(fields, ",")), []byte(e.Outcome), []byte(e.RequestID), []byte(e.ClientAddr))
		if string(got) != string(auditlog.AppendLeaf(nil, e)) {
			t.Errorf("fields %v: column encoding differs from the event's", fields)
		}
	}
}
