package tillit

import (
	"context"
	"encoding/json"
	"time"
)

// Person is a data subject in a tenant's register. Every attribute but the
// tenant's non_personal ones is sealed at rest under the person's own key.
// Empty strings are attributes the person does not have.
type Person struct {
	ID                int64          `json:"id"`
	GivenName         string         `json:"given_name,omitempty"`
	FamilyName        string         `json:"family_name,omitempty"`
	NationalID        string         `json:"national_id,omitempty"`         // normalised: digits (SE 12, NO 11, DK 10) or FI's 11 characters
	NationalIDCountry string         `json:"national_id_country,omitempty"` // SE, NO, DK or FI
	BirthDate         string         `json:"birth_date,omitempty"`          // YYYY-MM-DD; derived from the national id when not given
	Email             string         `json:"email,omitempty"`               // as given, trimmed; matched case-insensitively
	Phone             string         `json:"phone,omitempty"`               // E.164
	Address           *Address       `json:"address,omitempty"`
	Language          string         `json:"language,omitempty"` // BCP 47 tag, such as nb, sv or en
	Attributes        map[string]any `json:"attributes,omitempty"`
	CollectedAt       time.Time      `json:"collected_at"`
	UpdatedAt         time.Time      `json:"updated_at"`
	LastActivityAt    time.Time      `json:"last_activity_at"`

	// Set by the register, never by a create, patch or import.
	Source      string       `json:"source,omitempty"`      // where the data came from: api, console or import
	Restriction *Restriction `json:"restriction,omitempty"` // processing restricted (Art. 18)
	Hold        *Hold        `json:"hold,omitempty"`        // a legal hold: not erased while it lasts
	FlaggedAt   *time.Time   `json:"flagged_at,omitempty"`  // retention: past the policy's date
	KeptUntil   *time.Time   `json:"kept_until,omitempty"`  // retention: an officer decided to keep the person until then
	KeptReason  string       `json:"kept_reason,omitempty"` // and why

	// An anonymised person is a statistical remnant: no key, no personal
	// values; the non_personal attributes, the birth year and the first two
	// digits of the postal code are all that is left.
	AnonymisedAt *time.Time `json:"anonymised_at,omitempty"`
	BirthYear    int        `json:"birth_year,omitempty"`
	PostalArea   string     `json:"postal_area,omitempty"`
}

// Sources of a person's data.
const (
	SourceAPI     = "api"
	SourceConsole = "console"
	SourceImport  = "import"
)

