package auditlog

import (
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// Frontier is the right edge of a log of Size leaves: the roots of its
// perfect subtrees, one per set bit of Size, largest first. It is all an
// append needs to compute the new stored hashes and the root.
type Frontier struct {
	size   int64
	hashes []tlog.Hash
}

// ParseFrontier returns the frontier of a log of size leaves from its
// stored bytes (Frontier.Bytes).
func ParseFrontier(size int64, b []byte) (*Frontier, error) {
	if size < 0 || len(b) != bits.OnesCount64(uint64(size))*tlog.HashSize {
		return nil, fmt.Errorf("auditlog: frontier of %d bytes does not fit a log of %d events", len(b), size)
	}
	f := &Frontier{size: size, hashes: make([]tlog.Hash, len(b)/tlog.HashSize)}
	for i := range f.hashes {
		copy(f.hashes[i][:], b[i*tlog.HashSize:])
	}
	return f, nil
}

// Size returns the number of leaves.
func (f *Frontier) Size() int64 { return f.size }

// Bytes returns the frontier's hashes, concatenated, for storage.
func (f *Frontier) Bytes() []byte {
	b := make([]byte, 0, len(f.hashes)*tlog.HashSize)
	for _, h := range f.hashes {
		b = append(b, h[:]...)
	}
	return b
}

// Append adds a leaf and returns the stored hashes it created: the leaf hash
// first, then each interior node the leaf completed, lowest first — the same
// hashes as tlog.StoredHashesForRecordHash, at stored indexes
// tlog.StoredHashIndex(0, n) onwards.
func (f *Frontier) Append(leaf tlog.Hash) []tlog.Hash {
	out := []tlog.Hash{leaf}
	h := leaf
	for n := f.size; n&1 == 1; n >>= 1 {
		last := len(f.hashes) - 1
		h = tlog.NodeHash(f.hashes[last], h)
		f.hashes = f.hashes[:last]
		out = append(out, h)
	}
	f.hashes = append(f.hashes, h)
	f.size++
	return out
}

// Root returns the root hash of the log (tlog.TreeHash); the zero hash for
// an empty log.
func (f *Frontier) Root() tlog.Hash {
	if len(f.hashes) == 0 {
		return tlog.Hash{}
	}
	h := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.hashes[i], h)
	}
	return h
}

// JoinHashes concatenates hashes, as the store keeps an event's stored
// hashes in one column.
func JoinHashes(hs []tlog.Hash) []byte {
	b := make([]byte, 0, len(hs)*tlog.HashSize)
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// StoredLocation says where the stored hash with tlog's index is kept: in
// the stored hashes of event leaf, at position offset.
func StoredLocation(index int64) (leaf int64, offset int) {
	level, n := tlog.SplitStoredHashIndex(index)
	return (n+1)<<level - 1, level
}
