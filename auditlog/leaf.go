// Package auditlog is the tamper-evident audit log of tillit: one Merkle
// tree per log with RFC 6962 hashing (golang.org/x/mod/sumdb/tlog), the
// canonical encoding of events as leaves, signed checkpoints in the signed
// note format, and the verifier that recomputes a log from its events.
//
// The package does no I/O: the store keeps, for every event, the hashes
// that appending it created (its stored hashes), and for every log its
// frontier — the roots of the perfect subtrees at the log's right edge —
// so that an append reads nothing but the log's head row.
package auditlog

import (
	"encoding/binary"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
)

// leafVersion starts every encoded leaf, so the encoding can change later
// without ambiguity.
const leafVersion = 1

// AppendLeaf appends the canonical encoding of e to buf: a version byte,
// then every field of the event in a fixed order, integers as varints and
// strings length-prefixed, so that no two events encode alike.
func AppendLeaf(buf []byte, e *tillit.Event) []byte {
	buf = append(buf, leafVersion)
	buf = binary.AppendVarint(buf, e.Log)
	buf = binary.AppendVarint(buf, e.Index)
	buf = binary.AppendVarint(buf, e.At.UnixMicro())
	buf = appendString(buf, e.Actor)
	buf = appendString(buf, e.Action)
	buf = appendString(buf, e.Target)
	buf = binary.AppendUvarint(buf, uint64(len(e.Fields)))
	for _, f := range e.Fields {
		buf = appendString(buf, f)
	}
	buf = appendString(buf, e.Outcome)
	buf = appendString(buf, e.RequestID)
	buf = appendString(buf, e.ClientAddr)
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// LeafHash returns the RFC 6962 leaf hash of e.
func LeafHash(e *tillit.Event) tlog.Hash {
	return tlog.RecordHash(AppendLeaf(nil, e))
}
