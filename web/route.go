package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// handlerFunc is a handler that returns its error instead of writing it; the
// route stack writes it, once, as a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Access says who may call a route. Its zero value is no declaration at all,
// and a route with it cannot be registered: access is denied by default.
type Access struct {
	perm     tillit.Permission
	public   bool
	signedIn bool
}

// Public is the access of a route anyone may call, without a credential.
var Public = Access{public: true}

// SignedIn is the access of a route any authenticated principal may call
// (a user, an operator or a token): its service decides the rest, such as
// "your own sessions only".
var SignedIn = Access{signedIn: true}

// Requires returns the access of a route open to principals that hold perm.
func Requires(perm tillit.Permission) Access {
	if perm == "" {
		panic("web: Requires with an empty permission")
	}
	return Access{perm: perm}
}

// IsPublic reports whether the route needs no credential.
func (a Access) IsPublic() bool { return a.public }

// Permission returns the permission the route needs; "" for a public route.
func (a Access) Permission() tillit.Permission { return a.perm }

// String returns "public", the permission, or "undeclared".
func (a Access) String() string {
	switch {
	case a.public:
		return "public"
	case a.signedIn:
		return "signed-in"
	case a.perm != "":
		return string(a.perm)
	default:
		return "undeclared"
	}
}

// Route is one endpoint of the server: what it answers, what its requests
// are called in the audit log, and who may call it.
type Route struct {
	Method     string // "GET", "POST", "PUT", "PATCH" or "DELETE"
	Pattern    string // a ServeMux path pattern, "/api/v1/tokens/{id}"
	Action     string // the audit event's action, "token.create"; "" only for public probes, which are not audited
	Access     Access // Public, or Requires(permission)
	TargetKind string // the kind of object {id} names: "token" makes the event's target "token:12"
	RateLimit  bool   // sign-in endpoints: limited per client address
	LongBody   bool   // streams a body that may take longer than the server's read timeout (an import)
	handle     handlerFunc
}

// Audited reports whether the route's requests are recorded in the audit log.
func (rt Route) Audited() bool { return rt.Action != "" }

// String returns the method and pattern, as the mux knows the route.
func (rt Route) String() string { return rt.Method + " " + rt.Pattern }

// actionUnmatched is the action of a request no route matched. The path is
// never recorded: it may hold anything.
const actionUnmatched = "unmatched"

// routeTable lists every route of the server.
func (s *Server) routeTable() []Route {
	const (
		tenantRead = tillit.PermTenantRead
		tokenRead  = tillit.PermTokenRead
		tokenWrite = tillit.PermTokenWrite
		auditRead  = tillit.PermAuditRead
	)
	return []Route{
		{Method: "GET", Pattern: "/healthz", Access: Public, handle: s.healthz},
		{Method: "GET", Pattern: "/readyz", Access: Public, handle: s.readyz},

		{Method: "GET", Pattern: "/api/v1/me", Action: "me.read", Access: SignedIn, handle: s.me},

		{Method: "POST", Pattern: "/api/v1/tokens", Action: "token.create", Access: Requires(tokenWrite), handle: s.createToken},
		{Method: "GET", Pattern: "/api/v1/tokens", Action: "token.list", Access: Requires(tokenRead), handle: s.listTokens},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Action: "token.revoke", Access: Requires(tokenWrite), TargetKind: "token", handle: s.revokeToken},

		{Method: "GET", Pattern: "/api/v1/audit", Action: "audit.read", Access: Requires(auditRead), handle: s.findEvents},
		{Method: "GET", Pattern: "/api/v1/audit/checkpoint", Action: "audit.checkpoint", Access: Requires(auditRead), handle: s.checkpoint},
		{Method: "GET", Pattern: "/api/v1/audit/proof", Action: "audit.proof", Access: Requires(auditRead), handle: s.proof},
		{Method: "GET", Pattern: "/api/v1/audit/key", Action: "audit.key", Access: Public, handle: s.auditKey},

		{Method: "GET", Pattern: "/api/v1/tenant", Action: "tenant.read", Access: Requires(tenantRead), handle: s.getTenant},
		{Method: "PATCH", Pattern: "/api/v1/tenant", Action: "tenant.update", Access: Requires(tillit.PermTenantWrite), handle: s.updateTenant},
	}
}

