package sqldb

import (
	"context"
	"database/sql"
	"time"

	"tillit"
)

// The kinds of one-time token.
const (
	tokenInvitation    = "invitation"
	tokenPasswordReset = "password_reset"
	tokenSMSCode       = "sms_code"
)

// createOneTimeToken stores a new one-time token of the kind for the
// account, valid for ttl, and returns its secret.
func (tx *Tx) createOneTimeToken(ctx context.Context, kind string, accountID int64, ttl time.Duration) (string, error) {
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	return secret, tx.storeOneTimeToken(ctx, kind, accountID, hashSecret(secret), ttl)
}

// storeOneTimeToken stores the hash of a one-time secret.
func (tx *Tx) storeOneTimeToken(ctx context.Context, kind string, accountID int64, hash []byte, ttl time.Duration) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO one_time_tokens (kind, secret_hash, account_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, kind, hash, accountID, micros(tx.now), micros(tx.now.Add(ttl)))
	return err
}

// useOneTimeToken marks the account's unused, unexpired token of the kind
// with the secret's hash used. A token used, expired or unknown is
// EUnauthenticated.
func (tx *Tx) useOneTimeToken(ctx context.Context, kind string, hash []byte, accountID int64) error {
	// The conditions stand in the outer WHERE too: PostgreSQL evaluates the
	// subquery once, and a concurrent transaction that used the token first
	// must make this UPDATE match nothing when it re-checks the row.
	q := `UPDATE one_time_tokens SET used_at = $1
		WHERE id = (SELECT id FROM one_time_tokens WHERE kind = $2 AND secret_hash = $3 AND used_at IS NULL AND expires_at > $1
		            AND account_id = $4 ORDER BY id DESC LIMIT 1)
		  AND used_at IS NULL AND expires_at > $1
		RETURNING account_id`
	var id int64
	err := tx.QueryRowContext(ctx, q, micros(tx.now), kind, hash, accountID).Scan(&id)
	if err == sql.ErrNoRows {
		return tillit.Errorf(tillit.EUnauthenticated, "the link or code is unknown, used or expired")
	}
	return err
}

// peekOneTimeToken returns the account of an unused, unexpired token of
// the kind without using it, so that slow work (hashing a password) can be
// done before the transaction that uses it. Errors: EUnauthenticated.
func (db *DB) peekOneTimeToken(ctx context.Context, kind, secret string) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT account_id FROM one_time_tokens
		WHERE kind = $1 AND secret_hash = $2 AND used_at IS NULL AND expires_at > $3`,
		kind, hashSecret(secret), micros(db.now())).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, tillit.Errorf(tillit.EUnauthenticated, "the link is unknown, used or expired; ask for a new one")
	}
	return id, translate(err)
}
