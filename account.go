package tillit

import (
	"context"
	"time"
)

// Account is a person who signs in: an operator of the vendor (outside every
// tenant) or a user of a tenant. Every account needs two factors.
type Account struct {
	ID           int64         `json:"id"`
	Kind         PrincipalKind `json:"kind"` // KindUser or KindOperator
	TenantID     int64         `json:"-"`
	Email        string        `json:"email"`
	Role         Role          `json:"role,omitempty"` // users only
	Blocked      bool          `json:"blocked"`
	Active       bool          `json:"active"`  // a password is set and a second factor enrolled
	Factors      []string      `json:"factors"` // enrolled factors: FactorTOTP, FactorPasskey, FactorSMS
	LockedUntil  *time.Time    `json:"locked_until"`
	CreatedAt    time.Time     `json:"created_at"`
	LastSignInAt *time.Time    `json:"last_sign_in_at"`
}

// The second factors.
const (
	FactorTOTP     = "totp"     // RFC 6238 codes from an authenticator app
	FactorRecovery = "recovery" // single-use recovery codes
	FactorPasskey  = "passkey"  // WebAuthn passkeys and security keys
	FactorSMS      = "sms"      // codes by SMS, where the tenant allows it; never owners and admins
)

// AccountCreate asks for a new account. Without a password the account is
// invited: the answer carries a one-time invitation, valid 72 hours.
type AccountCreate struct {
	Kind     PrincipalKind // KindUser or KindOperator
	TenantID int64         // users: the tenant; set from the principal for tenant admins
	Email    string
	Role     Role   // users only
	Password string // "" to invite
}

// Invitation is the one-time secret with which an invited person sets a
// password and enrols a second factor. Token is shown once.
type Invitation struct {
	Token     string    `json:"-"`
	URL       string    `json:"url"` // where the person accepts it
	ExpiresAt time.Time `json:"expires_at"`
}

// AccountUpdate changes a user; nil fields stay.
type AccountUpdate struct {
	Role    *Role
	Blocked *bool
	Unlock  bool // clear a lockout
}

// AccountService manages accounts. Operators and the system create
// operators and any tenant's users (the vendor creates each customer's
// first owner); a tenant's admins invite and manage their own users.
type AccountService interface {
	// CreateAccount creates an account with a password or an invitation,
	// and e-mails the invitation. Errors: EInvalid, EConflict (e-mail
	// taken), EForbidden, ENotFound (tenant).
	CreateAccount(ctx context.Context, c AccountCreate) (*Account, *Invitation, error)

	// FindUsers lists the users of the principal's tenant. Errors:
	// EForbidden.
	FindUsers(ctx context.Context) ([]*Account, error)

	// CurrentAccount returns the signed-in person's own account, e-mail
	// included. Errors: EUnauthenticated, EForbidden (not a person).
	CurrentAccount(ctx context.Context) (*Account, error)

	// SetPhone sets (or with "" removes) the E.164 number SMS sign-in codes
	// go to: the account itself after a step-up, or the system. Errors:
	// EInvalid, ENotFound, EUnauthenticated, EForbidden, EStepUp.
	SetPhone(ctx context.Context, accountID int64, phone string) error

	// UpdateUser changes a user of the principal's tenant; role changes and
	// blocking need a step-up; blocking ends the user's sessions.
	// Errors: EInvalid, ENotFound, EForbidden.
	UpdateUser(ctx context.Context, id int64, u AccountUpdate) (*Account, error)
}