// authRoutes lists the routes of sign-in, sessions and users, served when
// the server has an AuthService and an AccountService, and those of
// passkeys when it also has a PasskeyService.
func (s *Server) authRoutes() []Route {
	if s.auth == nil || s.accounts == nil {
		return nil
	}
	routes := []Route{
		{Method: "POST", Pattern: "/api/v1/auth/login", Action: "auth.login", Access: Public, RateLimit: true, handle: s.login},
		{Method: "POST", Pattern: "/api/v1/auth/totp/enroll", Action: "auth.totp_enroll", Access: Public, RateLimit: true, handle: s.totpEnroll},
		{Method: "POST", Pattern: "/api/v1/auth/totp/confirm", Action: "auth.totp_confirm", Access: Public, RateLimit: true, handle: s.totpConfirm},
		{Method: "POST", Pattern: "/api/v1/auth/mfa", Action: "auth.mfa", Access: Public, RateLimit: true, handle: s.mfa},
		{Method: "POST", Pattern: "/api/v1/auth/sms/send", Action: "auth.sms_send", Access: Public, RateLimit: true, handle: s.smsSend},
		{Method: "POST", Pattern: "/api/v1/auth/password-reset", Action: "auth.reset_request", Access: Public, RateLimit: true, handle: s.requestReset},
		{Method: "POST", Pattern: "/api/v1/auth/password-reset/confirm", Action: "auth.reset", Access: Public, RateLimit: true, handle: s.resetPassword},
		{Method: "POST", Pattern: "/api/v1/auth/invitation/accept", Action: "auth.invitation_accept", Access: Public, RateLimit: true, handle: s.acceptInvitation},
		{Method: "POST", Pattern: "/api/v1/auth/step-up", Action: "auth.step_up", Access: SignedIn, RateLimit: true, handle: s.stepUp},
		{Method: "POST", Pattern: "/api/v1/auth/password", Action: "auth.password_change", Access: SignedIn, RateLimit: true, handle: s.changePassword},
		{Method: "POST", Pattern: "/api/v1/auth/logout", Action: "auth.logout", Access: SignedIn, handle: s.logout},
		{Method: "PUT", Pattern: "/api/v1/auth/phone", Action: "account.phone", Access: SignedIn, handle: s.setPhone},

		{Method: "GET", Pattern: "/api/v1/sessions", Action: "session.list", Access: SignedIn, handle: s.listSessions},
		{Method: "DELETE", Pattern: "/api/v1/sessions/{id}", Action: "session.revoke", Access: SignedIn, TargetKind: "session", handle: s.revokeSession},
		{Method: "POST", Pattern: "/api/v1/sessions/revoke-others", Action: "session.revoke_others", Access: SignedIn, handle: s.revokeOtherSessions},

		{Method: "POST", Pattern: "/api/v1/users", Action: "user.invite", Access: Requires(tillit.PermUserWrite), handle: s.inviteUser},
		{Method: "GET", Pattern: "/api/v1/users", Action: "user.list", Access: Requires(tillit.PermUserRead), handle: s.listUsers},
		{Method: "PATCH", Pattern: "/api/v1/users/{id}", Action: "user.update", Access: Requires(tillit.PermUserWrite), TargetKind: "user", handle: s.updateUser},
	}
	if s.passkeys == nil {
		return routes
	}
	return append(routes,
		Route{Method: "POST", Pattern: "/api/v1/auth/passkey/register/begin", Action: "auth.passkey_enroll", Access: Public, RateLimit: true, handle: s.passkeyRegisterBegin},
		Route{Method: "POST", Pattern: "/api/v1/auth/passkey/register/finish", Action: "auth.passkey_enrolled", Access: Public, RateLimit: true, handle: s.passkeyRegisterFinish},
		Route{Method: "POST", Pattern: "/api/v1/auth/passkey/login/begin", Action: "auth.passkey_login_begin", Access: Public, RateLimit: true, handle: s.passkeyLoginBegin},
		Route{Method: "POST", Pattern: "/api/v1/auth/passkey/login/finish", Action: "auth.mfa", Access: Public, RateLimit: true, handle: s.passkeyLoginFinish},
		Route{Method: "POST", Pattern: "/api/v1/auth/passkey/step-up/begin", Action: "auth.passkey_step_up_begin", Access: SignedIn, RateLimit: true, handle: s.passkeyStepUpBegin},
		Route{Method: "POST", Pattern: "/api/v1/auth/passkey/step-up/finish", Action: "auth.step_up", Access: SignedIn, RateLimit: true, handle: s.passkeyStepUpFinish},
	)
}

