package tillit

import (
	"context"
	"time"
)

// Restriction restricts the processing of a person's data (GDPR Art. 18): a
// restricted person is hidden from lists and lookups for everyone without
// PermRestrictedRead, and left out of later messaging.
type Restriction struct {
	Reason string    `json:"reason"` // sealed at rest under the person's key
	SetAt  time.Time `json:"set_at"`
	SetBy  string    `json:"set_by"` // the actor, such as "user:12"
}

// Hold is a legal hold on a person (bookkeeping law, a dispute): while it
// lasts the person is neither erased nor anonymised, by anyone or by the
// retention job.
type Hold struct {
	Reason string     `json:"reason"`          // sealed at rest under the person's key
	Until  *time.Time `json:"until,omitempty"` // nil: until released
	SetAt  time.Time  `json:"set_at"`
	SetBy  string     `json:"set_by"`
}

// Active reports whether the hold still holds at now.
func (h *Hold) Active(now time.Time) bool {
	return h != nil && (h.Until == nil || now.Before(*h.Until))
}

// MaxReason is the longest reason of a hold, restriction, decision or
// request step, in bytes.
const MaxReason = 2000

// ErasureCounts says what an erasure or anonymisation removed.
type ErasureCounts struct {
	Attributes   int `json:"attributes"`    // values sealed under the person's key
	Records      int `json:"records"`       // records deleted (anonymisation: emptied)
	Keys         int `json:"keys"`          // person keys destroyed: 1, or 0 when it was gone already
	IndexEntries int `json:"index_entries"` // blind-index entries removed
}

// Receipt kinds.
const (
	ReceiptErasure       = "erasure"
	ReceiptAnonymisation = "anonymisation"
)

// Receipt is evidence that a person was erased or anonymised, signed by
// the platform key (Ed25519); `tillit receipt verify` checks it. It holds
// ids and counts, no personal data.
type Receipt struct {
	Kind     string        `json:"kind"`   // ReceiptErasure or ReceiptAnonymisation
	Tenant   string        `json:"tenant"` // the tenant's slug
	PersonID int64         `json:"person_id"`
	At       time.Time     `json:"at"`
	Erased   ErasureCounts `json:"erased"`
	// Note is the signed note: the fields above as text, then the
	// signature line. It is what is verified; the fields are a convenience.
	Note string `json:"note"`
}

// ReceiptSigner signs receipts with the platform key.
type ReceiptSigner interface {
	// SignReceipt sets r.Note.
	SignReceipt(r *Receipt) error
}

// BulkErasure is the outcome of erasing a selection of people.
type BulkErasure struct {
	Receipts []*Receipt `json:"receipts"`
	Held     []int64    `json:"held"`      // under a legal hold: not erased
	NotFound []int64    `json:"not_found"` // no such person (or erased already)
}

// MaxBulkErasure is the most people one bulk erasure takes.
const MaxBulkErasure = 100000

// RightsService carries out the rights of people in the register: erasure
// (Art. 17), anonymisation, restriction (Art. 18) and legal holds. Erasure
// and anonymisation are irreversible: they need PermPersonErase and a
// step-up (a token: created sensitive). Every call is audited.
type RightsService interface {
	// ErasePerson destroys the person's key first, then deletes the rows,
	// records and blind-index entries, and returns the signed receipt.
	// Errors: ENotFound, EConflict (legal hold: the message gives the
	// reason), EForbidden, EStepUp.
	ErasePerson(ctx context.Context, id int64) (*Receipt, error)
	// ErasePeople erases up to MaxBulkErasure people, reporting progress
	// as the number done; people under a hold are skipped and listed.
	ErasePeople(ctx context.Context, ids []int64, progress func(done int)) (*BulkErasure, error)
	// AnonymisePerson reduces the person to a statistical remnant and
	// destroys their key. Errors as ErasePerson.
	AnonymisePerson(ctx context.Context, id int64) (*Receipt, error)

	// SetHold sets or replaces the legal hold. Errors: EInvalid (no reason,
	// until in the past), ENotFound, EForbidden.
	SetHold(ctx context.Context, id int64, reason string, until *time.Time) (*Hold, error)
	// ReleaseHold ends it; releasing a person without one is not an error.
	ReleaseHold(ctx context.Context, id int64) error
	// Restrict restricts processing. Errors: EInvalid, ENotFound, EForbidden.
	Restrict(ctx context.Context, id int64, reason string) (*Restriction, error)
	// LiftRestriction ends it; lifting none is not an error.
	LiftRestriction(ctx context.Context, id int64) error
}
