package tillit

import (
	"context"
	"time"
)

// RequestType is what a person asks of the tenant.
type RequestType string

// The requests people make (GDPR Art. 15–21).
const (
	RequestAccess        RequestType = "access"
	RequestExport        RequestType = "export"
	RequestErasure       RequestType = "erasure"
	RequestRectification RequestType = "rectification"
	RequestRestriction   RequestType = "restriction"
	RequestObjection     RequestType = "objection"
)

// RequestTypes lists them.
var RequestTypes = []RequestType{RequestAccess, RequestExport, RequestErasure, RequestRectification,
	RequestRestriction, RequestObjection}

// RequestStatus is where a request is: received → identity_verified →
// in_progress → completed, or refused (with a reason) from any open step.
type RequestStatus string

// The statuses of a request.
const (
	StatusReceived         RequestStatus = "received"
	StatusIdentityVerified RequestStatus = "identity_verified"
	StatusInProgress       RequestStatus = "in_progress"
	StatusCompleted        RequestStatus = "completed"
	StatusRefused          RequestStatus = "refused"
)

// SubjectRequest is a request from a person in the register (or someone
// who says they are). It is due one month from receipt; the deadline may
// be extended once, by up to two months, with a reason (Art. 12(3)).
type SubjectRequest struct {
	ID              int64         `json:"id"`
	Type            RequestType   `json:"type"`
	PersonID        *int64        `json:"person_id,omitempty"` // once known
	Status          RequestStatus `json:"status"`
	Channel         string        `json:"channel"` // how it came: email, letter, phone, in_person, web, other
	Note            string        `json:"note,omitempty"`
	ReceivedAt      time.Time     `json:"received_at"`
	DueAt           time.Time     `json:"due_at"`
	ExtendedAt      *time.Time    `json:"extended_at,omitempty"`
	ExtensionReason string        `json:"extension_reason,omitempty"`
	RefusalReason   string        `json:"refusal_reason,omitempty"`
	CompletedAt     *time.Time    `json:"completed_at,omitempty"`
	HasReport       bool          `json:"has_report"` // a completed access or export request carries the report
	Overdue         bool          `json:"overdue"`    // open and past its deadline
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

// RequestChannels lists the channels a request may come through.
var RequestChannels = []string{"email", "letter", "phone", "in_person", "web", "other"}

// RequestUpdate changes a request; nil fields stay.
type RequestUpdate struct {
	Status          *RequestStatus `json:"status"`
	Reason          *string        `json:"reason"` // required when refusing
	PersonID        *int64         `json:"person_id"`
	Note            *string        `json:"note"`
	ExtendMonths    *int           `json:"extend_months"` // 1 or 2, once
	ExtensionReason *string        `json:"extension_reason"`
}

// Due filters of the request inbox.
const (
	DueOverdue = "overdue" // open and past the deadline
	DueSoon    = "soon"    // open and due within 7 days
)

// RequestFilter selects requests, sorted by deadline, then id.
type RequestFilter struct {
	Due    string        // "", DueOverdue or DueSoon
	Status RequestStatus // "": any
	Open   bool          // only those not completed or refused
	Cursor string
	Limit  int // 1–1000; 0 means 100
}

// RequestPage is one page of requests.
type RequestPage struct {
	Requests   []*SubjectRequest `json:"requests"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// RequestService keeps the register of requests from people. Its notes and
// reasons are sealed like everything else. Every step is audited.
type RequestService interface {
	// CreateRequest validates and stores r (status received, due one month
	// after ReceivedAt). Errors: EInvalid, ENotFound (person), EForbidden.
	CreateRequest(ctx context.Context, r *SubjectRequest) error
	FindRequests(ctx context.Context, f RequestFilter) (*RequestPage, error)
	FindRequestByID(ctx context.Context, id int64) (*SubjectRequest, error)
	// UpdateRequest moves a request on. Completing an access or export
	// request attaches the person's report. Errors: EInvalid (a step that
	// is not allowed, a second extension), ENotFound, EForbidden.
	UpdateRequest(ctx context.Context, id int64, u RequestUpdate) (*SubjectRequest, error)
	// RequestReport returns the report attached at completion. Errors:
	// ENotFound (none, or the person was erased since).
	RequestReport(ctx context.Context, id int64) (*PersonReport, error)
}
