package sqldb

import (
	"context"
	"fmt"
	"time"

	"tillit"
	"tillit/notify"
)

// unknownFailuresKept is how long failures with an address that has no
// account count: a quiet day starts them again from zero.
const unknownFailuresKept = 24 * time.Hour

// throttleAfter returns the delay or lockout after the nth failure in a
// row: from SlowdownThreshold a delay that doubles from one second, from
// LockoutThreshold a lockout of LockoutDuration.
func throttleAfter(n int, now time.Time) (delayUntil, lockedUntil *time.Time) {
	switch {
	case n >= tillit.LockoutThreshold:
		l := now.Add(tillit.LockoutDuration)
		return nil, &l
	case n >= tillit.SlowdownThreshold:
		d := now.Add(min(time.Second<<(n-tillit.SlowdownThreshold), tillit.LockoutDuration))
		return &d, nil
	}
	return nil, nil
}

// throttleError returns ETooMany with RetryAfter while a delay or lockout
// lasts, else nil.
func throttleError(now time.Time, delayUntil, lockedUntil *time.Time) error {
	var until time.Time
	for _, t := range []*time.Time{delayUntil, lockedUntil} {
		if t != nil && t.After(until) {
			until = *t
		}
	}
	if !until.After(now) {
		return nil
	}
	wait := until.Sub(now).Round(time.Second)
	if wait < until.Sub(now) {
		wait += time.Second
	}
	return &tillit.Error{Code: tillit.ETooMany, RetryAfter: wait,
		Message: fmt.Sprintf("too many failed attempts; try again in %d seconds", int(wait/time.Second))}
}

// actorEvent returns the event of a change as tx.event does, with another
// actor: the account that signs in, or "anonymous".
func (tx *Tx) actorEvent(ctx context.Context, log int64, actor, action, target string, fields ...string) *tillit.Event {
	e := tx.event(ctx, log, action, target, fields...)
	e.Actor = actor
	return e
}

// fail records a failed attempt in its own transaction, counts it toward
// the delays and the lockout if count is set, e-mails the account if this
// failure locked it, and returns refused.
func (s *AuthService) fail(ctx context.Context, t *loginTarget, action string, refused error, count bool, fields ...string) error {
	var locked *time.Time
	err := s.db.withTx(ctx, func(tx *Tx) error {
		var err error
		locked, err = tx.fail(ctx, t, action, refused, count, fields...)
		return err
	})
	if err != nil {
		return err
	}
	s.mailLockout(t, locked)
	return refused
}

// fail records a failed attempt in tx and counts it if count is set. It
// returns the end of the lockout if this failure locked the account.
func (tx *Tx) fail(ctx context.Context, t *loginTarget, action string, refused error, count bool, fields ...string) (*time.Time, error) {
	actor, target := "anonymous", ""
	if t.acc != nil {
		actor, target = t.acc.name(), t.acc.name()
	}
	e := tx.actorEvent(ctx, t.log, actor, action, target, fields...)
	e.Outcome = tillit.ErrorCode(refused)
	if !count {
		return nil, tx.record(ctx, e)
	}
	locked, err := tx.countFailure(ctx, t)
	if err != nil || locked == nil {
		return nil, tx.record(ctx, e)
	}
	return locked, tx.recordWith(ctx, e, tx.actorEvent(ctx, t.log, actor, "auth.lockout", target, "locked_until"))
}

// countFailure adds a failure to the account's count (or the unknown
// address's) and sets its delay or lockout. It returns the end of the
// lockout if this failure reached LockoutThreshold.
func (tx *Tx) countFailure(ctx context.Context, t *loginTarget) (*time.Time, error) {
	var n int
	var err error
	if t.acc != nil {
		err = tx.QueryRowContext(ctx, `UPDATE accounts SET failed_count = failed_count + 1 WHERE id = $1 RETURNING failed_count`,
			t.acc.id).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `INSERT INTO login_failures (key_hash, failed_count, updated_at) VALUES ($1, 1, $2)
			ON CONFLICT (key_hash) DO UPDATE SET updated_at = $2,
			failed_count = CASE WHEN login_failures.updated_at < $3 THEN 1 ELSE login_failures.failed_count + 1 END
			RETURNING failed_count`, t.key, micros(tx.now), micros(tx.now.Add(-unknownFailuresKept))).Scan(&n)
	}
	if err != nil {
		return nil, err
	}
	delay, locked := throttleAfter(n, tx.now)
	if t.acc != nil {
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET delay_until = $1, locked_until = COALESCE($2, locked_until) WHERE id = $3`,
			nullMicros(delay), nullMicros(locked), t.acc.id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE login_failures SET delay_until = $1, locked_until = COALESCE($2, locked_until) WHERE key_hash = $3`,
			nullMicros(delay), nullMicros(locked), t.key)
	}
	return locked, err
}

// mailLockout tells the person of a locked account, in the background.
func (s *AuthService) mailLockout(t *loginTarget, until *time.Time) {
	if until == nil || t.acc == nil {
		return
	}
	email, err := s.openEmail(t.acc.id, t.acc.emailSealed)
	if err != nil {
		s.db.logger.Error("lockout notice not sent", "err", err)
		return
	}
	s.sendLater("lockout", notify.LockoutMail(t.tenant.locale(), email, *until))
}
