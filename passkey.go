package tillit

import (
	"context"
	"encoding/json"
	"time"
)

// PasskeyChallengeTTL is how long a passkey ceremony's challenge may be
// answered. Each challenge is answered once.
const PasskeyChallengeTTL = 5 * time.Minute

// PasskeyService signs people in with passkeys and security keys
// (WebAuthn): a second factor at sign-in, and a step-up on its own. Options
// are the JSON the browser's navigator.credentials.create() and get() take
// ({"publicKey": …}); responses are the JSON of the PublicKeyCredential it
// returns, with base64url fields. Failures never tell why a passkey was
// refused.
type PasskeyService interface {
	// BeginRegistration starts registering a passkey: for a pending
	// sign-in that must enrol a factor (pending set), or for the signed-in
	// principal (pending ""), who must have stepped up. Errors:
	// EUnauthenticated, EForbidden, EStepUp.
	BeginRegistration(ctx context.Context, pending string) (options json.RawMessage, err error)

	// FinishRegistration stores the passkey of a registration's response
	// under the name the person gave it. For a pending sign-in it signs in
	// and returns 10 new recovery codes; for the signed-in principal it
	// returns a SignIn with neither. Errors: EUnauthenticated, EInvalid
	// (name, or a response that does not verify: field "credential"),
	// EConflict (the passkey is registered already), EForbidden, EStepUp.
	FinishRegistration(ctx context.Context, pending string, response []byte, name string) (*SignIn, error)

	// BeginLogin starts the second factor of a pending sign-in with one of
	// the account's passkeys. Errors: EUnauthenticated, EForbidden (the
	// account has no passkey), ETooMany.
	BeginLogin(ctx context.Context, pending string) (options json.RawMessage, err error)

	// FinishLogin completes a pending sign-in with a passkey's assertion.
	// Failures count toward the account's delays and lockout. Errors:
	// EUnauthenticated, ETooMany.
	FinishLogin(ctx context.Context, pending string, response []byte) (*SignIn, error)

	// BeginStepUp starts a step-up of the signed-in principal with one of
	// its passkeys, which must verify the person (PIN or biometrics).
	// Errors: EUnauthenticated, EForbidden (no passkey, or not a session),
	// ETooMany.
	BeginStepUp(ctx context.Context) (options json.RawMessage, err error)

	// FinishStepUp checks a step-up's assertion and replaces the
	// principal's session with a new, stepped-up one, as AuthService.StepUp
	// does. Failures count toward the account's delays and lockout.
	// Errors: EUnauthenticated, EForbidden, ETooMany.
	FinishStepUp(ctx context.Context, response []byte) (*SignIn, error)
}
