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
	"bytes"
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
	buf = appendHead(buf, e.Log, e.Index, e.At.UnixMicro(), e.Actor, e.Action, e.Target)
	buf = binary.AppendUvarint(buf, uint64(len(e.Fields)))
	for _, f := range e.Fields {
		buf = appendString(buf, f)
	}
	return appendTail(buf, e.Outcome, e.RequestID, e.ClientAddr)
}

// AppendLeafColumns appends the same encoding as AppendLeaf from an event's
// stored columns, with its field names joined by commas, so that a verifier
// can hash what it reads without building an Event.
func AppendLeafColumns(buf []byte, log, index, atMicros int64, actor, action, target, fields, outcome, requestID, clientAddr []byte) []byte {
	buf = appendHead(buf, log, index, atMicros, actor, action, target)
	if len(fields) == 0 {
		buf = binary.AppendUvarint(buf, 0)
	} else {
		buf = binary.AppendUvarint(buf, uint64(bytes.Count(fields, comma)+1))
		for f := range bytes.SplitSeq(fields, comma) {
			buf = appendString(buf, f)
		}
	}
	return appendTail(buf, outcome, requestID, clientAddr)
}

var comma = []byte{','}

func appendHead[S string | []byte](buf []byte, log, index, at int64, actor, action, target S) []byte {
	buf = append(buf, leafVersion)
	buf = binary.AppendVarint(buf, log)
	buf = binary.AppendVarint(buf, index)
	buf = binary.AppendVarint(buf, at)
	buf = appendString(buf, actor)
	buf = appendString(buf, action)
	return appendString(buf, target)
}

func appendTail[S string | []byte](buf []byte, outcome, requestID, clientAddr S) []byte {
	buf = appendString(buf, outcome)
	buf = appendString(buf, requestID)
	return appendString(buf, clientAddr)
}

func appendString[S string | []byte](buf []byte, s S) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// LeafHash returns the RFC 6962 leaf hash of e.
func LeafHash(e *tillit.Event) tlog.Hash {
	return tlog.RecordHash(AppendLeaf(nil, e))
}
