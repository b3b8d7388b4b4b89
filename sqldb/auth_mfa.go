package sqldb

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"time"

	"tillit"
	"tillit/notify"
	"tillit/totp"
)

// wrongCode is the one answer to a second factor's code that is wrong,
// used or expired. It names the field "code", which tells it from a
// pending sign-in that is over (no field).
func wrongCode() error {
	return &tillit.Error{Code: tillit.EUnauthenticated, Field: "code", Message: "the code is wrong, used or expired"}
}

// factorField returns method as an audit field name, or "factor" for a
// method that is not one.
func factorField(method string) string {
	switch method {
	case tillit.FactorTOTP, tillit.FactorRecovery, tillit.FactorSMS:
		return method
	}
	return "factor"
}

// VerifySecondFactor completes a pending sign-in with a code of one of the
// account's factors ("totp", "recovery", "sms") and signs in with a new
// session. Wrong codes count toward the account's delays and lockout.
// Errors: EUnauthenticated (field "code" for a wrong code, none when the
// pending sign-in is unknown or over), ETooMany (with RetryAfter),
// EUnavailable.
func (s *AuthService) VerifySecondFactor(ctx context.Context, pending, method, code string) (*tillit.SignIn, error) {
	field := factorField(method)
	tillit.Describe(ctx, "auth.mfa", "", field)
	var in *tillit.SignIn
	var failed *loginTarget
	var locked *time.Time
	err := s.db.withTx(ctx, func(tx *Tx) error {
		sess, a, err := tx.pendingSession(ctx, pending, statePendingMFA)
		if err != nil {
			return err
		}
		if err := throttleError(tx.now, a.delayUntil, a.lockedUntil); err != nil {
			return err
		}
		t, err := s.tenantOf(ctx, tx, a)
		if err != nil {
			return err
		}
		ok, err := s.checkFactor(ctx, tx, a, t, method, code)
		if err != nil {
			return err
		}
		if !ok {
			failed = &loginTarget{log: a.log(), tenant: t, acc: a}
			locked, err = tx.fail(ctx, failed, "auth.mfa_failed", wrongCode(), true, field)
			return err
		}
		if in, err = tx.signIn(ctx, sess.id, a, t); err != nil {
			return err
		}
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.mfa", a.name(), field))
	})
	if err != nil {
		return nil, err
	}
	if failed != nil {
		s.mailLockout(failed, locked)
		return nil, wrongCode()
	}
	return in, nil
}

