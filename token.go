package tillit

import (
	"context"
	"time"
)

// Token is an API credential of a tenant, for integrations. Only a SHA-256
// hash of its secret is stored; the secret is shown once, at creation.
type Token struct {
	ID         int64      `json:"id"`
	TenantID   int64      `json:"-"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	CreatedBy  string     `json:"created_by"` // the actor that created it
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Sensitive  bool       `json:"sensitive"` // may do sensitive actions without a step-up
}

// TokenPrefix starts every token secret, so that secret scanners find them.
const TokenPrefix = "tillit_"

// MaxTokenDays is the longest lifetime of a token.
const MaxTokenDays = 3650

// TokenCreate asks for a new token.
type TokenCreate struct {
	TenantID      int64 // used only when an operator creates the token
	Name          string
	Role          Role
	ExpiresInDays int  // 0: never expires
	Sensitive     bool // may do sensitive actions; creating one needs a step-up
}

// TokenService manages API tokens and authenticates them.
type TokenService interface {
	// CreateToken creates a token and returns it with its secret, the only
	// time the secret is seen. A tenant principal creates tokens in its own
	// tenant, with a role its own covers; an operator in any tenant.
	// Errors: EInvalid, EForbidden, ENotFound (tenant).
	CreateToken(ctx context.Context, c TokenCreate) (*Token, string, error)

	// FindTokens lists the tokens of the principal's tenant, or of tenantID
	// for an operator. Errors: EForbidden.
	FindTokens(ctx context.Context, tenantID int64) ([]*Token, error)

	// RevokeToken revokes a token of the principal's tenant, or of tenantID
	// for an operator (a tenant principal passes 0). Revoking twice is not
	// an error. Errors: ENotFound, EForbidden.
	RevokeToken(ctx context.Context, tenantID, id int64) error

	// AuthenticateToken returns the principal of a token secret.
	// Errors: EUnauthenticated (unknown, expired or revoked).
	AuthenticateToken(ctx context.Context, secret string) (*Principal, error)
}
