package web

import (
	"net/http"
	"time"

	"tillit"
)

// The cookies of the console. Both are __Host- cookies: Secure, Path=/, no
// Domain, so no other site or subdomain can set or read them.
const (
	sessionCookie = "__Host-tillit_session" // a signed-in session's secret
	pendingCookie = "__Host-tillit_pending" // a sign-in between password and second factor
)

// setCookie sets a strictly necessary cookie: HttpOnly, Secure,
// SameSite=Strict, Path=/, ending at expires.
func setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Expires: expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// clearCookie removes a cookie from the browser.
func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// setSessionCookie gives the browser the secret of a new session, ending at
// the session's absolute expiry (the server enforces the idle timeout).
func setSessionCookie(w http.ResponseWriter, in *tillit.SignIn) {
	setCookie(w, sessionCookie, in.Secret, in.Session.ExpiresAt)
	clearCookie(w, pendingCookie)
}

// pendingSecret returns the secret of the request's pending sign-in, or "".
func pendingSecret(r *http.Request) string {
	c, err := r.Cookie(pendingCookie)
	if err != nil || len(c.Value) > maxSecretLen {
		return ""
	}
	return c.Value
}

// sessionAuthenticator authenticates the session cookie of the console and
// of API calls made from it.
type sessionAuthenticator struct{ auth tillit.AuthService }

func (a sessionAuthenticator) authenticate(r *http.Request) (*tillit.Principal, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, false, nil
	}
	if len(c.Value) > maxSecretLen {
		return nil, true, tillit.Errorf(tillit.EUnauthenticated, "sign in again")
	}
	p, err := a.auth.AuthenticateSession(r.Context(), c.Value)
	if err != nil {
		return nil, true, redact(err, c.Value)
	}
	return p, true, nil
}
