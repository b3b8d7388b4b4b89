package tillit

import (
	"context"
	"fmt"
	"time"
)

// PrincipalKind says what kind of party acts.
type PrincipalKind string

// The kinds of principal.
const (
	KindToken    PrincipalKind = "token"    // an integration, by API token
	KindUser     PrincipalKind = "user"     // a tenant's staff member, by session
	KindOperator PrincipalKind = "operator" // the vendor's staff, outside every tenant
	KindSystem   PrincipalKind = "system"   // tillit itself, or the operator CLI on the server
)

// Principal is who acts in a request: authenticated once, carried in the
// context, and checked again by every service method.
type Principal struct {
	Kind     PrincipalKind
	ID       int64  // the token's, user's or operator's id; 0 for system
	TenantID int64  // 0 for operators and system
	Role     Role   // the role within the tenant; "" outside a tenant
	Name     string // a label for logs and the console, never a secret

	SessionID   int64      // users and operators: the session of the request
	SteppedUpAt *time.Time // users and operators: the session's last step-up
	IdleUntil   *time.Time // users and operators: when the session idles out
	Sensitive   bool       // tokens: created with permission for sensitive actions
}

// Actor is how the principal is named in audit events: "token:12",
// "user:3", "operator:1" or "system:cli".
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	if p.Kind == KindSystem {
		return "system:" + p.Name
	}
	return fmt.Sprintf("%s:%d", p.Kind, p.ID)
}

// Can reports whether the principal holds the permission. Operators and the
// system hold no tenant permission.
func (p *Principal) Can(perm Permission) bool {
	return p != nil && p.TenantID != 0 && p.Role.Can(perm)
}

type principalKey struct{}

// NewContextWithPrincipal returns a context that carries p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal of ctx, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Authorize returns the principal of ctx if it holds perm within a tenant:
// EUnauthenticated when there is none, EForbidden when it lacks perm.
func Authorize(ctx context.Context, perm Permission) (*Principal, error) {
	p := PrincipalFromContext(ctx)
	if p == nil {
		return nil, Errorf(EUnauthenticated, "sign in or send a valid API token")
	}
	if !p.Can(perm) {
		return nil, Errorf(EForbidden, "your role does not have the permission %s", perm)
	}
	return p, nil
}

// AuthorizeOperator returns the principal of ctx if it is an operator or the
// system; EForbidden otherwise.
func AuthorizeOperator(ctx context.Context) (*Principal, error) {
	p := PrincipalFromContext(ctx)
	if p == nil {
		return nil, Errorf(EUnauthenticated, "sign in as an operator")
	}
	if p.Kind != KindOperator && p.Kind != KindSystem {
		return nil, Errorf(EForbidden, "only the vendor's operators may do this")
	}
	return p, nil
}
