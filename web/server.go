// Package web is the HTTP server of tillit: the JSON API, its middleware and,
// later, the console and public pages. Handlers are thin: they decode the
// request, call a service of the root package and encode the answer. Every
// response carries the security headers; every API request is authenticated,
// authorized against the permission its route declares, and recorded in the
// audit log before its answer leaves (fail closed).
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"

	"tillit"
)

// Config is what a Server needs: its dependencies, passed in by cmd/.
type Config struct {
	Logger   *slog.Logger         // nil: logs are discarded
	Clock    tillit.Clock         // nil: tillit.SystemClock
	Tenants  tillit.TenantService // required
	Tokens   tillit.TokenService  // required
	Audit    tillit.AuditService  // required
	Recorder tillit.EventRecorder // required: records the events of requests that changed nothing

	// Ready reports whether the server can serve: the database answers and
	// its migrations are current. Required.
	Ready func(context.Context) error

	// AuditVerifierKey is the public key of the audit checkpoints in the
	// signed note verifier format ("name+hash+key"), served at
	// GET /api/v1/audit/key. Required.
	AuditVerifierKey string

	// Auth signs people in and authenticates session cookies, and Accounts
	// manages users; both nil serve only the token API (tests of issue 2).
	Auth     tillit.AuthService
	Accounts tillit.AccountService

	// Passkeys signs people in and steps them up with passkeys (WebAuthn);
	// nil serves no passkey endpoints. It needs Auth.
	Passkeys tillit.PasskeyService

	// People is the tenants' register of people; nil serves no register
	// endpoints.
	People tillit.Register

	// Limiter counts sign-in attempts per client address; nil: no limit.
	Limiter Limiter

	// TrustProxy says the server sits behind a reverse proxy that appends the
	// client's address to X-Forwarded-For and may set X-Request-Id. When
	// false, the client address is the IP of the connection and incoming
	// request ids are ignored.
	TrustProxy bool
}

// Validate checks that every required field is set and fills in defaults.
func (c *Config) Validate() error {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = tillit.SystemClock{}
	}
	switch {
	case c.Tenants == nil:
		return errors.New("web: Config.Tenants is required")
	case c.Tokens == nil:
		return errors.New("web: Config.Tokens is required")
	case c.Audit == nil:
		return errors.New("web: Config.Audit is required")
	case c.Recorder == nil:
		return errors.New("web: Config.Recorder is required")
	case c.Ready == nil:
		return errors.New("web: Config.Ready is required")
	case c.AuditVerifierKey == "":
		return errors.New("web: Config.AuditVerifierKey is required")
	}
	return nil
}

// Server is the HTTP handler stack of tillit.
type Server struct {
	logger     *slog.Logger
	clock      tillit.Clock
	tenants    tillit.TenantService
	tokens     tillit.TokenService
	audit      tillit.AuditService
	recorder   tillit.EventRecorder
	ready      func(context.Context) error
	verifier   string
	trustProxy bool

	auth     tillit.AuthService
	accounts tillit.AccountService
	passkeys tillit.PasskeyService
	people   tillit.Register
	limiter  Limiter
	csrf     *http.CrossOriginProtection

	authenticators []authenticator // tried in order; the first that finds a credential decides
	routes         []Route
	mux            *http.ServeMux
}

// New returns a Server with the routes of the API registered. It panics if a
// route of its table is malformed (a bug); it returns an error if cfg is
// incomplete.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		logger:     cfg.Logger,
		clock:      cfg.Clock,
		tenants:    cfg.Tenants,
		tokens:     cfg.Tokens,
		audit:      cfg.Audit,
		recorder:   cfg.Recorder,
		ready:      cfg.Ready,
		verifier:   cfg.AuditVerifierKey,
		trustProxy: cfg.TrustProxy,
		auth:       cfg.Auth,
		accounts:   cfg.Accounts,
		passkeys:   cfg.Passkeys,
		people:     cfg.People,
		limiter:    cfg.Limiter,
		csrf:       http.NewCrossOriginProtection(),
		mux:        http.NewServeMux(),
	}
	s.authenticators = []authenticator{bearerAuthenticator{tokens: cfg.Tokens}}
	if cfg.Auth != nil {
		s.authenticators = append(s.authenticators, sessionAuthenticator{auth: cfg.Auth})
	}
	for _, rt := range s.routeTable() {
		s.register(rt)
	}
	for _, rt := range s.authRoutes() {
		s.register(rt)
	}
	for _, rt := range s.peopleRoutes() {
		s.register(rt)
	}
	for _, rt := range s.rightsRoutes() {
		s.register(rt)
	}
	for _, rt := range s.reportRoutes() {
		s.register(rt)
	}
	for _, rt := range s.requestRoutes() {
		s.register(rt)
	}
	for _, rt := range s.retentionRoutes() {
		s.register(rt)
	}
	for _, rt := range s.consoleRoutes() {
		s.register(rt)
	}
	return s, nil
}

// Handler returns the handler that serves every request of the server.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Routes returns the routes the server serves, in registration order.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.routes))
	copy(out, s.routes)
	return out
}

// TLSConfig returns the TLS settings of the server: TLS 1.2 or later, and on
// TLS 1.2 only forward-secret AEAD cipher suites. TLS 1.3 suites are not
// configurable and all good. Curves are left to Go's defaults, which include
// the post-quantum hybrid key exchange.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
