package tillit

import (
	"context"
	"time"
)

// OperatorLog is the id of the audit log of operator actions and of requests
// whose tenant is unknown. Every tenant's log has the tenant's id.
const OperatorLog int64 = 0

// Event is one line of the audit log: who did what, when, to which object
// and with what outcome. It holds ids and field names, never personal
// values, so that erasure never breaks verification.
type Event struct {
	Log        int64     `json:"log"`         // the tenant's id, or OperatorLog
	Index      int64     `json:"index"`       // position in the log, from 0
	At         time.Time `json:"at"`          // UTC, microsecond precision
	Actor      string    `json:"actor"`       // Principal.Actor(), or "anonymous"
	Action     string    `json:"action"`      // "token.create", "audit.read", …
	Target     string    `json:"target"`      // "token:12", or ""
	Fields     []string  `json:"fields"`      // names of the fields touched
	Outcome    string    `json:"outcome"`     // "ok" or an error code
	RequestID  string    `json:"request_id"`  // the request's id, or ""
	ClientAddr string    `json:"client_addr"` // the client's IP address, or ""
}

// OutcomeOK is the outcome of an action that succeeded; any other outcome is
// the error code of its failure.
const OutcomeOK = "ok"

// EventFilter selects events of one log. Nil fields match everything.
type EventFilter struct {
	Log    int64
	Actor  *string
	Action *string
	Target *string
	From   *time.Time // at or after
	To     *time.Time // before
	After  int64      // only events with a higher index: the cursor; -1 from the start
	Limit  int        // 1–1000
}

// Checkpoint is a signed statement of a log's size and root hash, in the
// signed note format (C2SP tlog-checkpoint): anyone with the public key can
// check inclusion and append-only growth against it.
type Checkpoint struct {
	Log      int64     `json:"log"`
	Size     int64     `json:"size"`
	RootHash [32]byte  `json:"-"`
	Note     string    `json:"note"` // the signed note text
	At       time.Time `json:"at"`
}

// InclusionProof proves that the event at Index is in the log of Size
// leaves with the checkpoint's root hash (RFC 6962 audit path).
type InclusionProof struct {
	Log      int64      `json:"log"`
	Index    int64      `json:"index"`
	Size     int64      `json:"size"`
	LeafHash [32]byte   `json:"-"`
	Hashes   [][32]byte `json:"-"`
}

// AuditService reads a tenant's audit log. Writing is done by the store, in
// the transaction of the change each event describes.
type AuditService interface {
	// FindEvents returns the events of the principal's tenant that match f
	// (f.Log is set from the principal), oldest first. Errors: EInvalid,
	// EForbidden.
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, error)

	// LatestCheckpoint returns the newest signed checkpoint of the
	// principal's tenant's log. Errors: ENotFound (none yet), EForbidden.
	LatestCheckpoint(ctx context.Context) (*Checkpoint, error)

	// ProveInclusion proves event index is in the latest checkpoint of the
	// principal's tenant's log. Errors: EInvalid (index beyond it),
	// ENotFound (no checkpoint), EForbidden.
	ProveInclusion(ctx context.Context, index int64) (*InclusionProof, *Checkpoint, error)
}

// Request is what the audit log needs to know of the request being served.
// The web layer puts one in the context of every request; the store fills
// in the event it writes in the change's transaction and marks it recorded,
// and the web layer records it at the end of the request otherwise.
type Request struct {
	Event    Event // RequestID, ClientAddr and At from the start; Action, Target, Fields set by whoever knows them
	Recorded bool  // the event was written in a change's transaction

	// Also are the other objects a read touched, each recorded as an event
	// like Event but with its own Target and Fields: every person on a page
	// of a list, every person a lookup found.
	Also []Event
}

type requestKey struct{}

// NewContextWithRequest returns a context that carries r.
func NewContextWithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFromContext returns the request of ctx, or nil outside a request.
func RequestFromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// Describe sets the action, target and fields of the request's event, if ctx
// carries a request. Services call it before they touch anything, so that a
// refusal is recorded with what was asked for.
func Describe(ctx context.Context, action, target string, fields ...string) {
	if r := RequestFromContext(ctx); r != nil {
		r.Event.Action, r.Event.Target, r.Event.Fields = action, target, fields
	}
}

// AlsoTouched records, with the request's event, an event for one more
// object a read touched (see Request.Also), if ctx carries a request.
func AlsoTouched(ctx context.Context, target string, fields ...string) {
	if r := RequestFromContext(ctx); r != nil {
		r.Also = append(r.Also, Event{Target: target, Fields: fields})
	}
}

// EventRecorder writes an event on its own, not as part of a change: the
// event of a request that changed nothing (a read, a refusal). It returns
// only once the event is stored; if it fails the request must fail.
type EventRecorder interface {
	// RecordEvent stores e and, in the same transaction, the events also.
	RecordEvent(ctx context.Context, e *Event, also ...*Event) error
}
