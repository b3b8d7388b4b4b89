package sqldb

import (
	"context"

	"tillit"
)

// FindEventsForTest reads any log, without a principal.
func (db *DB) FindEventsForTest(ctx context.Context, f tillit.EventFilter) ([]*tillit.Event, error) {
	return db.findEvents(ctx, f)
}

// SetTenantSettingsForTest replaces the settings JSON of a tenant, for
// settings the tenant service does not know yet (sms_allowed).
func (db *DB) SetTenantSettingsForTest(ctx context.Context, tenantID int64, settings string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE tenants SET settings = $1 WHERE id = $2`, settings, tenantID)
	return translate(err)
}

// ExecForTest runs a statement on the write pool.
func (db *DB) ExecForTest(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := db.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}
