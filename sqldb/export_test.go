package sqldb

import (
	"context"

	"tillit"
)

// AppendEventsForTest appends events in one transaction, as a change does.
func (db *DB) AppendEventsForTest(ctx context.Context, events []*tillit.Event) error {
	return db.withTx(ctx, func(tx *Tx) error { return tx.appendEvents(ctx, events) })
}

// ChangeForTest makes a small real change (renames a tenant) in one
// transaction, with its audit event when withEvent is set.
func (db *DB) ChangeForTest(ctx context.Context, tenantID int64, withEvent bool) error {
	return db.withTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = name WHERE id = $1`, tenantID); err != nil {
			return err
		}
		if !withEvent {
			return nil
		}
		e := &tillit.Event{Log: tenantID, Actor: "token:1", Action: "tenant.update", Target: "tenant:1",
			Fields: []string{"name"}, Outcome: tillit.OutcomeOK, RequestID: "0123456789abcdef0123456789abcdef", ClientAddr: "127.0.0.1"}
		return tx.appendEvents(ctx, []*tillit.Event{e})
	})
}

// DecodeSealedForTest decodes a people.sealed value into its ciphertexts by
// place.
func DecodeSealedForTest(b []byte) (map[string][]byte, error) { return decodeSealed(b) }

// EncodeSealedForTest encodes ciphertexts by place as people.sealed holds
// them.
func EncodeSealedForTest(sealed map[string][]byte) []byte { return encodeSealed(sealed) }

// SetLastIDForTest makes the next id newID gives last+1 (unless the clock
// is past it), so a test can make two people meet on one id.
func SetLastIDForTest(last int64) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.last = last
}

// SetImportBatchForTest sets how many people one transaction of an import
// writes, so that tests cross batches with few people.
func (s *PeopleService) SetImportBatchForTest(n int) { s.batch = n }

// BatchesAtHeadForTest is how many batches of read events were written
// as one statement at a known head (PostgreSQL).
func (db *DB) BatchesAtHeadForTest() int { return db.group.atHead }
