package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"tillit"
	"tillit/keyring"
)

// AuthService implements tillit.AuthService: sign-in with a password and a
// second factor, sessions, step-up, lockout, password change and reset,
// and invitations.
type AuthService struct{ *authCore }

// NewAuthService returns the sign-in service of db. Errors: EInvalid (cfg
// incomplete).
func NewAuthService(db *DB, cfg AuthConfig) (*AuthService, error) {
	c, err := newAuthCore(db, cfg)
	if err != nil {
		return nil, err
	}
	return &AuthService{c}, nil
}

var _ tillit.AuthService = (*AuthService)(nil)

// Wait returns once the e-mails being sent in the background (lockout
// notices, password resets) are sent or have failed. Call it before the
// process exits.
func (s *AuthService) Wait() { s.mail.Wait() }

// wrongPassword is the one answer to every failed password: unknown
// tenant, unknown account, wrong password, blocked account.
func wrongPassword() error {
	return tillit.Errorf(tillit.EUnauthenticated, "the e-mail address or password is wrong")
}

// Login checks a password and starts a pending sign-in that needs a second
// factor, or its enrolment. tenant is the tenant's slug, "" for
// operators. Unknown tenants and accounts, wrong passwords and blocked
// accounts get the same error after the same work, and failures with an
// unknown address slow down and lock like an account's. Errors:
// EUnauthenticated, ETooMany (with RetryAfter), EUnavailable.
func (s *AuthService) Login(ctx context.Context, tenant, email, pw string) (*tillit.LoginResult, error) {
	tillit.Describe(ctx, "auth.login", "", "password")
	t, err := s.findLogin(ctx, tenant, email)
	if err != nil {
		return nil, err
	}
	if err := throttleError(s.db.now(), t.delayUntil, t.lockedUntil); err != nil {
		return nil, err
	}
	ok, rehash, err := s.checkPassword(ctx, t.acc, pw)
	if err != nil {
		return nil, err
	}
	if !ok || t.acc.blocked {
		return nil, s.fail(ctx, t, "auth.login_failed", wrongPassword(), !ok, "password")
	}
	a, newHash := t.acc, ""
	if rehash {
		if newHash, err = s.cfg.Hasher.Hash(ctx, pw); err != nil {
			return nil, err
		}
	}
	var res *tillit.LoginResult
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, newHash, a.id); err != nil {
				return err
			}
		}
		secret, err := tx.createPending(ctx, a.id, pendingState(a))
		if err != nil {
			return err
		}
		res = pendingResult(a, s.smsAllowed(a, t.tenant), secret)
		return tx.record(ctx, tx.actorEvent(ctx, t.log, a.name(), "auth.login", a.name(), "password"))
	})
	return res, err
}

// loginTarget is who a sign-in attempt names: the tenant and account if
// they exist, and their failure state.
type loginTarget struct {
	log         int64       // the audit log: the tenant's, or OperatorLog
	tenant      *authTenant // nil for operators and unknown tenants
	acc         *accountRow // nil when no account matches
	key         []byte      // the login_failures key when acc is nil
	delayUntil  *time.Time
	lockedUntil *time.Time
}

// findLogin looks up the tenant and account an attempt names.
func (s *AuthService) findLogin(ctx context.Context, slug, email string) (*loginTarget, error) {
	kind := tillit.KindUser
	if slug == "" {
		kind = tillit.KindOperator
	}
	raw := strings.ToLower(strings.TrimSpace(email))
	t := &loginTarget{key: keyring.BlindIndex(s.indexKey, string(kind)+"\x00"+slug+"\x00"+raw)}
	var err error
	if kind == tillit.KindUser {
		if t.tenant, err = tenantBySlug(ctx, s.db.read, slug); err != nil {
			return nil, translate(err)
		}
	}
	norm, emailErr := normalizeEmail(email)
	if emailErr == nil && (kind == tillit.KindOperator || t.tenant != nil) {
		var tenantID int64
		if t.tenant != nil {
			tenantID, t.log = t.tenant.id, t.tenant.id
		}
		if t.acc, err = accountByEmail(ctx, s.db.read, kind, tenantID, s.emailIndex(norm)); err != nil {
			return nil, translate(err)
		}
	}
	if t.acc != nil {
		t.delayUntil, t.lockedUntil = t.acc.delayUntil, t.acc.lockedUntil
		return t, nil
	}
	var delay, locked sql.NullInt64
	err = s.db.read.QueryRowContext(ctx, `SELECT delay_until, locked_until FROM login_failures WHERE key_hash = $1`, t.key).
		Scan(&delay, &locked)
	if err != nil && err != sql.ErrNoRows {
		return nil, translate(err)
	}
	t.delayUntil, t.lockedUntil = timePtr(delay), timePtr(locked)
	return t, nil
}

// checkPassword verifies the account's password; without an account or a
// password it does the same work and fails.
func (s *AuthService) checkPassword(ctx context.Context, a *accountRow, pw string) (ok, rehash bool, err error) {
	if a == nil || a.passwordHash == "" {
		s.cfg.Hasher.Dummy(ctx, pw)
		return false, false, nil
	}
	return s.cfg.Hasher.Verify(ctx, a.passwordHash, pw)
}
