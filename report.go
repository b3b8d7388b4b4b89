package tillit

import (
	"context"
	"time"
)

// Legal bases of processing (GDPR Art. 6(1)).
const (
	BasisConsent             = "consent"
	BasisContract            = "contract"
	BasisLegalObligation     = "legal_obligation"
	BasisVitalInterests      = "vital_interests"
	BasisPublicTask          = "public_task"
	BasisLegitimateInterests = "legitimate_interests"
)

// LegalBases lists the legal bases in the order of Art. 6(1).
var LegalBases = []string{BasisConsent, BasisContract, BasisLegalObligation, BasisVitalInterests,
	BasisPublicTask, BasisLegitimateInterests}

// Purpose is one purpose for which a tenant processes the people of its
// register, with its legal basis. The list is the tenant's own.
type Purpose struct {
	Name        string   `json:"name"`
	LegalBasis  string   `json:"legal_basis"` // one of LegalBases
	Description string   `json:"description,omitempty"`
	Categories  []string `json:"categories,omitempty"` // the data it uses: attribute names or record categories
}

// MaxPurposes bounds a tenant's list of purposes.
const MaxPurposes = 100

// Recipient is someone a person's data is disclosed to: one of the tenant's
// disclosures, or one of the platform's sub-processors.
type Recipient struct {
	Name    string `json:"name"`
	Purpose string `json:"purpose,omitempty"`
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// DataCategory is one kind of data the register holds about a person.
type DataCategory struct {
	Name           string         `json:"name"`           // an attribute name, or a record category
	Kind           string         `json:"kind"`           // "attribute" or "record"
	Classification Classification `json:"classification"` // records: personal
}

// Access is one entry of a person's access history: who in the tenant
// read or changed their data, when, and which attributes. Staff are named;
// no other person's data is ever shown.
type Access struct {
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`          // "user:12", "token:3", "system:retention"
	Name       string    `json:"name,omitempty"` // the user's or token's name, when known
	Role       Role      `json:"role,omitempty"`
	Action     string    `json:"action"` // the audit action, such as "person.read"
	Attributes []string  `json:"attributes,omitempty"`
}

// ReportRetention says how long a person is kept.
type ReportRetention struct {
	Policy   *RetentionPolicy `json:"policy"`              // nil: the tenant has none
	DeleteAt *time.Time       `json:"delete_at,omitempty"` // under the current policy
	Hold     *Hold            `json:"hold,omitempty"`
}

// PersonReport is a register extract (GDPR Art. 15): everything the tenant
// holds about one person and what it does with it.
type PersonReport struct {
	GeneratedAt   time.Time       `json:"generated_at"`
	Tenant        string          `json:"tenant"`   // the tenant's name
	Language      string          `json:"language"` // the tenant's: nb, sv or en
	Person        *Person         `json:"person"`
	Records       []*Record       `json:"records"`
	Purposes      []Purpose       `json:"purposes"`
	Categories    []DataCategory  `json:"categories"`
	Sources       []string        `json:"sources"`
	Recipients    []Recipient     `json:"recipients"`     // the tenant's disclosures
	SubProcessors []Recipient     `json:"sub_processors"` // the platform's
	Retention     ReportRetention `json:"retention"`
	AccessHistory []Access        `json:"access_history"` // oldest first
}

// PersonExport is what a person gets for portability (GDPR Art. 20): the
// person and every record, newest first.
type PersonExport struct {
	Person  *Person   `json:"person"`
	Records []*Record `json:"records"`
}

// ReportService makes register extracts and keeps the tenant's purposes.
type ReportService interface {
	// PersonReport gathers the report of a person; it is audited as a read
	// of every attribute. Errors: ENotFound, EForbidden.
	PersonReport(ctx context.Context, id int64) (*PersonReport, error)
	// ExportPerson returns the person and all their records; it is audited
	// as "person.export". Errors: ENotFound, EForbidden.
	ExportPerson(ctx context.Context, id int64) (*PersonExport, error)
	// Purposes returns the tenant's purposes (empty, not nil, when none).
	Purposes(ctx context.Context) ([]Purpose, error)
	// SetPurposes replaces them. Errors: EInvalid (naming the field), EForbidden.
	SetPurposes(ctx context.Context, list []Purpose) ([]Purpose, error)
}
