package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"tillit"
)

// retentionPolicy reads a tenant's retention policy; nil when it has none.
func retentionPolicy(ctx context.Context, q querier, tenantID int64) (*tillit.RetentionPolicy, error) {
	var raw string
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT policy, updated_at FROM retention_policies WHERE tenant_id = $1`, tenantID).Scan(&raw, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	var p tillit.RetentionPolicy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, tillit.Internal(err)
	}
	p.UpdatedAt = fromMicros(updated)
	return &p, nil
}
