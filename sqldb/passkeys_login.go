package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tillit"
)

// errSignCount is why a passkey whose signature counter did not move
// forward is refused: it may be a clone of the registered authenticator.
var errSignCount = errors.New("passkey signature counter did not increase")

// challenge starts an assertion with the account's passkeys (the options'
// allowCredentials), stores its challenge for the session and records
// action. uv says whether the passkey must verify the person.
func (s *PasskeyService) challenge(ctx context.Context, tx *Tx, sessionID int64, a *accountRow, kind, action string,
	uv protocol.UserVerificationRequirement) (json.RawMessage, error) {
	u, err := s.user(ctx, tx, a, false)
	if err != nil {
		return nil, err
	}
	if len(u.rows) == 0 {
		return nil, tillit.Errorf(tillit.EForbidden, "this account has no passkey; use another factor")
	}
	assertion, data, err := s.rp.BeginLogin(u, webauthn.WithUserVerification(uv))
	if err != nil {
		return nil, tillit.Internal(err)
	}
	if err := tx.saveChallenge(ctx, sessionID, kind, data); err != nil {
		return nil, err
	}
	opts, err := json.Marshal(assertion)
	if err != nil {
		return nil, tillit.Internal(err)
	}
	return opts, tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), action, a.name(), tillit.FactorPasskey))
}

// assert uses up the session's challenge of kind and checks the response
// against it and the account's passkeys; if it is accepted, it stores the
// passkey's new signature counter. It returns a refusal (wrongPasskey), or
// an error of the store.
func (s *PasskeyService) assert(ctx context.Context, tx *Tx, sessionID int64, kind string, a *accountRow, response []byte) (refusal, err error) {
	data, ok, err := tx.takeChallenge(ctx, sessionID, kind)
	if err != nil {
		return nil, err
	}
	if !ok {
		return wrongPasskey(challengeOver()), nil
	}
	u, err := s.user(ctx, tx, a, false)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return wrongPasskey(err), nil
	}
	cred, err := s.rp.ValidateLogin(u, *data, parsed)
	if err != nil {
		return wrongPasskey(err), nil
	}
	used, err := tx.usePasskey(ctx, u.rows, cred)
	if err != nil {
		return nil, err
	}
	if !used {
		return wrongPasskey(errSignCount), nil
	}
	return nil, nil
}

// refusePasskey records a refused passkey as action and counts it toward
// the account's delays and lockout. It returns the end of the lockout if
// this refusal locked the account.
func (tx *Tx) refusePasskey(ctx context.Context, t *loginTarget, action string, refusal error) (*time.Time, error) {
	fields := []string{tillit.FactorPasskey}
	if errors.Is(refusal, errSignCount) {
		fields = append(fields, "sign_count")
	}
	return tx.fail(ctx, t, action, refusal, true, fields...)
}

// BeginLogin starts the second factor of a pending sign-in with one of the
// account's passkeys. Errors: EUnauthenticated, EForbidden (the account
// has no passkey), ETooMany (with RetryAfter), EUnavailable.
func (s *PasskeyService) BeginLogin(ctx context.Context, pending string) (json.RawMessage, error) {
	tillit.Describe(ctx, "auth.passkey_login_begin", "", tillit.FactorPasskey)
	var opts json.RawMessage
	err := s.db.withTx(ctx, func(tx *Tx) error {
		sess, a, err := tx.pendingSession(ctx, pending, statePendingMFA)
		if err != nil {
			return err
		}
		if err := throttleError(tx.now, a.delayUntil, a.lockedUntil); err != nil {
			return err
		}
		opts, err = s.challenge(ctx, tx, sess.id, a, challengeLogin, "auth.passkey_login_begin", protocol.VerificationPreferred)
		return err
	})
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishLogin completes a pending sign-in with an assertion of one of the
// account's passkeys and signs in with a new session, as
// AuthService.VerifySecondFactor does. The challenge is used up either
// way; refusals count toward the account's delays and lockout. Errors:
// EUnauthenticated (field "credential" for a refused passkey, none when
// the pending sign-in is unknown or over), ETooMany, EUnavailable.
func (s *PasskeyService) FinishLogin(ctx context.Context, pending string, response []byte) (*tillit.SignIn, error) {
	tillit.Describe(ctx, "auth.mfa", "", tillit.FactorPasskey)
	var in *tillit.SignIn
	var failed *loginTarget
	var refused error
	var locked *time.Time
	err := s.db.withTx(ctx, func(tx *Tx) error {
		sess, a, err := tx.pendingSession(ctx, pending, statePendingMFA)
		if err != nil {
			return err
		}
		if err := throttleError(tx.now, a.delayUntil, a.lockedUntil); err != nil {
			return err
		}
		t, err := s.auth.tenantOf(ctx, tx, a)
		if err != nil {
			return err
		}
		if refused, err = s.assert(ctx, tx, sess.id, challengeLogin, a, response); err != nil || refused != nil {
			if err == nil {
				failed = &loginTarget{log: a.log(), tenant: t, acc: a}
				locked, err = tx.refusePasskey(ctx, failed, "auth.mfa_failed", refused)
			}
			return err
		}
		if in, err = tx.signIn(ctx, sess.id, a, t); err != nil {
			return err
		}
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.mfa", a.name(), tillit.FactorPasskey))
	})
	if err != nil {
		return nil, err
	}
	if failed != nil {
		s.auth.mailLockout(failed, locked)
		return nil, refused
	}
	return in, nil
}

// BeginStepUp starts a step-up of the signed-in principal with one of its
// passkeys. The passkey must verify the person (PIN or biometrics), since
// it stands in for both the password and the second factor. Errors:
// EUnauthenticated, EForbidden (not a session, or no passkey), ETooMany,
// EUnavailable.
func (s *PasskeyService) BeginStepUp(ctx context.Context) (json.RawMessage, error) {
	tillit.Describe(ctx, "auth.passkey_step_up_begin", "", tillit.FactorPasskey)
	p, t, err := s.auth.principalAccount(ctx)
	if err != nil {
		return nil, err
	}
	var opts json.RawMessage
	err = s.db.withTx(ctx, func(tx *Tx) error {
		opts, err = s.challenge(ctx, tx, p.SessionID, t.acc, challengeStepUp, "auth.passkey_step_up_begin", protocol.VerificationRequired)
		return err
	})
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishStepUp checks an assertion of the principal's passkey that
// verified the person, and replaces its session with a new one (new
// secret) stepped up now, as AuthService.StepUp does. Refusals count
// toward the account's delays and lockout. Errors: EUnauthenticated,
// EForbidden (not a session), ETooMany, EUnavailable.
func (s *PasskeyService) FinishStepUp(ctx context.Context, response []byte) (*tillit.SignIn, error) {
	tillit.Describe(ctx, "auth.step_up", "", tillit.FactorPasskey)
	p, t, err := s.auth.principalAccount(ctx)
	if err != nil {
		return nil, err
	}
	var in *tillit.SignIn
	var refused error
	var locked *time.Time
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if refused, err = s.assert(ctx, tx, p.SessionID, challengeStepUp, t.acc, response); err != nil || refused != nil {
			if err == nil {
				locked, err = tx.refusePasskey(ctx, t, "auth.step_up_failed", refused)
			}
			return err
		}
		if in, err = tx.replaceSession(ctx, p, t); err != nil {
			return err
		}
		return tx.record(ctx, tx.actorEvent(ctx, t.log, t.acc.name(), "auth.step_up", t.acc.name(), tillit.FactorPasskey))
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		s.auth.mailLockout(t, locked)
		return nil, refused
	}
	return in, nil
}
