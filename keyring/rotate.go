package keyring

import (
	"context"
	"errors"
	"fmt"
)

// rotateBatch is how many keys one transaction of a rotation re-wraps.
const rotateBatch = 1000

// Rotation is what a rotation did.
type Rotation struct {
	Version   uint32 `json:"version"`   // the version everything is wrapped by now
	Started   bool   `json:"started"`   // a new version was made (false: an unfinished rotation was resumed)
	Rewrapped int    `json:"rewrapped"` // keys re-wrapped by this run
}

// RotateTenantKey makes a new version of a tenant's wrap key and re-wraps
// every person key of the tenant with it, in batches, while the data stays
// as it is and the server goes on serving. If an earlier rotation did not
// finish (some person keys are still wrapped by an older version), it
// finishes that one instead of starting another: the rotation is
// resumable. progress, if not nil, is called after each batch with the
// keys done and the keys that were left at the start.
func (k *Keyring) RotateTenantKey(ctx context.Context, tenantID int64, progress func(done, total int)) (Rotation, error) {
	k.forgetTenant(tenantID)
	tk, err := k.tenant(ctx, tenantID)
	if err != nil {
		return Rotation{}, err
	}
	rot := Rotation{Version: tk.current}
	remaining, err := k.cfg.Store.CountPersonKeysBefore(ctx, tenantID, tk.current)
	if err != nil {
		return rot, err
	}
	if remaining == 0 {
		rot.Version, rot.Started = tk.current+1, true
		if _, err := k.addTenantKey(ctx, tenantID, PurposeWrap, rot.Version); err != nil {
			if errors.Is(err, ErrKeyExists) {
				return rot, fmt.Errorf("keyring: another rotation of tenant %d started at the same time; run it again to finish it", tenantID)
			}
			return rot, err
		}
		k.forgetTenant(tenantID)
		if tk, err = k.tenant(ctx, tenantID); err != nil {
			return rot, err
		}
	}
	total, err := k.cfg.Store.CountPersonKeysBefore(ctx, tenantID, rot.Version)
	if err != nil {
		return rot, err
	}
	var after int64
	for {
		rows, err := k.cfg.Store.PersonKeysBefore(ctx, tenantID, rot.Version, after, rotateBatch)
		if err != nil {
			return rot, err
		}
		if len(rows) == 0 {
			return rot, nil
		}
		after = rows[len(rows)-1].PersonID
		old := make([]uint32, len(rows))
		for i, row := range rows {
			wk := tk.wrap[row.Version]
			if wk == nil {
				return rot, fmt.Errorf("keyring: person key of tenant %d wrapped by unknown version %d", tenantID, row.Version)
			}
			raw, err := unwrapPersonKey(wk, row)
			if err != nil {
				return rot, fmt.Errorf("keyring: person %d of tenant %d: %w", row.PersonID, tenantID, err)
			}
			old[i] = row.Version
			rows[i].Version = rot.Version
			rows[i].Wrapped = wrapPersonKey(tk.wrap[rot.Version], rot.Version, tenantID, row.PersonID, raw)
		}
		if err := k.cfg.Store.RewrapPersonKeys(ctx, rows, old); err != nil {
			return rot, err
		}
		rot.Rewrapped += len(rows)
		if progress != nil {
			progress(min(rot.Rewrapped, total), total)
		}
	}
}

// RotateRoot re-wraps every tenant key with the newest version of the root
// keys (add one first with AddRootKeyVersion). It is resumable: it re-wraps
// what is still wrapped by an older version.
func (k *Keyring) RotateRoot(ctx context.Context, progress func(done int)) (Rotation, error) {
	roots, err := k.cfg.Roots()
	if err != nil {
		return Rotation{}, err
	}
	k.mu.Lock()
	k.roots = roots
	k.mu.Unlock()
	v, newest := roots.Newest()
	rot := Rotation{Version: v}
	for {
		rows, err := k.cfg.Store.TenantKeysBefore(ctx, v, rotateBatch)
		if err != nil {
			return rot, err
		}
		if len(rows) == 0 {
			return rot, nil
		}
		for _, row := range rows {
			raw, err := k.unwrapTenantKey(row)
			if err != nil {
				return rot, fmt.Errorf("keyring: tenant %d key %s v%d: %w", row.TenantID, row.Purpose, row.Version, err)
			}
			old := row.RootVersion
			row.RootVersion = v
			row.Wrapped = wrapTenantKey(newest, row, raw)
			if err := k.cfg.Store.RewrapTenantKey(ctx, row, old); err != nil {
				return rot, err
			}
			rot.Rewrapped++
		}
		if progress != nil {
			progress(rot.Rewrapped)
		}
	}
}
