package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"tillit"
)

// The states of a session: between password and second factor it is
// pending, then active.
const (
	statePendingEnroll = "pending_enroll" // must enrol a second factor
	statePendingMFA    = "pending_mfa"    // must give a second factor
	stateActive        = "active"
)

// seenEvery is how stale a session's last use may get before it is written
// again, so that authenticating is not a write on every request. The idle
// deadline is enforced exactly all the same; it may only fall up to this
// much earlier than the last request plus the idle timeout.
const seenEvery = 30 * time.Second

// sessionRow is a session as stored.
type sessionRow struct {
	id, accountID int64
	state         string
	createdAt     time.Time
	lastSeen      time.Time
	idleUntil     time.Time
	expiresAt     time.Time
	steppedUp     *time.Time
	clientAddr    string
}

const sessionColumns = `id, account_id, state, created_at, last_seen_at, idle_until, expires_at, stepped_up_at, client_addr`

func scanSession(s interface{ Scan(...any) error }) (*sessionRow, error) {
	var r sessionRow
	var created, seen, idle, expires int64
	var up sql.NullInt64
	if err := s.Scan(&r.id, &r.accountID, &r.state, &created, &seen, &idle, &expires, &up, &r.clientAddr); err != nil {
		return nil, err
	}
	r.createdAt, r.lastSeen, r.idleUntil, r.expiresAt = fromMicros(created), fromMicros(seen), fromMicros(idle), fromMicros(expires)
	r.steppedUp = timePtr(up)
	return &r, nil
}

// session returns the session as the domain shows it.
func (r *sessionRow) session(current int64) *tillit.Session {
	return &tillit.Session{ID: r.id, AccountID: r.accountID, CreatedAt: r.createdAt, LastSeenAt: r.lastSeen,
		IdleUntil: r.idleUntil, ExpiresAt: r.expiresAt, SteppedUpAt: r.steppedUp, ClientAddr: r.clientAddr,
		Current: r.id == current}
}

// name is how the session is named in audit events.
func (r *sessionRow) name() string { return fmt.Sprintf("session:%d", r.id) }

// clientAddr returns the client address of the request of ctx, or "".
func clientAddr(ctx context.Context) string {
	if r := tillit.RequestFromContext(ctx); r != nil {
		return r.Event.ClientAddr
	}
	return ""
}

// createSession stores a new session of the account with a new secret. Its
// idle deadline is idle from now, but never after expiresAt.
func (tx *Tx) createSession(ctx context.Context, r *sessionRow, idle time.Duration) (string, error) {
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	r.lastSeen, r.idleUntil = tx.now, minTime(tx.now.Add(idle), r.expiresAt)
	r.clientAddr = clientAddr(ctx)
	err = tx.QueryRowContext(ctx, `INSERT INTO sessions (secret_hash, account_id, state, created_at, last_seen_at, idle_until,
		expires_at, stepped_up_at, client_addr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		hashSecret(secret), r.accountID, r.state, micros(r.createdAt), micros(r.lastSeen), micros(r.idleUntil),
		micros(r.expiresAt), nullMicros(r.steppedUp), r.clientAddr).Scan(&r.id)
	return secret, err
}

// createPending starts a pending sign-in of the account.
func (tx *Tx) createPending(ctx context.Context, accountID int64, state string) (string, error) {
	r := &sessionRow{accountID: accountID, state: state, createdAt: tx.now, expiresAt: tx.now.Add(tillit.PendingLifetime)}
	return tx.createSession(ctx, r, tillit.PendingLifetime)
}

// pendingResult returns what a pending sign-in of the account needs next.
func pendingResult(a *accountRow, sms bool, secret string) *tillit.LoginResult {
	if !a.hasSecondFactor() {
		return &tillit.LoginResult{Next: tillit.NextEnroll, Pending: secret}
	}
	var methods []string
	if a.totpSecret != nil {
		methods = append(methods, tillit.FactorTOTP)
	}
	if a.passkeys > 0 {
		methods = append(methods, tillit.FactorPasskey)
	}
	if a.totpSecret != nil || a.passkeys > 0 {
		methods = append(methods, tillit.FactorRecovery)
	}
	if sms {
		methods = append(methods, tillit.FactorSMS)
	}
	return &tillit.LoginResult{Next: tillit.NextMFA, Methods: methods, Pending: secret}
}

// pendingState is the state of a new pending sign-in of the account.
func pendingState(a *accountRow) string {
	if a.hasSecondFactor() {
		return statePendingMFA
	}
	return statePendingEnroll
}

// signIn replaces a pending sign-in with an active session: a new secret,
// the absolute lifetime from now, the idle timeout of the tenant. It
// resets the account's failures and notes the sign-in.
func (tx *Tx) signIn(ctx context.Context, pendingID int64, a *accountRow, t *authTenant) (*tillit.SignIn, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND state <> $2`, pendingID, stateActive)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, tillit.Errorf(tillit.EUnauthenticated, "the sign-in is over; sign in again")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET failed_count = 0, delay_until = NULL, locked_until = NULL,
		last_sign_in_at = $1 WHERE id = $2`, micros(tx.now), a.id); err != nil {
		return nil, err
	}
	r := &sessionRow{accountID: a.id, state: stateActive, createdAt: tx.now, expiresAt: tx.now.Add(tillit.SessionLifetime)}
	secret, err := tx.createSession(ctx, r, idleTimeout(a, t))
	if err != nil {
		return nil, err
	}
	return &tillit.SignIn{Session: r.session(r.id), Secret: secret}, nil
}

// idleTimeout is the idle timeout of the account's sessions: its tenant's
// setting, or operatorIdle for operators.
func idleTimeout(a *accountRow, t *authTenant) time.Duration {
	if a.kind == tillit.KindOperator || t == nil {
		return operatorIdle
	}
	return idleOf(t.settings)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// pendingSession returns the unexpired pending sign-in of the secret in
// one of the states, with its account. Errors: EUnauthenticated.
// lockAccount locks the account's row until tx ends, so that concurrent
// attempts at its codes are taken one at a time and each sees the failures
// counted before it: a burst of guesses cannot slip past the slow-down and
// the lockout. SQLite's write transactions are exclusive already.
func (tx *Tx) lockAccount(ctx context.Context, id int64) error {
	if tx.db.dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, id)
	return err
}

func (tx *Tx) pendingSession(ctx context.Context, secret string, states ...string) (*sessionRow, *accountRow, error) {
	over := tillit.Errorf(tillit.EUnauthenticated, "the sign-in is unknown or over; sign in again")
	if secret == "" || len(secret) > 100 {
		return nil, nil, over
	}
	r, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE secret_hash = $1`, hashSecret(secret)))
	if err == sql.ErrNoRows {
		return nil, nil, over
	}
	if err != nil {
		return nil, nil, err
	}
	if !tx.now.Before(r.expiresAt) || !slices.Contains(states, r.state) {
		return nil, nil, over
	}
	if err := tx.lockAccount(ctx, r.accountID); err != nil {
		return nil, nil, err
	}
	a, err := accountByID(ctx, tx, r.accountID)
	if err != nil {
		return nil, nil, err
	}
	if a.blocked {
		return nil, nil, over
	}
	return r, a, nil
}
