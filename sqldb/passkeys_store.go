package sqldb

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tillit"
)

// passkeyRow is a passkey as stored: its public key and what WebAuthn
// needs to check its assertions.
type passkeyRow struct {
	id, accountID     int64
	credentialID      []byte
	publicKey         []byte // COSE_Key
	attestationType   string
	attestationFormat string
	aaguid            []byte
	signCount         uint32
	transports        string // comma-separated
	flags             byte   // authenticator data flags
	name              string
}

const passkeyColumns = `id, account_id, credential_id, public_key, attestation_type, attestation_format, aaguid,
	sign_count, transports, flags, name`

func scanPasskey(s interface{ Scan(...any) error }) (*passkeyRow, error) {
	var r passkeyRow
	var count, flags int64
	err := s.Scan(&r.id, &r.accountID, &r.credentialID, &r.publicKey, &r.attestationType, &r.attestationFormat,
		&r.aaguid, &count, &r.transports, &flags, &r.name)
	r.signCount, r.flags = uint32(count), byte(flags)
	return &r, err
}

// credential returns the passkey as WebAuthn sees it.
func (r *passkeyRow) credential() webauthn.Credential {
	var transports []protocol.AuthenticatorTransport
	for t := range strings.SplitSeq(r.transports, ",") {
		if t != "" {
			transports = append(transports, protocol.AuthenticatorTransport(t))
		}
	}
	return webauthn.Credential{ID: r.credentialID, PublicKey: r.publicKey, AttestationType: r.attestationType,
		AttestationFormat: r.attestationFormat, Transport: transports,
		Flags:         webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(r.flags)),
		Authenticator: webauthn.Authenticator{AAGUID: r.aaguid, SignCount: r.signCount}}
}

// passkeysOf returns the account's passkeys, oldest first.
func (tx *Tx) passkeysOf(ctx context.Context, accountID int64) ([]*passkeyRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*passkeyRow
	for rows.Next() {
		r, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// userHandle returns the account's WebAuthn user handle: 32 random bytes,
// made at its first use.
func (tx *Tx) userHandle(ctx context.Context, accountID int64) ([]byte, error) {
	h := make([]byte, 32)
	if _, err := rand.Read(h); err != nil {
		return nil, tillit.Internal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webauthn_users (account_id, user_handle) VALUES ($1, $2)
		ON CONFLICT (account_id) DO NOTHING`, accountID, h); err != nil {
		return nil, err
	}
	err := tx.QueryRowContext(ctx, `SELECT user_handle FROM webauthn_users WHERE account_id = $1`, accountID).Scan(&h)
	return h, err
}

// insertPasskey stores a registered credential under the name.
func (tx *Tx) insertPasskey(ctx context.Context, accountID int64, c *webauthn.Credential, name string) error {
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = strings.ReplaceAll(string(t), ",", "")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO passkeys (account_id, credential_id, public_key, attestation_type,
		attestation_format, aaguid, sign_count, transports, flags, name, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		accountID, c.ID, c.PublicKey, c.AttestationType, c.AttestationFormat, nonNil(c.Authenticator.AAGUID),
		int64(c.Authenticator.SignCount), strings.Join(transports, ","), int64(c.Flags.ProtocolValue()), name, micros(tx.now))
	return err
}

// passkeyTaken reports whether a credential is registered already, to
// any account.
func (tx *Tx) passkeyTaken(ctx context.Context, credentialID []byte) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM passkeys WHERE credential_id = $1`, credentialID).Scan(&n)
	return n > 0, err
}

// usePasskey stores the signature counter and flags of an accepted
// assertion. It reports false, and stores nothing, when the counter did
// not move forward: a cloned authenticator, or an assertion replayed.
// Authenticators that keep no counter send 0 every time.
func (tx *Tx) usePasskey(ctx context.Context, rows []*passkeyRow, c *webauthn.Credential) (bool, error) {
	i := 0
	for i < len(rows) && !bytes.Equal(rows[i].credentialID, c.ID) {
		i++
	}
	if i == len(rows) || c.Authenticator.CloneWarning {
		return false, nil
	}
	count := int64(c.Authenticator.SignCount)
	res, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = $1, flags = $2, last_used_at = $3
		WHERE id = $4 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`,
		count, int64(c.Flags.ProtocolValue()), micros(tx.now), rows[i].id)
	return oneRow(res, err)
}

// saveChallenge stores a ceremony's session data as the session's one
// challenge of the kind, replacing an earlier one; it lasts
// PasskeyChallengeTTL.
func (tx *Tx) saveChallenge(ctx context.Context, sessionID int64, kind string, data *webauthn.SessionData) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return tillit.Internal(err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO webauthn_challenges (session_id, kind, session_data, expires_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, kind)
		DO UPDATE SET session_data = excluded.session_data, expires_at = excluded.expires_at`,
		sessionID, kind, string(raw), micros(tx.now.Add(tillit.PasskeyChallengeTTL)))
	return err
}

// takeChallenge deletes the session's challenge of the kind and returns
// it, or false if there is none or it expired: each is answered once.
func (tx *Tx) takeChallenge(ctx context.Context, sessionID int64, kind string) (*webauthn.SessionData, bool, error) {
	var raw string
	var expires int64
	err := tx.QueryRowContext(ctx, `DELETE FROM webauthn_challenges WHERE session_id = $1 AND kind = $2
		RETURNING session_data, expires_at`, sessionID, kind).Scan(&raw, &expires)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !tx.now.Before(fromMicros(expires)) {
		return nil, false, nil
	}
	var data webauthn.SessionData
	if err := json.Unmarshal([]byte(raw), &data); err != nil {
		return nil, false, tillit.Internal(err)
	}
	return &data, true, nil
}

// nonNil returns b, or an empty slice for nil, for NOT NULL columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