// register adds rt to the server's mux. It panics if rt is malformed, so
// that a route without a declared access can never be served.
func (s *Server) register(rt Route) {
	if err := rt.check(); err != nil {
		panic(fmt.Sprintf("web: route %s: %v", rt, err))
	}
	s.routes = append(s.routes, rt)
	s.mux.Handle(rt.String(), s.routeHandler(rt))
}

// check returns what is wrong with the route's declaration, if anything.
func (rt Route) check() error {
	switch {
	case rt.Method != "GET" && rt.Method != "POST" && rt.Method != "PUT" &&
		rt.Method != "PATCH" && rt.Method != "DELETE":
		return fmt.Errorf("method %q is not one of GET, POST, PUT, PATCH, DELETE", rt.Method)
	case !strings.HasPrefix(rt.Pattern, "/"):
		return fmt.Errorf("pattern must start with /")
	case rt.handle == nil:
		return fmt.Errorf("no handler")
	case !rt.Access.public && !rt.Access.signedIn && rt.Access.perm == "":
		return fmt.Errorf("no access declared: use Public, SignedIn or Requires(permission)")
	case rt.Action == "" && strings.HasPrefix(rt.Pattern, "/api/"):
		return fmt.Errorf("an API route must name its audit action")
	case rt.Action == "" && !rt.Access.public:
		return fmt.Errorf("a route that needs a permission must be audited: name its action")
	case rt.TargetKind != "" && !strings.Contains(rt.Pattern, "{id}"):
		return fmt.Errorf("target %q declared without an {id} wildcard", rt.TargetKind)
	}
	return nil
}

// routeHandler returns the handler of rt: for an audited route, one that
// authenticates, authorizes, calls the handler and records the event; for
// a probe, one that only calls the handler.
func (s *Server) routeHandler(rt Route) http.Handler {
	if !rt.Audited() {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.call(rt.handle, w, r); err != nil {
				s.writeError(w, r, err)
			}
		})
	}
	return http.HandlerFunc(func(conn http.ResponseWriter, r *http.Request) {
		req := tillit.RequestFromContext(r.Context())
		req.Event.Action, req.Event.Target = rt.Action, rt.target(r)
		s.audited(conn, r, func(w http.ResponseWriter, r *http.Request) error {
			if rt.RateLimit {
				if err := s.limit(r); err != nil {
					return err
				}
			}
			r, err := s.authorize(r, rt.Access)
			if err != nil {
				return err
			}
			if rt.LongBody {
				// Once the caller may: the body is read as it comes, for as
				// long as it takes, and the answer follows the whole body.
				rc := http.NewResponseController(conn)
				_ = rc.SetReadDeadline(time.Time{})
				_ = rc.SetWriteDeadline(time.Time{})
			}
			return rt.handle(w, r)
		})
	})
}

// target returns the default target of the request's event: the route's
// kind and the {id} of the path when it is a valid id, else "". Services
// may refine it with tillit.Describe.
func (rt Route) target(r *http.Request) string {
	if rt.TargetKind == "" {
		return ""
	}
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return ""
	}
	return rt.TargetKind + ":" + strconv.FormatInt(id, 10)
}

// parseID parses a positive decimal id, or returns an EInvalid error naming
// field.
func parseID(field, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || len(s) > 19 || s[0] == '+' {
		return 0, tillit.FieldErrorf(field, "%s must be a positive integer", field)
	}
	return id, nil
}
