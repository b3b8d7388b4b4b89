package sqldb

import (
	"context"
	"encoding/json"

	"tillit"
)

// FindSchema implements tillit.SchemaService: the tenant's schema, or the
// default (no attributes, the default categories) if it has none yet.
func (s *PeopleService) FindSchema(ctx context.Context) (*tillit.Schema, error) {
	tillit.Describe(ctx, "schema.read", "schema")
	pr, err := tillit.Authorize(ctx, tillit.PermTenantRead)
	if err != nil {
		return nil, err
	}
	_, schema, err := s.tenantContext(ctx, s.db.read, pr.TenantID)
	return schema, err
}

// UpdateSchema implements tillit.SchemaService: it replaces the schema.
// Errors: EInvalid (naming the attribute), EForbidden.
func (s *PeopleService) UpdateSchema(ctx context.Context, sc *tillit.Schema) (*tillit.Schema, error) {
	tillit.Describe(ctx, "schema.update", "schema", "attributes", "categories")
	pr, err := tillit.Authorize(ctx, tillit.PermTenantWrite)
	if err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		sc.UpdatedAt = tx.now
		b, err := json.Marshal(sc)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_schemas (tenant_id, schema, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET schema = excluded.schema, updated_at = excluded.updated_at`,
			pr.TenantID, string(b), micros(tx.now)); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "schema.update", "schema", "attributes", "categories"))
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}