// checkFactor reports whether code is a valid, unused code of the
// account's factor method, and uses it: a TOTP step is burnt, a recovery
// or SMS code spent.
func (s *AuthService) checkFactor(ctx context.Context, tx *Tx, a *accountRow, t *authTenant, method, code string) (bool, error) {
	switch method {
	case tillit.FactorTOTP:
		return s.checkTOTP(ctx, tx, a, code)
	case tillit.FactorRecovery:
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL`,
			micros(tx.now), a.id, hashSecret(normalizeRecoveryCode(code)))
		return oneRow(res, err)
	case tillit.FactorSMS:
		if !s.smsAllowed(a, t) {
			return false, nil
		}
		err := tx.useOneTimeToken(ctx, tokenSMSCode, s.smsCodeHash(a.id, strings.TrimSpace(code)), a.id)
		if tillit.ErrorCode(err) == tillit.EUnauthenticated {
			return false, nil
		}
		return err == nil, err
	}
	return false, nil
}

// checkTOTP validates a TOTP code against the account's secret and burns
// its step, so that the code (and any before it) is never accepted again.
func (s *AuthService) checkTOTP(ctx context.Context, tx *Tx, a *accountRow, code string) (bool, error) {
	if a.totpSecret == nil {
		return false, nil
	}
	secret, err := s.openTOTP(a.id, a.totpSecret)
	if err != nil {
		return false, err
	}
	step, ok := totp.Validate(secret, code, tx.now, a.totpLastStep)
	if !ok {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, a.id)
	return oneRow(res, err)
}

// oneRow reports whether a statement changed exactly one row.
func oneRow(res interface{ RowsAffected() (int64, error) }, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// smsAllowed reports whether the account may sign in with SMS codes: a
// user (never an owner or admin) of a tenant that allows SMS, with a phone
// number, when an SMS sender is configured.
func (s *AuthService) smsAllowed(a *accountRow, t *authTenant) bool {
	return s.cfg.SMS != nil && a.kind == tillit.KindUser && t != nil && t.settings.SMSAllowed &&
		a.role != tillit.RoleOwner && a.role != tillit.RoleAdmin && a.phoneSealed != nil
}

// smsCodeHash is the stored hash of an SMS code, bound to its account: an
// HMAC under a key derived from the root key, since a plain hash of six
// digits is undone by trying a million.
func (c *authCore) smsCodeHash(accountID int64, code string) []byte {
	m := hmac.New(sha256.New, c.smsKey[:])
	fmt.Fprintf(m, "sms:%d:%s", accountID, code)
	return m.Sum(nil)
}

// SMS codes: at most smsPerWindow sent per account per SMSCodeTTL.
const smsPerWindow = 3

// SendSMSCode sends a 6-digit sign-in code, valid SMSCodeTTL and once, to
// the phone of a pending sign-in's account. A new code replaces the
// previous one. Errors: EUnauthenticated, EForbidden (SMS not allowed for
// the account), ETooMany, EUnavailable.
func (s *AuthService) SendSMSCode(ctx context.Context, pending string) error {
	tillit.Describe(ctx, "auth.sms_send", "", tillit.FactorSMS)
	var msg tillit.SMS
	err := s.db.withTx(ctx, func(tx *Tx) error {
		_, a, err := tx.pendingSession(ctx, pending, statePendingMFA)
		if err != nil {
			return err
		}
		t, err := s.tenantOf(ctx, tx, a)
		if err != nil {
			return err
		}
		if !s.smsAllowed(a, t) {
			return tillit.Errorf(tillit.EForbidden, "sign-in codes by SMS are not available for this account; use another factor")
		}
		if ok, retry, err := tx.allow(ctx, fmt.Sprintf("sms:%d", a.id), smsPerWindow, tillit.SMSCodeTTL); err != nil || !ok {
			return tooMany(err, retry)
		}
		code, err := smsCode()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE account_id = $1 AND kind = $2`, a.id, tokenSMSCode); err != nil {
			return err
		}
		if err := tx.storeOneTimeToken(ctx, tokenSMSCode, a.id, s.smsCodeHash(a.id, code), tillit.SMSCodeTTL); err != nil {
			return err
		}
		if msg.To, err = s.openPhone(a.id, a.phoneSealed); err != nil {
			return err
		}
		msg.Body = notify.SMSCodeText(t.locale(), code)
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.sms_send", a.name(), tillit.FactorSMS))
	})
	if err != nil {
		return err
	}
	if err := s.cfg.SMS.SendSMS(ctx, msg); err != nil {
		switch tillit.ErrorCode(err) {
		case tillit.EInvalid, tillit.ETooMany: // the number cannot take SMS; the operator's limit
			return err
		}
		return &tillit.Error{Code: tillit.EUnavailable, Message: "the code could not be sent by SMS; try again or use another factor", Err: err}
	}
	return nil
}

// smsCode returns 6 random digits.
func smsCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", tillit.Internal(err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// tooMany returns err, or ETooMany with retry when err is nil.
func tooMany(err error, retry time.Duration) error {
	if err != nil {
		return err
	}
	return &tillit.Error{Code: tillit.ETooMany, RetryAfter: retry,
		Message: fmt.Sprintf("too many requests; try again in %d seconds", int((retry+time.Second-1)/time.Second))}
}