// Address is a person's postal address.
type Address struct {
	Street     string `json:"street,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	City       string `json:"city,omitempty"`
	Country    string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// The standard attributes of a person, by their names in the API, the audit
// log and the associated data of their sealed values.
const (
	AttrGivenName         = "given_name"
	AttrFamilyName        = "family_name"
	AttrNationalID        = "national_id"
	AttrNationalIDCountry = "national_id_country"
	AttrBirthDate         = "birth_date"
	AttrEmail             = "email"
	AttrPhone             = "phone"
	AttrAddress           = "address"
	AttrLanguage          = "language"
)

// StandardAttributes lists the standard attributes in the API's order.
var StandardAttributes = []string{AttrGivenName, AttrFamilyName, AttrNationalID, AttrNationalIDCountry,
	AttrBirthDate, AttrEmail, AttrPhone, AttrAddress, AttrLanguage}

// The countries whose national identity numbers tillit knows.
var NationalIDCountries = []string{"SE", "NO", "DK", "FI"}

// PersonSort orders a list of people.
type PersonSort string

const (
	SortByID         PersonSort = "id"          // the default: cheap, stable
	SortByFamilyName PersonSort = "family_name" // family name, then given name, then id
)

// PersonFilter selects a page of a tenant's people.
type PersonFilter struct {
	Sort   PersonSort
	Cursor string // from the previous page's NextCursor; "" for the first
	Limit  int    // 1–1000; 0 means 100
}

// PersonPage is one page of people and the cursor of the next ("" at the
// end).
type PersonPage struct {
	People     []*Person `json:"people"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// PersonLookup finds people by exactly one of its fields, matched after
// normalisation (case of e-mail, phone formats, separators of national ids).
type PersonLookup struct {
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	NationalID string `json:"national_id,omitempty"`
	// NationalIDCountry narrows a national_id lookup to one country; when
	// empty, every country whose rules the number passes is tried.
	NationalIDCountry string `json:"national_id_country,omitempty"`
}

// PersonService keeps a tenant's register of people. The tenant is the
// authenticated principal's; another tenant's person is ENotFound. Every
// call is an audit event naming the person and the attributes touched.
type PersonService interface {
	// CreatePerson validates p, fills in ID and times, and stores it.
	// Errors: EInvalid (naming the attribute), EForbidden.
	CreatePerson(ctx context.Context, p *Person) error
	// FindPersonByID returns a person. Errors: ENotFound.
	FindPersonByID(ctx context.Context, id int64) (*Person, error)
	// UpdatePerson applies a JSON merge patch (RFC 7386) to a person.
	// Errors: EInvalid, ENotFound.
	UpdatePerson(ctx context.Context, id int64, patch json.RawMessage) (*Person, error)
	// FindPeople returns a page of people.
	FindPeople(ctx context.Context, f PersonFilter) (*PersonPage, error)
	// LookupPeople returns the people with the looked-up value.
	LookupPeople(ctx context.Context, l PersonLookup) ([]*Person, error)
}

// Record is a dated entry about a person. Title and body are sealed under
// the person's key; the category is the tenant's own word for its kind.
type Record struct {
	ID         int64     `json:"id"`
	PersonID   int64     `json:"person_id"`
	Category   string    `json:"category"`
	Title      string    `json:"title"`
	Body       string    `json:"body,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MaxRecordBody is the largest record body, in bytes.
const MaxRecordBody = 1 << 20

// RecordUpdate changes a record; nil fields stay.
type RecordUpdate struct {
	Category   *string    `json:"category"`
	Title      *string    `json:"title"`
	Body       *string    `json:"body"`
	OccurredAt *time.Time `json:"occurred_at"`
}

// RecordFilter selects a page of a person's records, newest first.
type RecordFilter struct {
	Cursor string
	Limit  int // 1–1000; 0 means 100
}

// RecordPage is one page of records.
type RecordPage struct {
	Records    []*Record `json:"records"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// RecordService keeps the records of a tenant's people. Errors as for
// PersonService; a record of another person is ENotFound.
type RecordService interface {
	CreateRecord(ctx context.Context, r *Record) error
	FindRecords(ctx context.Context, personID int64, f RecordFilter) (*RecordPage, error)
	FindRecordByID(ctx context.Context, personID, id int64) (*Record, error)
	UpdateRecord(ctx context.Context, personID, id int64, u RecordUpdate) (*Record, error)
	DeleteRecord(ctx context.Context, personID, id int64) error
}

// ImportOptions say how an import treats bad lines.
type ImportOptions struct {
	// AllOrNothing refuses the whole file if any line is refused.
	AllOrNothing bool
}

// ImportRefusal is one refused line of an import: its number (the header
// of a CSV file is line 1) and why.
type ImportRefusal struct {
	Line      int    `json:"line"`
	Field     string `json:"field,omitempty"`
	Reason    string `json:"reason"`
	Duplicate bool   `json:"duplicate,omitempty"` // same national id or e-mail as a person already there or earlier in the file
}

// ImportResult is what an import did.
type ImportResult struct {
	Created      int             `json:"created"`
	Refused      []ImportRefusal `json:"refused"`       // in line order; the first 1,000
	RefusedTotal int             `json:"refused_total"` // every refused line, also past the first 1,000
	Imported     bool            `json:"imported"`      // false when AllOrNothing refused the file
}

// ImportSource yields the people of an import one by one. Next returns the
// next person and its line number, or io.EOF at the end. A line that
// cannot be read as a person is an *Error with its field, which the import
// reports as refused and goes on (unless the error is not EInvalid).
type ImportSource interface {
	Next() (p *Person, line int, err error)
}

// ImportService imports people in bulk.
type ImportService interface {
	// ImportPeople stores the people of src, calling progress (if not nil)
	// with the number of lines read so far now and then.
	ImportPeople(ctx context.Context, src ImportSource, opts ImportOptions, progress func(lines int)) (*ImportResult, error)
}

// Register is the whole of a tenant's register: people, their records,
// the schema and imports.
type Register interface {
	PersonService
	RecordService
	SchemaService
	ImportService
	RightsService
	ReportService
	RequestService
	RetentionService
}
