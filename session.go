package tillit

import (
	"context"
	"time"
)

// Session is a signed-in account's session. Its secret is only in the
// cookie; the store keeps a hash.
type Session struct {
	ID          int64      `json:"id"`
	AccountID   int64      `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	IdleUntil   time.Time  `json:"idle_until"`    // signed out if no request before
	ExpiresAt   time.Time  `json:"expires_at"`    // absolute end, 12 h after sign-in
	SteppedUpAt *time.Time `json:"stepped_up_at"` // the last step-up, if any
	ClientAddr  string     `json:"client_addr"`
	Current     bool       `json:"current"` // the session of the request
}

// Sign-in limits.
const (
	SessionLifetime   = 12 * time.Hour   // absolute, from sign-in
	StepUpValidity    = 5 * time.Minute  // how long a step-up allows sensitive actions
	PendingLifetime   = 10 * time.Minute // between password and second factor
	InvitationTTL     = 72 * time.Hour
	PasswordResetTTL  = time.Hour
	SMSCodeTTL        = 10 * time.Minute
	LockoutThreshold  = 10 // failures before the account locks
	LockoutDuration   = 15 * time.Minute
	SlowdownThreshold = 5 // failures before growing delays
)

// LoginResult says what a sign-in needs next. Pending is the secret of the
// pending sign-in, carried in a short-lived cookie, never in the body.
type LoginResult struct {
	Next    string   `json:"next"`              // NextEnroll or NextMFA
	Methods []string `json:"methods,omitempty"` // the factors the account can use
	Pending string   `json:"-"`
}

// What a pending sign-in needs next.
const (
	NextEnroll = "mfa_enroll" // enrol a second factor first
	NextMFA    = "mfa"        // give a second factor
)

// SignIn is a completed sign-in or step-up: a new session, its secret for
// the cookie, and recovery codes when a first factor was just enrolled.
type SignIn struct {
	Session       *Session
	Secret        string
	RecoveryCodes []string
}

// AuthService signs people in and out. Failures never tell whether an
// account exists: the same error, after the same work.
type AuthService interface {
	// Login checks a password. tenant is the tenant's slug, "" for
	// operators. Errors: EUnauthenticated, ETooMany (locked or slowed,
	// with RetryAfter).
	Login(ctx context.Context, tenant, email, password string) (*LoginResult, error)

	// EnrollTOTP starts TOTP enrolment of a pending sign-in (or of the
	// signed-in principal when pending is "") and returns the secret and its
	// otpauth:// URL. Errors: EUnauthenticated.
	EnrollTOTP(ctx context.Context, pending string) (secret, otpauthURL string, err error)

	// ConfirmTOTP completes TOTP enrolment with a first code. For a pending
	// sign-in it signs in and returns 10 new recovery codes. Errors:
	// EUnauthenticated, EInvalid (wrong code).
	ConfirmTOTP(ctx context.Context, pending, code string) (*SignIn, error)

	// SendSMSCode sends a sign-in code by SMS to a pending sign-in whose
	// account may use SMS. Errors: EUnauthenticated, EForbidden, ETooMany.
	SendSMSCode(ctx context.Context, pending string) error

	// VerifySecondFactor completes a pending sign-in with a factor's code.
	// Errors: EUnauthenticated, ETooMany.
	VerifySecondFactor(ctx context.Context, pending, method, code string) (*SignIn, error)

	// AuthenticateSession returns the principal of a session secret and
	// extends its idle deadline. Errors: EUnauthenticated (unknown, idle,
	// expired, or the account blocked).
	AuthenticateSession(ctx context.Context, secret string) (*Principal, error)

	// StepUp proves the principal is present (password and a second
	// factor's code) and replaces its session with a new, stepped-up one.
	// Errors: EUnauthenticated, ETooMany.
	StepUp(ctx context.Context, password, method, code string) (*SignIn, error)

	// Logout ends the principal's session.
	Logout(ctx context.Context) error

	// FindSessions lists the principal's own live sessions.
	FindSessions(ctx context.Context) ([]*Session, error)

	// RevokeSession ends one of the principal's own sessions. Errors:
	// ENotFound.
	RevokeSession(ctx context.Context, id int64) error

	// RevokeOtherSessions ends every session of the principal but the
	// current one and returns how many.
	RevokeOtherSessions(ctx context.Context) (int, error)

	// ChangePassword changes the principal's password. Errors: EInvalid,
	// EUnauthenticated (wrong current password).
	ChangePassword(ctx context.Context, current, next string) error

	// RequestPasswordReset e-mails a reset link if the account exists; the
	// answer is the same either way.
	RequestPasswordReset(ctx context.Context, tenant, email string) error

	// ResetPassword sets a new password with a reset token; the person must
	// still give a second factor. Errors: EUnauthenticated (bad token),
	// EInvalid.
	ResetPassword(ctx context.Context, token, password string) (*LoginResult, error)

	// AcceptInvitation sets the first password of an invited account and
	// starts a pending sign-in that must enrol a second factor. Errors:
	// EUnauthenticated (bad or used token), EInvalid.
	AcceptInvitation(ctx context.Context, token, password string) (*LoginResult, error)
}

// RequireStepUp returns EForbidden with code step_up unless the principal
// of ctx stepped up within StepUpValidity of now, or is a token created
// with sensitive permission, or is the system.
func RequireStepUp(ctx context.Context, now time.Time) error {
	p := PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return Errorf(EUnauthenticated, "sign in first")
	case p.Kind == KindSystem:
		return nil
	case p.Kind == KindToken && p.Sensitive:
		return nil
	case p.Kind == KindToken:
		return Errorf(EForbidden, "this token was not created with permission for sensitive actions")
	case p.SteppedUpAt == nil || now.Sub(*p.SteppedUpAt) > StepUpValidity:
		return &Error{Code: EStepUp, Message: "confirm with your password and a second factor (step-up) to do this"}
	}
	return nil
}

// RetryAfter returns how long err asks the client to wait, for ETooMany.
func RetryAfter(err error) time.Duration {
	var e *Error
	if ok := asError(err, &e); ok {
		return e.RetryAfter
	}
	return 0
}
