package sqldb

import (
	"context"
	"database/sql"
	"time"

	"tillit"
)

// principalAccount returns the signed-in principal's account, its tenant
// and the login target its failures count on. Errors: EUnauthenticated,
// EForbidden, ETooMany (the account is slowed down or locked).
func (s *AuthService) principalAccount(ctx context.Context) (*tillit.Principal, *loginTarget, error) {
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return nil, nil, err
	}
	a, err := accountByID(ctx, s.db.read, p.ID)
	if err != nil {
		return nil, nil, translate(err)
	}
	t, err := s.tenantOf(ctx, s.db.read, a)
	if err != nil {
		return nil, nil, translate(err)
	}
	if err := throttleError(s.db.now(), a.delayUntil, a.lockedUntil); err != nil {
		return nil, nil, err
	}
	return p, &loginTarget{log: a.log(), tenant: t, acc: a}, nil
}

// StepUp proves the principal is present with its password and a second
// factor's code, and replaces its session with a new one (new secret)
// stepped up now, which allows sensitive actions for StepUpValidity. The
// session keeps its absolute end. Failures count toward the account's
// delays and lockout. Errors: EUnauthenticated, EForbidden (not a session),
// ETooMany, EUnavailable.
func (s *AuthService) StepUp(ctx context.Context, pw, method, code string) (*tillit.SignIn, error) {
	field := factorField(method)
	tillit.Describe(ctx, "auth.step_up", "", "password", field)
	p, t, err := s.principalAccount(ctx)
	if err != nil {
		return nil, err
	}
	ok, _, err := s.checkPassword(ctx, t.acc, pw)
	if err != nil {
		return nil, err
	}
	var in *tillit.SignIn
	var locked *time.Time
	failed := false
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if ok {
			if ok, err = s.checkFactor(ctx, tx, t.acc, t.tenant, method, code); err != nil {
				return err
			}
		}
		if !ok {
			failed = true
			locked, err = tx.fail(ctx, t, "auth.step_up_failed", wrongStepUp(), true, "password", field)
			return err
		}
		if in, err = tx.replaceSession(ctx, p, t); err != nil {
			return err
		}
		return tx.record(ctx, tx.actorEvent(ctx, t.log, t.acc.name(), "auth.step_up", t.acc.name(), "password", field))
	})
	if err != nil {
		return nil, err
	}
	if failed {
		s.mailLockout(t, locked)
		return nil, wrongStepUp()
	}
	return in, nil
}

// wrongStepUp is the answer to a step-up whose password or code is wrong.
func wrongStepUp() error {
	return tillit.Errorf(tillit.EUnauthenticated, "the password or the code is wrong")
}

// replaceSession ends the principal's session and starts a stepped-up one
// in its place, with the same start and absolute end.
func (tx *Tx) replaceSession(ctx context.Context, p *tillit.Principal, t *loginTarget) (*tillit.SignIn, error) {
	old, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE id = $1 AND account_id = $2 AND state = $3`, p.SessionID, p.ID, stateActive))
	if err == sql.ErrNoRows {
		return nil, tillit.Errorf(tillit.EUnauthenticated, "the session is over; sign in again")
	}
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, old.id); err != nil {
		return nil, err
	}
	now := tx.now
	r := &sessionRow{accountID: p.ID, state: stateActive, createdAt: old.createdAt, expiresAt: old.expiresAt, steppedUp: &now}
	secret, err := tx.createSession(ctx, r, idleTimeout(t.acc, t.tenant))
	if err != nil {
		return nil, err
	}
	return &tillit.SignIn{Session: r.session(r.id), Secret: secret}, nil
}
