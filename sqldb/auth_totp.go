package sqldb

import (
	"context"
	"crypto/rand"
	"strings"

	"tillit"
	"tillit/totp"
)

// totpIssuer names tillit in authenticator apps.
const totpIssuer = "tillit"

// enrollee returns the account that enrols a factor: the account of a
// pending sign-in that must enrol (pending set), or the signed-in
// principal's, who must have stepped up to change a factor.
func (s *AuthService) enrollee(ctx context.Context, tx *Tx, pending string) (*sessionRow, *accountRow, error) {
	if pending != "" {
		sess, a, err := tx.pendingSession(ctx, pending, statePendingEnroll)
		if err == nil && a.hasSecondFactor() {
			// A sign-in started before another one enrolled a factor must
			// not replace it: that one is over.
			return nil, nil, tillit.Errorf(tillit.EUnauthenticated, "this sign-in has ended; sign in again")
		}
		return sess, a, err
	}
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := tillit.RequireStepUp(ctx, tx.now); err != nil {
		return nil, nil, err
	}
	a, err := accountByID(ctx, tx, p.ID)
	return nil, a, err
}

// EnrollTOTP starts TOTP enrolment: a new secret, sealed, waiting for its
// first code. A pending sign-in may enrol only if it has no factor yet; a
// signed-in person replacing the factor must have stepped up. Errors:
// EUnauthenticated, EForbidden, EStepUp.
func (s *AuthService) EnrollTOTP(ctx context.Context, pending string) (secret, otpauthURL string, err error) {
	tillit.Describe(ctx, "auth.totp_enroll", "", tillit.FactorTOTP)
	err = s.db.withTx(ctx, func(tx *Tx) error {
		_, a, err := s.enrollee(ctx, tx, pending)
		if err != nil {
			return err
		}
		if secret, err = totp.NewSecret(); err != nil {
			return tillit.Internal(err)
		}
		sealed, err := s.sealTOTP(a.id, secret)
		if err != nil {
			return tillit.Internal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET totp_pending = $1 WHERE id = $2`, sealed, a.id); err != nil {
			return err
		}
		label, err := s.totpLabel(ctx, tx, a)
		if err != nil {
			return err
		}
		otpauthURL = totp.URL(totpIssuer, label, secret)
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.totp_enroll", a.name(), tillit.FactorTOTP))
	})
	if err != nil {
		return "", "", err
	}
	return secret, otpauthURL, nil
}

// totpLabel names the account in authenticator apps: its e-mail address,
// and for users the tenant's slug.
func (s *AuthService) totpLabel(ctx context.Context, tx *Tx, a *accountRow) (string, error) {
	email, err := s.openEmail(a.id, a.emailSealed)
	if err != nil || a.kind == tillit.KindOperator {
		return email, err
	}
	t, err := tenantByID(ctx, tx, a.tenantID)
	if err != nil {
		return "", err
	}
	return email + " (" + t.slug + ")", nil
}

// ConfirmTOTP completes TOTP enrolment with the first code, whose step is
// then the last one used. For a pending sign-in it also creates 10 new
// recovery codes and signs in with a new session; for a signed-in person
// (pending "") it returns a SignIn with neither. Errors: EUnauthenticated,
// EInvalid (wrong code, field "code"), EForbidden, EStepUp.
func (s *AuthService) ConfirmTOTP(ctx context.Context, pending, code string) (*tillit.SignIn, error) {
	tillit.Describe(ctx, "auth.totp_enrolled", "", tillit.FactorTOTP)
	in := &tillit.SignIn{}
	err := s.db.withTx(ctx, func(tx *Tx) error {
		sess, a, err := s.enrollee(ctx, tx, pending)
		if err != nil {
			return err
		}
		if err := s.confirmTOTP(ctx, tx, a, code); err != nil {
			return err
		}
		fields := []string{tillit.FactorTOTP}
		if sess != nil {
			if in, err = s.completeEnrolment(ctx, tx, sess, a); err != nil {
				return err
			}
			fields = append(fields, tillit.FactorRecovery, "session")
		}
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.totp_enrolled", a.name(), fields...))
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// confirmTOTP checks the first code of the pending secret and makes it the
// account's TOTP secret.
func (s *AuthService) confirmTOTP(ctx context.Context, tx *Tx, a *accountRow, code string) error {
	if a.totpPending == nil {
		return tillit.FieldErrorf("code", "start the TOTP enrolment first")
	}
	secret, err := s.openTOTP(a.id, a.totpPending)
	if err != nil {
		return err
	}
	step, ok := totp.Validate(secret, strings.TrimSpace(code), tx.now, 0)
	if !ok {
		return tillit.FieldErrorf("code", "the code is wrong; check that your device's clock is right and give the current code")
	}
	a.totpSecret, a.totpPending, a.totpLastStep = a.totpPending, nil, step
	_, err = tx.ExecContext(ctx, `UPDATE accounts SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1
		WHERE id = $2`, step, a.id)
	return err
}

// completeEnrolment turns a pending sign-in that enrolled its first factor
// into a session, with new recovery codes.
func (s *AuthService) completeEnrolment(ctx context.Context, tx *Tx, sess *sessionRow, a *accountRow) (*tillit.SignIn, error) {
	// Other sign-ins waiting to enrol end here: the account has a factor.
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND state = $2 AND id <> $3`,
		a.id, statePendingEnroll, sess.id); err != nil {
		return nil, err
	}
	codes, err := tx.newRecoveryCodes(ctx, a.id)
	if err != nil {
		return nil, err
	}
	t, err := s.tenantOf(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	in, err := tx.signIn(ctx, sess.id, a, t)
	if err != nil {
		return nil, err
	}
	in.RecoveryCodes = codes
	return in, nil
}

// tenantOf returns the tenant of a user's account, nil for operators.
func (s *AuthService) tenantOf(ctx context.Context, q querier, a *accountRow) (*authTenant, error) {
	if a.kind != tillit.KindUser {
		return nil, nil
	}
	return tenantByID(ctx, q, a.tenantID)
}

// recoveryCodeCount is how many recovery codes an enrolment creates.
const recoveryCodeCount = 10

// recoveryAlphabet has 32 letters and digits, without l, o, 0 and 1.
const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// newRecoveryCodes replaces the account's recovery codes with new ones
// (60 random bits each, as xxxx-xxxx-xxxx) and returns them; only their
// SHA-256 hashes are stored.
func (tx *Tx) newRecoveryCodes(ctx context.Context, accountID int64) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
		return nil, err
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, tillit.Internal(err)
		}
		for j := range b {
			b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)]
		}
		codes[i] = string(b[0:4]) + "-" + string(b[4:8]) + "-" + string(b[8:12])
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)`,
			accountID, hashSecret(normalizeRecoveryCode(codes[i]))); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// normalizeRecoveryCode drops dashes and spaces and lowercases, so that a
// code is accepted however it is typed.
func normalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(code))
}
