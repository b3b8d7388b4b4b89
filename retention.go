package tillit

import (
	"context"
	"time"
)

// Where a retention period is counted from.
const (
	RetentionFromCollected    = "collected_at"
	RetentionFromLastActivity = "last_activity_at"
)

// Retention modes.
const (
	RetentionReview    = "review"    // flagged people wait for a privacy officer's decision
	RetentionAutomatic = "automatic" // flagged people are erased after the grace period
)

// RetentionPolicy is how long a tenant keeps the people of its register
// (gallring): Months counted from From; in automatic mode people past
// their date are erased GraceDays after they were flagged. Categories
// keeps records of a category for their own number of months, counted from
// each record's occurred_at.
type RetentionPolicy struct {
	Months     int            `json:"months"`     // 1–120
	From       string         `json:"from"`       // RetentionFromCollected or RetentionFromLastActivity
	Mode       string         `json:"mode"`       // RetentionReview or RetentionAutomatic
	GraceDays  int            `json:"grace_days"` // 0–365
	Categories map[string]int `json:"categories,omitempty"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// Validate checks the policy, naming the field that is wrong.
func (p *RetentionPolicy) Validate() error {
	switch {
	case p.Months < 1 || p.Months > 120:
		return FieldErrorf("months", "months must be from 1 to 120")
	case p.From != RetentionFromCollected && p.From != RetentionFromLastActivity:
		return FieldErrorf("from", "from must be collected_at or last_activity_at")
	case p.Mode != RetentionReview && p.Mode != RetentionAutomatic:
		return FieldErrorf("mode", "mode must be review or automatic")
	case p.GraceDays < 0 || p.GraceDays > 365:
		return FieldErrorf("grace_days", "grace_days must be from 0 to 365")
	case len(p.Categories) > MaxCategories:
		return FieldErrorf("categories", "at most %d record categories", MaxCategories) // as a schema
	}
	for c, m := range p.Categories {
		if c == "" || len(c) > 64 {
			return FieldErrorf("categories", "a record category must have a name of 1 to 64 bytes")
		}
		if m < 1 || m > 120 {
			return FieldErrorf("categories", "the months of record category %q must be from 1 to 120", c)
		}
	}
	return nil
}

// DueAt returns when the policy says the person is to go: Months after the
// date it counts from, or after KeptUntil when an officer decided to keep
// the person longer.
func (p *RetentionPolicy) DueAt(person *Person) time.Time {
	from := person.CollectedAt
	if p.From == RetentionFromLastActivity {
		from = person.LastActivityAt
	}
	due := AddMonths(from, p.Months)
	if person.KeptUntil != nil && person.KeptUntil.After(due) {
		due = *person.KeptUntil
	}
	return due
}

// AddMonths adds months calendar months to t (months may be negative); a
// day the target month does not have becomes its last day (31 January + 1
// month = 28 or 29 February; 31 March − 1 month = 28 or 29 February), as
// time limits in months are counted in EU law (Regulation 1182/71). Unlike
// t.AddDate, it never runs over into the month after.
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// RetentionPreview says what a policy would do if saved now.
type RetentionPreview struct {
	Policy      *RetentionPolicy `json:"policy"`
	WouldFlag   int              `json:"would_flag"`   // people past their date, not flagged yet
	WouldDelete int              `json:"would_delete"` // records past their category's months
	Saved       bool             `json:"saved"`
}

// FlaggedPerson is a person past the policy's date.
type FlaggedPerson struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"` // given and family name, for the review list
	FlaggedAt time.Time  `json:"flagged_at"`
	DueAt     time.Time  `json:"due_at"`
	EraseAt   *time.Time `json:"erase_at,omitempty"` // automatic mode: after the grace period
	Hold      *Hold      `json:"hold,omitempty"`     // held: the job skips them
}

// RetentionDecision is a privacy officer's decision on flagged people.
type RetentionDecision struct {
	IDs    []int64 `json:"ids"`
	Action string  `json:"action"` // "erase" or "keep"
	Reason string  `json:"reason"`
}

// RetentionDecisionResult is what a decision did.
type RetentionDecisionResult struct {
	Erased     []*Receipt `json:"erased"`
	Kept       []int64    `json:"kept"`
	Held       []int64    `json:"held"`        // under a legal hold: not erased
	NotFlagged []int64    `json:"not_flagged"` // not flagged (or not found): left alone
}

// RetentionRun is the summary of one run of the retention job over one
// tenant; it is also written as the summary event of the run.
type RetentionRun struct {
	Tenant         string    `json:"tenant"` // the slug
	At             time.Time `json:"at"`
	Policy         bool      `json:"policy"`    // false: the tenant has none, nothing was done
	Flagged        int       `json:"flagged"`   // newly flagged
	Unflagged      int       `json:"unflagged"` // flagged before, no longer due (new activity, a longer policy)
	Erased         int       `json:"erased"`
	Held           []int64   `json:"held"`            // automatic mode: due for erasure but under a legal hold: skipped
	RecordsDeleted int       `json:"records_deleted"` // automatic mode: records past their category's months
	RecordsDue     int       `json:"records_due"`     // review mode: such records, counted and left alone
	Finished       int       `json:"finished"`        // erasures and anonymisations a process left half done, finished
}

// RetentionService applies the tenants' retention policies.
type RetentionService interface {
	// RetentionPolicy returns the tenant's policy; nil when it has none.
	RetentionPolicy(ctx context.Context) (*RetentionPolicy, error)
	// SetRetentionPolicy validates p and reports how many people it would
	// flag; it saves p unless dryRun. Saving an automatic policy needs a
	// step-up; switching from review to automatic restarts the grace period
	// of the people already flagged. Errors: EInvalid, EForbidden, EStepUp.
	SetRetentionPolicy(ctx context.Context, p *RetentionPolicy, dryRun bool) (*RetentionPreview, error)
	// FlaggedPeople lists the tenant's flagged people, oldest flag first.
	FlaggedPeople(ctx context.Context, cursor string, limit int) ([]*FlaggedPerson, string, error)
	// DecideRetention erases or keeps flagged people. Erasing needs
	// PermPersonErase and a step-up. Errors: EInvalid, EForbidden, EStepUp.
	DecideRetention(ctx context.Context, d RetentionDecision) (*RetentionDecisionResult, error)
	// RunRetention runs the job for one tenant (by slug) or, with "", for
	// every tenant: flags people past their date, erases the due ones in
	// automatic mode, deletes records past their category's months, and
	// writes a summary event per tenant. For the system principal (the
	// daily job, `tillit retention run`) and operators; a tenant's staff
	// with PermRetentionWrite run their own tenant, and under an automatic
	// policy also need PermPersonErase and a step-up.
	RunRetention(ctx context.Context, tenant string, progress func(tenant string, erased int)) ([]*RetentionRun, error)
}
