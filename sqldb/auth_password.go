package sqldb

import (
	"context"
	"fmt"
	"time"

	"tillit"
	"tillit/notify"
	"tillit/password"
)

// newPasswordHash checks a new password of the account against the policy
// and hashes it. Errors: EInvalid (field "password"), EUnavailable.
func (s *authCore) newPasswordHash(ctx context.Context, a *accountRow, t *authTenant, pw string) (string, error) {
	email, err := s.openEmail(a.id, a.emailSealed)
	if err != nil {
		return "", err
	}
	if err := password.Check(pw, t.passwordNames(email)...); err != nil {
		return "", err
	}
	return s.cfg.Hasher.Hash(ctx, pw)
}

// ChangePassword changes the principal's password after checking the
// current one, and ends the principal's other sessions. A wrong current
// password counts toward the delays and lockout. Errors: EInvalid (field
// "password"), EUnauthenticated (wrong current password), EForbidden,
// ETooMany, EUnavailable.
func (s *AuthService) ChangePassword(ctx context.Context, current, next string) error {
	tillit.Describe(ctx, "auth.password_change", "", "password")
	p, t, err := s.principalAccount(ctx)
	if err != nil {
		return err
	}
	ok, _, err := s.checkPassword(ctx, t.acc, current)
	if err != nil {
		return err
	}
	if !ok {
		refused := tillit.Errorf(tillit.EUnauthenticated, "the current password is wrong")
		return s.fail(ctx, t, "auth.password_change_failed", refused, true, "password")
	}
	hash, err := s.newPasswordHash(ctx, t.acc, t.tenant, next)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, p.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id <> $2`, p.ID, p.SessionID); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, t.log, "auth.password_change", t.acc.name(), "password", "sessions"))
	})
}

// resetsPerHour bounds the reset e-mails one account gets.
const resetsPerHour = 3

// RequestPasswordReset e-mails a link to set a new password, valid
// PasswordResetTTL and once, if the tenant (slug; "" for operators) has a
// non-blocked account with the address. The answer is the same either way,
// and the e-mail is sent in the background so that it does not show in
// the time taken; an account gets at most 3 a hour. Errors: EUnavailable.
func (s *AuthService) RequestPasswordReset(ctx context.Context, tenant, email string) error {
	tillit.Describe(ctx, "auth.password_reset_request", "")
	t, err := s.findLogin(ctx, tenant, email)
	if err != nil {
		return err
	}
	var token string
	err = s.db.withTx(ctx, func(tx *Tx) error {
		target := ""
		if a := t.acc; a != nil && !a.blocked {
			target = a.name()
			ok, _, err := tx.allow(ctx, fmt.Sprintf("reset:%d", a.id), resetsPerHour, time.Hour)
			if err != nil {
				return err
			}
			if ok {
				if token, err = tx.createOneTimeToken(ctx, tokenPasswordReset, a.id, tillit.PasswordResetTTL); err != nil {
					return err
				}
			}
		}
		return tx.record(ctx, tx.actorEvent(ctx, t.log, "anonymous", "auth.password_reset_request", target))
	})
	if err != nil || token == "" {
		return err
	}
	to, err := s.openEmail(t.acc.id, t.acc.emailSealed)
	if err != nil {
		return err
	}
	expires := s.db.now().Add(tillit.PasswordResetTTL)
	s.sendLater("password_reset", notify.PasswordResetMail(t.tenant.locale(), to, s.link("reset", token), expires))
	return nil
}

// ResetPassword sets a new password with a reset token, ends the account's
// sessions and starts a pending sign-in: the person must still give a
// second factor (or enrol one). Errors: EUnauthenticated (bad, used or
// expired token, or a blocked account), EInvalid (field "password"),
// EUnavailable.
func (s *AuthService) ResetPassword(ctx context.Context, token, pw string) (*tillit.LoginResult, error) {
	return s.redeem(ctx, tokenPasswordReset, "auth.password_reset", token, pw)
}

// AcceptInvitation sets the first password of an invited account with its
// invitation token and starts a pending sign-in that must enrol a second
// factor. Errors: EUnauthenticated (bad, used or expired token, or a
// blocked account), EInvalid (field "password"), EUnavailable.
func (s *AuthService) AcceptInvitation(ctx context.Context, token, pw string) (*tillit.LoginResult, error) {
	return s.redeem(ctx, tokenInvitation, "auth.invitation_accept", token, pw)
}

// redeem uses a one-time token of the kind to set a password, and starts a
// pending sign-in.
func (s *AuthService) redeem(ctx context.Context, kind, action, token, pw string) (*tillit.LoginResult, error) {
	tillit.Describe(ctx, action, "", "password")
	id, err := s.db.peekOneTimeToken(ctx, kind, token)
	if err != nil {
		return nil, err
	}
	a, err := accountByID(ctx, s.db.read, id)
	if err != nil {
		return nil, translate(err)
	}
	t, err := s.tenantOf(ctx, s.db.read, a)
	if err != nil {
		return nil, translate(err)
	}
	hash, err := s.newPasswordHash(ctx, a, t, pw)
	if err != nil {
		return nil, err
	}
	var res *tillit.LoginResult
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if err := tx.useOneTimeToken(ctx, kind, hashSecret(token), a.id); err != nil {
			return err
		}
		if a, err = accountByID(ctx, tx, id); err != nil || a.blocked {
			return tillit.Errorf(tillit.EUnauthenticated, "the link is unknown, used or expired; ask for a new one")
		}
		if err := tx.setPassword(ctx, a.id, kind, hash); err != nil {
			return err
		}
		secret, err := tx.createPending(ctx, a.id, pendingState(a))
		if err != nil {
			return err
		}
		res = pendingResult(a, s.smsAllowed(a, t), secret)
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), action, a.name(), "password"))
	})
	return res, err
}

// setPassword stores a password set with a one-time token of the kind:
// the account's other tokens of that kind and all its sessions end.
func (tx *Tx) setPassword(ctx context.Context, accountID int64, kind, hash string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, accountID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE one_time_tokens SET used_at = $1 WHERE account_id = $2 AND kind = $3 AND used_at IS NULL`,
		micros(tx.now), accountID, kind); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID)
	return err
}
