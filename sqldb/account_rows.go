package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"tillit"
)

// accountRow is an account as stored, with its secrets still sealed.
type accountRow struct {
	id           int64
	kind         tillit.PrincipalKind
	tenantID     int64 // 0 for operators
	emailSealed  []byte
	role         tillit.Role
	blocked      bool
	passwordHash string // "" until an invitation is accepted
	totpSecret   []byte // sealed; nil until TOTP is enrolled
	totpPending  []byte // sealed; a TOTP secret waiting for its first code
	totpLastStep int64
	phoneSealed  []byte
	failedCount  int
	delayUntil   *time.Time
	lockedUntil  *time.Time
	createdAt    time.Time
	lastSignIn   *time.Time
	passkeys     int // how many passkeys are registered
}

const accountColumns = `id, kind, tenant_id, email_sealed, role, blocked, password_hash, totp_secret, totp_pending,
	totp_last_step, phone_sealed, failed_count, delay_until, locked_until, created_at, last_sign_in_at,
	(SELECT COUNT(*) FROM passkeys WHERE passkeys.account_id = accounts.id)`

// querier is what reads: the read pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func scanAccount(s interface{ Scan(...any) error }) (*accountRow, error) {
	var a accountRow
	var kind, role string
	var tenant sql.NullInt64
	var hash sql.NullString
	var delay, locked, last sql.NullInt64
	var created int64
	err := s.Scan(&a.id, &kind, &tenant, &a.emailSealed, &role, &a.blocked, &hash, &a.totpSecret, &a.totpPending,
		&a.totpLastStep, &a.phoneSealed, &a.failedCount, &delay, &locked, &created, &last, &a.passkeys)
	if err != nil {
		return nil, err
	}
	a.kind, a.tenantID, a.role, a.passwordHash = tillit.PrincipalKind(kind), tenant.Int64, tillit.Role(role), hash.String
	a.delayUntil, a.lockedUntil, a.lastSignIn = timePtr(delay), timePtr(locked), timePtr(last)
	a.createdAt = fromMicros(created)
	return &a, nil
}

// accountByID returns the account with the id, or ENotFound.
func accountByID(ctx context.Context, q querier, id int64) (*accountRow, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return nil, tillit.Errorf(tillit.ENotFound, "there is no account %d", id)
	}
	return a, err
}

// accountByEmail returns the account of the kind and tenant (0 for
// operators) with the e-mail blind index, or nil.
func accountByEmail(ctx context.Context, q querier, kind tillit.PrincipalKind, tenantID int64, index []byte) (*accountRow, error) {
	var row *sql.Row
	if kind == tillit.KindOperator {
		row = q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'operator' AND email_index = $1`, index)
	} else {
		row = q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = 'user' AND tenant_id = $1 AND email_index = $2`,
			tenantID, index)
	}
	a, err := scanAccount(row)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return a, err
}

// name is how the account is named in audit events, as actor and target:
// "user:3" or "operator:1".
func (a *accountRow) name() string { return fmt.Sprintf("%s:%d", a.kind, a.id) }

// log is the audit log of the account's events: its tenant's, or the
// operator log.
func (a *accountRow) log() int64 { return a.tenantID }

// hasSecondFactor reports whether a second factor is enrolled.
func (a *accountRow) hasSecondFactor() bool {
	return a.totpSecret != nil || a.phoneSealed != nil || a.passkeys > 0
}

// factors lists the enrolled second factors.
func (a *accountRow) factors() []string {
	f := []string{}
	if a.totpSecret != nil {
		f = append(f, tillit.FactorTOTP)
	}
	if a.passkeys > 0 {
		f = append(f, tillit.FactorPasskey)
	}
	if a.phoneSealed != nil {
		f = append(f, tillit.FactorSMS)
	}
	return f
}

// account returns the account as the domain shows it, its e-mail opened.
func (c *authCore) account(a *accountRow) (*tillit.Account, error) {
	email, err := c.openEmail(a.id, a.emailSealed)
	if err != nil {
		return nil, err
	}
	acc := &tillit.Account{ID: a.id, Kind: a.kind, TenantID: a.tenantID, Email: email, Role: a.role,
		Blocked: a.blocked, Factors: a.factors(), CreatedAt: a.createdAt, LastSignInAt: a.lastSignIn}
	acc.Active = a.passwordHash != "" && a.hasSecondFactor()
	if a.lockedUntil != nil && a.lockedUntil.After(c.db.now()) {
		acc.LockedUntil = a.lockedUntil
	}
	return acc, nil
}

// authTenant is what sign-in needs of a tenant.
type authTenant struct {
	id       int64
	slug     string
	name     string
	settings tillit.TenantSettings
}

// operatorIdle is the idle timeout of operators' sessions.
const operatorIdle = 30 * time.Minute

// parseAuthSettings reads the settings JSON of a tenant, with the defaults
// sign-in needs where it leaves them out.
func parseAuthSettings(raw string) (tillit.TenantSettings, error) {
	var s tillit.TenantSettings
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return s, tillit.Internal(fmt.Errorf("tenant settings: %w", err))
	}
	d := tillit.DefaultTenantSettings()
	if s.SessionIdleMinutes < 1 {
		s.SessionIdleMinutes = d.SessionIdleMinutes
	}
	if s.Locale == "" {
		s.Locale = d.Locale
	}
	return s, nil
}

// idleOf returns the idle timeout of the tenant's sessions.
func idleOf(s tillit.TenantSettings) time.Duration {
	return time.Duration(s.SessionIdleMinutes) * time.Minute
}

// tenantByID returns what sign-in needs of a tenant, or ENotFound.
func tenantByID(ctx context.Context, q querier, id int64) (*authTenant, error) {
	return scanAuthTenant(q.QueryRowContext(ctx, `SELECT id, slug, name, settings FROM tenants WHERE id = $1`, id))
}

// tenantBySlug returns what sign-in needs of a tenant, or nil. A slug that
// cannot be one (bad characters, invalid UTF-8, NUL) is no tenant, found
// without asking the database, which would refuse such text.
func tenantBySlug(ctx context.Context, q querier, slug string) (*authTenant, error) {
	if tillit.ValidateSlug(slug) != nil {
		return nil, nil
	}
	t, err := scanAuthTenant(q.QueryRowContext(ctx, `SELECT id, slug, name, settings FROM tenants WHERE slug = $1`, slug))
	if tillit.ErrorCode(err) == tillit.ENotFound {
		return nil, nil
	}
	return t, err
}

func scanAuthTenant(row *sql.Row) (*authTenant, error) {
	var t authTenant
	var raw string
	if err := row.Scan(&t.id, &t.slug, &t.name, &raw); err != nil {
		if err == sql.ErrNoRows {
			return nil, tillit.Errorf(tillit.ENotFound, "there is no such tenant")
		}
		return nil, err
	}
	var err error
	t.settings, err = parseAuthSettings(raw)
	return &t, err
}

// locale returns the language of e-mails to the account's people.
func (t *authTenant) locale() string {
	if t == nil {
		return "en"
	}
	return t.settings.Locale
}

// passwordNames are the words a password of the tenant's account may not
// be built on: the tenant's name and slug, the product's name, and the
// local part of the e-mail address.
func (t *authTenant) passwordNames(email string) []string {
	names := []string{"tillit", localPart(email)}
	if t != nil {
		names = append(names, t.name, t.slug)
	}
	return names
}
