package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tillit"
)

// scanWith scans a row's first columns with a scanner of fewer columns and
// the rest into extra.
type scanWith struct {
	s     interface{ Scan(...any) error }
	extra []any
}

func (w scanWith) Scan(dest ...any) error { return w.s.Scan(append(dest, w.extra...)...) }

// sessionOwner is what AuthenticateSession reads of a session's account.
type sessionOwner struct {
	kind     string
	tenantID sql.NullInt64
	role     string
	blocked  bool
	settings sql.NullString
}

// idle returns the idle timeout of the owner's sessions.
func (o *sessionOwner) idle() (time.Duration, error) {
	if tillit.PrincipalKind(o.kind) == tillit.KindOperator || !o.settings.Valid {
		return operatorIdle, nil
	}
	s, err := parseAuthSettings(o.settings.String)
	return idleOf(s), err
}

// AuthenticateSession returns the principal of an active session's secret
// and extends its idle deadline. The deadline is the earliest of the
// stored idle deadline, the last use plus the tenant's idle timeout (as it
// is now), and the absolute end. Errors: EUnauthenticated (unknown,
// pending, idle, expired, or the account blocked), EUnavailable.
func (s *AuthService) AuthenticateSession(ctx context.Context, secret string) (*tillit.Principal, error) {
	refused := tillit.Errorf(tillit.EUnauthenticated, "the session is unknown or over; sign in again")
	if secret == "" || len(secret) > 100 {
		return nil, refused
	}
	var o sessionOwner
	r, err := scanSession(scanWith{s.db.read.QueryRowContext(ctx, `SELECT s.id, s.account_id, s.state, s.created_at,
		s.last_seen_at, s.idle_until, s.expires_at, s.stepped_up_at, s.client_addr, a.kind, a.tenant_id, a.role, a.blocked, t.settings
		FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN tenants t ON t.id = a.tenant_id
		WHERE s.secret_hash = $1`, hashSecret(secret)), []any{&o.kind, &o.tenantID, &o.role, &o.blocked, &o.settings}})
	if err == sql.ErrNoRows {
		return nil, refused
	}
	if err != nil {
		return nil, translate(err)
	}
	idle, err := o.idle()
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	if r.state != stateActive || o.blocked {
		return nil, refused
	}
	deadline := minTime(minTime(r.idleUntil, r.lastSeen.Add(idle)), r.expiresAt)
	if !now.Before(deadline) {
		return nil, s.expire(ctx, r, &o, refused)
	}
	if now.Sub(r.lastSeen) >= seenEvery {
		deadline = minTime(now.Add(idle), r.expiresAt)
		if _, err := s.db.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1, idle_until = $2 WHERE id = $3`,
			micros(now), micros(deadline), r.id); err != nil {
			return nil, translate(err)
		}
	}
	return &tillit.Principal{Kind: tillit.PrincipalKind(o.kind), ID: r.accountID, TenantID: o.tenantID.Int64,
		Role: tillit.Role(o.role), Name: fmt.Sprintf("%s:%d", o.kind, r.accountID),
		SessionID: r.id, SteppedUpAt: r.steppedUp, IdleUntil: &deadline}, nil
}

// expire ends a session found idle or past its end, records that in the
// account's log, and returns refused.
func (s *AuthService) expire(ctx context.Context, r *sessionRow, o *sessionOwner, refused error) error {
	field := "idle_until"
	if !s.db.now().Before(r.expiresAt) {
		field = "expires_at"
	}
	err := s.db.withTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, r.id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // another request ended it
		}
		e := tx.event(ctx, o.tenantID.Int64, "session.expire", r.name(), field)
		e.Actor = fmt.Sprintf("%s:%d", o.kind, r.accountID)
		return tx.appendEvents(ctx, []*tillit.Event{e})
	})
	if err != nil {
		return err
	}
	return refused
}

// sessionPrincipal returns the principal of ctx if it is a person signed
// in with a session. Errors: EUnauthenticated, EForbidden.
func sessionPrincipal(ctx context.Context) (*tillit.Principal, error) {
	p := tillit.PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return nil, tillit.Errorf(tillit.EUnauthenticated, "sign in first")
	case (p.Kind != tillit.KindUser && p.Kind != tillit.KindOperator) || p.SessionID == 0:
		return nil, tillit.Errorf(tillit.EForbidden, "only people signed in to the console have sessions and passwords")
	}
	return p, nil
}

// Logout ends the principal's session. Ending a session that is gone
// already is not an error. Errors: EUnauthenticated, EForbidden.
func (s *AuthService) Logout(ctx context.Context) error {
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return err
	}
	target := fmt.Sprintf("session:%d", p.SessionID)
	tillit.Describe(ctx, "auth.logout", target)
	return s.db.withTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND account_id = $2`, p.SessionID, p.ID); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, p.TenantID, "auth.logout", target))
	})
}

// FindSessions lists the principal's live sessions, newest first, marking
// the current one. Errors: EUnauthenticated, EForbidden.
func (s *AuthService) FindSessions(ctx context.Context) ([]*tillit.Session, error) {
	tillit.Describe(ctx, "session.list", "")
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	now := micros(s.db.now())
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE account_id = $1 AND state = $2 AND idle_until > $3 AND expires_at > $3 ORDER BY id DESC`, p.ID, stateActive, now)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	list := []*tillit.Session{}
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, r.session(p.SessionID))
	}
	return list, translate(rows.Err())
}

// RevokeSession ends one of the principal's own sessions. Errors:
// ENotFound (none of its own), EUnauthenticated, EForbidden.
func (s *AuthService) RevokeSession(ctx context.Context, id int64) error {
	target := fmt.Sprintf("session:%d", id)
	tillit.Describe(ctx, "session.revoke", target)
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND account_id = $2`, id, p.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return tillit.Errorf(tillit.ENotFound, "you have no session %d", id)
		}
		return tx.record(ctx, tx.event(ctx, p.TenantID, "session.revoke", target))
	})
}

// RevokeOtherSessions ends every session of the principal but the current
// one, pending sign-ins included, and returns how many it ended. Errors:
// EUnauthenticated, EForbidden.
func (s *AuthService) RevokeOtherSessions(ctx context.Context) (int, error) {
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return 0, err
	}
	target := fmt.Sprintf("%s:%d", p.Kind, p.ID)
	tillit.Describe(ctx, "session.revoke_others", target)
	var n int64
	err = s.db.withTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id <> $2`, p.ID, p.SessionID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, p.TenantID, "session.revoke_others", target))
	})
	return int(n), err
}
