package web

import (
	"errors"
	"net/http"
	"strings"

	"tillit"
)

// maxSecretLen is the longest credential passed on to a service; anything
// longer is refused without a look-up.
const maxSecretLen = 512

// authenticator finds the principal of a request from one kind of
// credential. API tokens are one kind; session cookies (issue 3) will be
// another, tried after it.
type authenticator interface {
	// authenticate returns the principal of the request's credential of
	// this kind. found is false when the request carries none; err is then
	// nil. A credential that is there but not valid is an EUnauthenticated
	// error.
	authenticate(r *http.Request) (p *tillit.Principal, found bool, err error)
}

// authorize authenticates the request unless access is public, puts the
// principal in the context and in the request's event, and checks that the
// principal holds the route's permission. It returns the request with the
// principal in its context.
func (s *Server) authorize(r *http.Request, access Access) (*http.Request, error) {
	if access.public {
		return r, nil
	}
	p, err := s.authenticate(r)
	if err != nil {
		return r, err
	}
	if req := tillit.RequestFromContext(r.Context()); req != nil {
		req.Event.Actor, req.Event.Log = p.Actor(), p.TenantID
	}
	r = r.WithContext(tillit.NewContextWithPrincipal(r.Context(), p))
	if access.signedIn {
		return r, nil
	}
	if _, err := tillit.Authorize(r.Context(), access.perm); err != nil {
		return r, err
	}
	return r, nil
}

// authenticate returns the principal of the first credential one of the
// server's authenticators finds.
func (s *Server) authenticate(r *http.Request) (*tillit.Principal, error) {
	for _, a := range s.authenticators {
		p, found, err := a.authenticate(r)
		switch {
		case !found:
			continue
		case err != nil:
			return nil, err
		case p == nil:
			return nil, tillit.Internal(errors.New("authenticator found a credential but returned no principal"))
		}
		return p, nil
	}
	return nil, tillit.Errorf(tillit.EUnauthenticated,
		"send an API token in the Authorization header: Bearer <token>")
}

// bearerAuthenticator authenticates API tokens sent as
// "Authorization: Bearer <secret>".
type bearerAuthenticator struct{ tokens tillit.TokenService }

func (a bearerAuthenticator) authenticate(r *http.Request) (*tillit.Principal, bool, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return nil, false, nil
	}
	scheme, secret, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, false, nil
	}
	secret = strings.TrimSpace(secret)
	if len(values) > 1 || secret == "" || len(secret) > maxSecretLen {
		return nil, true, tillit.Errorf(tillit.EUnauthenticated,
			"send exactly one Authorization header: Bearer <token>")
	}
	p, err := a.tokens.AuthenticateToken(r.Context(), secret)
	if err != nil {
		return nil, true, redact(err, secret)
	}
	return p, true, nil
}

// redact returns err with every occurrence of secret replaced, in its
// message and its logged text, so that a credential never reaches a log
// line even when a service echoes it.
func redact(err error, secret string) error {
	if !strings.Contains(err.Error(), secret) && !strings.Contains(tillit.ErrorMessage(err), secret) {
		return err
	}
	const mask = "[redacted]"
	return &tillit.Error{
		Code:    tillit.ErrorCode(err),
		Message: strings.ReplaceAll(tillit.ErrorMessage(err), secret, mask),
		Field:   tillit.ErrorField(err),
		Err:     errors.New(strings.ReplaceAll(err.Error(), secret, mask)),
	}
}
