package sqldb

import (
	"context"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tillit"
)

// maxPasskeys is how many passkeys an account may have.
const maxPasskeys = 20

// registrant returns who registers a passkey and the session its
// challenge belongs to: a pending sign-in that must enrol a factor
// (pending set; sess is returned), or the signed-in principal's session,
// which must have stepped up.
func (s *PasskeyService) registrant(ctx context.Context, tx *Tx, pending string) (sessionID int64, sess *sessionRow, a *accountRow, err error) {
	sess, a, err = s.auth.enrollee(ctx, tx, pending)
	if err != nil {
		return 0, nil, nil, err
	}
	if sess != nil {
		return sess.id, sess, a, nil
	}
	return tillit.PrincipalFromContext(ctx).SessionID, nil, a, nil
}

// user returns the account as WebAuthn sees it. named adds the name the
// authenticator shows: the e-mail address (and tenant), which is sent to
// the browser and never stored with the passkey.
func (s *PasskeyService) user(ctx context.Context, tx *Tx, a *accountRow, named bool) (*passkeyUser, error) {
	rows, err := tx.passkeysOf(ctx, a.id)
	if err != nil {
		return nil, err
	}
	u := &passkeyUser{rows: rows}
	if u.handle, err = tx.userHandle(ctx, a.id); err != nil {
		return nil, err
	}
	if named {
		u.name, err = s.auth.totpLabel(ctx, tx, a)
	}
	return u, err
}

// BeginRegistration starts registering a passkey for a pending sign-in
// that must enrol a factor (pending set), or for the signed-in principal,
// who must have stepped up. Its options exclude the account's passkeys,
// so that one authenticator is not registered twice. Errors:
// EUnauthenticated, EForbidden, EStepUp, EConflict (maxPasskeys reached),
// EUnavailable.
func (s *PasskeyService) BeginRegistration(ctx context.Context, pending string) (json.RawMessage, error) {
	tillit.Describe(ctx, "auth.passkey_enroll", "", tillit.FactorPasskey)
	var opts json.RawMessage
	err := s.db.withTx(ctx, func(tx *Tx) error {
		sessionID, _, a, err := s.registrant(ctx, tx, pending)
		if err != nil {
			return err
		}
		u, err := s.user(ctx, tx, a, true)
		if err != nil {
			return err
		}
		if len(u.rows) >= maxPasskeys {
			return tillit.Errorf(tillit.EConflict, "an account may have at most %d passkeys", maxPasskeys)
		}
		creation, data, err := s.rp.BeginRegistration(u, webauthn.WithExclusions(u.exclusions()))
		if err != nil {
			return tillit.Internal(err)
		}
		if err := tx.saveChallenge(ctx, sessionID, challengeRegister, data); err != nil {
			return err
		}
		if opts, err = json.Marshal(creation); err != nil {
			return tillit.Internal(err)
		}
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.passkey_enroll", a.name(), tillit.FactorPasskey))
	})
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishRegistration checks the response to the registration's challenge
// and stores the passkey under name (trimmed, at most 64 characters, may
// be empty). For a pending sign-in it also creates 10 new recovery codes
// and signs in with a new session; for the signed-in principal it returns
// a SignIn with neither. The challenge is used up either way; a refusal is
// recorded but not counted toward lockout, as a wrong first TOTP code is
// not. Errors: EUnauthenticated, EInvalid (field "name", or "credential"
// for a response that does not verify), EConflict (registered already),
// EForbidden, EStepUp, EUnavailable.
func (s *PasskeyService) FinishRegistration(ctx context.Context, pending string, response []byte, name string) (*tillit.SignIn, error) {
	tillit.Describe(ctx, "auth.passkey_enrolled", "", tillit.FactorPasskey)
	name, err := passkeyName(name)
	if err != nil {
		return nil, err
	}
	in := &tillit.SignIn{}
	var refused error
	err = s.db.withTx(ctx, func(tx *Tx) error {
		sessionID, sess, a, err := s.registrant(ctx, tx, pending)
		if err != nil {
			return err
		}
		cred, refusal, err := s.verifyRegistration(ctx, tx, sessionID, a, response)
		if err != nil || refusal != nil {
			if refused = refusal; err == nil {
				_, err = tx.fail(ctx, &loginTarget{log: a.log(), acc: a}, "auth.passkey_enroll_failed", refused, false, tillit.FactorPasskey)
			}
			return err
		}
		if err := tx.insertPasskey(ctx, a.id, cred, name); err != nil {
			return err
		}
		fields := []string{tillit.FactorPasskey, "name"}
		if sess != nil {
			if in, err = s.auth.completeEnrolment(ctx, tx, sess, a); err != nil {
				return err
			}
			fields = append(fields, tillit.FactorRecovery, "session")
		}
		return tx.record(ctx, tx.actorEvent(ctx, a.log(), a.name(), "auth.passkey_enrolled", a.name(), fields...))
	})
	switch {
	case err != nil:
		return nil, err
	case refused != nil:
		return nil, refused
	}
	return in, nil
}

// verifyRegistration uses up the session's registration challenge and
// checks the response against it. It returns the new credential, or a
// refusal (EInvalid, EConflict), or an error of the store.
func (s *PasskeyService) verifyRegistration(ctx context.Context, tx *Tx, sessionID int64, a *accountRow, response []byte) (cred *webauthn.Credential, refusal, err error) {
	data, ok, err := tx.takeChallenge(ctx, sessionID, challengeRegister)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, badRegistration(challengeOver()), nil
	}
	u, err := s.user(ctx, tx, a, false)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, badRegistration(err), nil
	}
	if cred, err = s.rp.CreateCredential(u, *data, parsed); err != nil {
		return nil, badRegistration(err), nil
	}
	taken, err := tx.passkeyTaken(ctx, cred.ID)
	if err != nil {
		return nil, nil, err
	}
	if taken {
		return nil, &tillit.Error{Code: tillit.EConflict, Field: "credential", Message: "this passkey is registered already"}, nil
	}
	return cred, nil, nil
}
