package tillit

import (
	"context"
	"regexp"
	"time"
)

// Tenant is a customer organisation: the controller of its people's data.
type Tenant struct {
	ID        int64          `json:"id"`
	Slug      string         `json:"slug"`
	Name      string         `json:"name"`
	Settings  TenantSettings `json:"settings"`
	CreatedAt time.Time      `json:"created_at"`
}

// TenantSettings are a tenant's choices. Zero values are replaced by the
// defaults of DefaultTenantSettings.
type TenantSettings struct {
	SessionIdleMinutes int    `json:"session_idle_minutes"` // idle sign-out, 1–120
	RetentionMonths    int    `json:"retention_months"`     // how long people are kept, 1–120
	Locale             string `json:"locale"`               // nb, sv or en
	Country            string `json:"country"`              // for phone numbers without a country code
	SMSAllowed         bool   `json:"sms_allowed"`          // SMS codes as a second factor (never for owners and admins)
}

// TenantSettingsUpdate changes a tenant's settings; nil fields stay.
type TenantSettingsUpdate struct {
	SessionIdleMinutes *int
	Locale             *string
	SMSAllowed         *bool
}

// DefaultTenantSettings returns the settings of a new tenant.
func DefaultTenantSettings() TenantSettings {
	return TenantSettings{SessionIdleMinutes: 30, RetentionMonths: 12, Locale: "nb", Country: "NO"}
}

// Locales are the languages of the console and the public pages.
var Locales = []string{"nb", "sv", "en"}

// Validate checks the settings and fills in defaults for zero values.
func (s *TenantSettings) Validate() error {
	d := DefaultTenantSettings()
	if s.SessionIdleMinutes == 0 {
		s.SessionIdleMinutes = d.SessionIdleMinutes
	}
	if s.RetentionMonths == 0 {
		s.RetentionMonths = d.RetentionMonths
	}
	if s.Locale == "" {
		s.Locale = d.Locale
	}
	if s.Country == "" {
		s.Country = d.Country
	}
	switch {
	case s.SessionIdleMinutes < 1 || s.SessionIdleMinutes > 120:
		return FieldErrorf("session_idle_minutes", "session_idle_minutes must be between 1 and 120")
	case s.RetentionMonths < 1 || s.RetentionMonths > 120:
		return FieldErrorf("retention_months", "retention_months must be between 1 and 120")
	case s.Locale != "nb" && s.Locale != "sv" && s.Locale != "en":
		return FieldErrorf("locale", "locale must be nb, sv or en")
	case !countryRE.MatchString(s.Country):
		return FieldErrorf("country", "country must be a two-letter code such as NO, SE, DK or FI")
	}
	return nil
}

var (
	slugRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ValidateSlug checks a tenant slug: lowercase letters, digits and dashes,
// 2–63 characters, not starting or ending with a dash.
func ValidateSlug(slug string) error {
	if !slugRE.MatchString(slug) {
		return FieldErrorf("slug", "slug must be 2–63 lowercase letters, digits and dashes, not starting or ending with a dash (got %d characters)", len(slug))
	}
	return nil
}

// ValidateName checks a display name: 1–200 characters after trimming.
func ValidateName(field, name string) error {
	if name == "" || len(name) > 200 {
		return FieldErrorf(field, "%s must be 1–200 characters", field)
	}
	return nil
}

// TenantService manages tenants. Creating and listing tenants is for
// operators; a tenant's principal may read its own tenant.
type TenantService interface {
	// CreateTenant creates a tenant with default settings where t.Settings
	// leaves them zero, and its audit log. Errors: EInvalid, EConflict (slug
	// taken), EForbidden.
	CreateTenant(ctx context.Context, t *Tenant) error

	// FindTenants lists all tenants by slug. Errors: EForbidden.
	FindTenants(ctx context.Context) ([]*Tenant, error)

	// FindTenantBySlug returns the tenant with the slug, for operators.
	// Errors: ENotFound, EForbidden.
	FindTenantBySlug(ctx context.Context, slug string) (*Tenant, error)

	// CurrentTenant returns the tenant of the principal. Errors:
	// EUnauthenticated, EForbidden.
	CurrentTenant(ctx context.Context) (*Tenant, error)

	// UpdateSettings changes the settings of the principal's tenant; it
	// needs tenant:write and a step-up. Errors: EInvalid, EForbidden,
	// EStepUp.
	UpdateSettings(ctx context.Context, u TenantSettingsUpdate) (*Tenant, error)
}
