package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"tillit"
)

// TenantService implements tillit.TenantService.
type TenantService struct{ db *DB }

// NewTenantService returns the tenant service of db.
func NewTenantService(db *DB) *TenantService { return &TenantService{db: db} }

var _ tillit.TenantService = (*TenantService)(nil)

// CreateTenant creates a tenant and its audit log, recorded in the operator
// log. Errors: EInvalid, EConflict, EUnauthenticated, EForbidden.
func (s *TenantService) CreateTenant(ctx context.Context, t *tillit.Tenant) error {
	tillit.Describe(ctx, "tenant.create", "", "slug", "name", "settings")
	if _, err := tillit.AuthorizeOperator(ctx); err != nil {
		return err
	}
	t.Name = strings.TrimSpace(t.Name)
	if err := tillit.ValidateSlug(t.Slug); err != nil {
		return err
	}
	if err := tillit.ValidateName("name", t.Name); err != nil {
		return err
	}
	if err := t.Settings.Validate(); err != nil {
		return err
	}
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return tillit.Internal(err)
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		t.CreatedAt = tx.now
		err := tx.QueryRowContext(ctx, `INSERT INTO tenants (slug, name, settings, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, t.Slug, t.Name, string(settings), micros(t.CreatedAt)).Scan(&t.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_logs (id, size, frontier) VALUES ($1, 0, $2)`, t.ID, []byte{}); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, tillit.OperatorLog, "tenant.create", fmt.Sprintf("tenant:%d", t.ID), "slug", "name", "settings"))
	})
	if tillit.ErrorCode(err) == tillit.EConflict {
		return &tillit.Error{Code: tillit.EConflict, Field: "slug", Message: fmt.Sprintf("a tenant with the slug %q exists already; choose another", t.Slug)}
	}
	return err
}

const tenantColumns = `id, slug, name, settings, created_at`

func scanTenant(s interface{ Scan(...any) error }) (*tillit.Tenant, error) {
	var t tillit.Tenant
	var settings string
	var created int64
	if err := s.Scan(&t.ID, &t.Slug, &t.Name, &settings, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, fmt.Errorf("tenant %d settings: %w", t.ID, err)
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// FindTenants lists all tenants by slug. Errors: EUnauthenticated,
// EForbidden.
func (s *TenantService) FindTenants(ctx context.Context) ([]*tillit.Tenant, error) {
	tillit.Describe(ctx, "tenant.list", "")
	if _, err := tillit.AuthorizeOperator(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY slug`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var ts []*tillit.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, translate(err)
		}
		ts = append(ts, t)
	}
	return ts, translate(rows.Err())
}

// FindTenantBySlug returns the tenant with the slug, for operators.
// Errors: ENotFound, EUnauthenticated, EForbidden.
func (s *TenantService) FindTenantBySlug(ctx context.Context, slug string) (*tillit.Tenant, error) {
	if _, err := tillit.AuthorizeOperator(ctx); err != nil {
		return nil, err
	}
	t, err := scanTenant(s.db.read.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE slug = $1`, slug))
	if err != nil {
		if tillit.ErrorCode(translate(err)) == tillit.ENotFound {
			return nil, tillit.Errorf(tillit.ENotFound, "there is no tenant with the slug %q", slug)
		}
		return nil, translate(err)
	}
	return t, nil
}

// CurrentTenant returns the tenant of the principal. Errors:
// EUnauthenticated, EForbidden.
func (s *TenantService) CurrentTenant(ctx context.Context) (*tillit.Tenant, error) {
	p, err := tillit.Authorize(ctx, tillit.PermTenantRead)
	if err != nil {
		return nil, err
	}
	t, err := scanTenant(s.db.read.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, p.TenantID))
	return t, translate(err)
}

// UpdateSettings changes the settings of the principal's tenant. Errors:
// EInvalid, EUnauthenticated, EForbidden, EStepUp.
func (s *TenantService) UpdateSettings(ctx context.Context, u tillit.TenantSettingsUpdate) (*tillit.Tenant, error) {
	var fields []string
	if u.SessionIdleMinutes != nil {
		fields = append(fields, "session_idle_minutes")
	}
	if u.Locale != nil {
		fields = append(fields, "locale")
	}
	if u.SMSAllowed != nil {
		fields = append(fields, "sms_allowed")
	}
	tillit.Describe(ctx, "tenant.update", "", fields...)
	p, err := tillit.Authorize(ctx, tillit.PermTenantWrite)
	if err != nil {
		return nil, err
	}
	if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, tillit.Errorf(tillit.EInvalid, "name at least one setting to change")
	}
	var t *tillit.Tenant
	err = s.db.withTx(ctx, func(tx *Tx) error {
		var err error
		t, err = scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, p.TenantID))
		if err != nil {
			return err
		}
		if u.SessionIdleMinutes != nil {
			t.Settings.SessionIdleMinutes = *u.SessionIdleMinutes
			if *u.SessionIdleMinutes == 0 {
				return tillit.FieldErrorf("session_idle_minutes", "session_idle_minutes must be between 1 and 120")
			}
		}
		if u.Locale != nil {
			t.Settings.Locale = *u.Locale
		}
		if u.SMSAllowed != nil {
			t.Settings.SMSAllowed = *u.SMSAllowed
		}
		if err := t.Settings.Validate(); err != nil {
			return err
		}
		settings, err := json.Marshal(t.Settings)
		if err != nil {
			return tillit.Internal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET settings = $1 WHERE id = $2`, string(settings), t.ID); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, t.ID, "tenant.update", fmt.Sprintf("tenant:%d", t.ID), fields...))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
