package sqldb

import (
	"context"
	"encoding/json"
	"errors"

	"tillit"
	"tillit/keyring"
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
		_, old, err := s.tenantContext(ctx, tx, pr.TenantID)
		if err != nil {
			return err
		}
		if err := s.sealReclassified(ctx, tx, pr.TenantID, old, sc); err != nil {
			return err
		}
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

// sealReclassified seals, in tx, the stored values of attributes that
// were non_personal (kept unsealed) and are personal or special in the new
// schema, so that no personal value stays in the plain column until its
// person is next written.
func (s *PeopleService) sealReclassified(ctx context.Context, tx *Tx, tenantID int64, old, sc *tillit.Schema) error {
	var names []string
	for _, a := range sc.Attributes {
		if prev, ok := old.Attribute(a.Name); ok && !prev.Classification.Sealed() && a.Classification.Sealed() {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, sealed, plain FROM people WHERE tenant_id = $1 AND plain <> '{}'`, tenantID)
	if err != nil {
		return err
	}
	type change struct {
		id     int64
		sealed []byte
		plain  string
	}
	var changes []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.sealed, &c.plain); err != nil {
			rows.Close()
			return err
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		var plain map[string]any
		if err := json.Unmarshal([]byte(c.plain), &plain); err != nil {
			return err
		}
		moved := false
		for _, name := range names {
			_, moved = plain[name]
			if moved {
				break
			}
		}
		if !moved {
			continue
		}
		pk, err := s.keys.PersonKey(ctx, tenantID, c.id)
		if errors.Is(err, keyring.ErrNoKey) {
			continue // erased: nothing of theirs can be read anyway
		}
		if err != nil {
			return keyError(err)
		}
		sealed, err := decodeSealed(c.sealed)
		if err != nil {
			return err
		}
		for _, name := range names {
			v, ok := plain[name]
			if !ok {
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			sealed[attrPrefix+name] = pk.Seal(attrPrefix+name, b)
			delete(plain, name)
		}
		pb, err := json.Marshal(plain)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET sealed = $1, plain = $2 WHERE id = $3 AND tenant_id = $4`,
			encodeSealed(sealed), string(pb), c.id, tenantID); err != nil {
			return err
		}
	}
	return nil
}
