package web

import (
	"net/http"
	"time"

	"tillit"
)

// The sign-in API. The console uses the same endpoints; a pending sign-in
// (between password and second factor) lives in the pending cookie, a
// session in the session cookie. Secrets never appear in a body the server
// sends, except TOTP enrolment's own secret and the recovery codes, shown
// once.

type loginRequest struct {
	Tenant   string `json:"tenant"` // "" for operators
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login checks a password and starts a pending sign-in.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	res, err := s.auth.Login(r.Context(), req.Tenant, req.Email, req.Password)
	if err != nil {
		return err
	}
	s.setPending(w, res)
	return writeJSON(w, http.StatusOK, res)
}

// setPending gives the browser the cookie of a pending sign-in.
func (s *Server) setPending(w http.ResponseWriter, res *tillit.LoginResult) {
	setCookie(w, pendingCookie, res.Pending, s.clock.Now().Add(tillit.PendingLifetime))
}

// totpEnroll starts TOTP enrolment, for a pending sign-in or the signed-in
// person adding the factor.
func (s *Server) totpEnroll(w http.ResponseWriter, r *http.Request) error {
	r = s.withOptionalSession(r)
	secret, url, err := s.auth.EnrollTOTP(r.Context(), pendingSecret(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}{secret, url})
}

type codeRequest struct {
	Method string `json:"method"`
	Code   string `json:"code"`
}

// totpConfirm completes TOTP enrolment with a first code.
func (s *Server) totpConfirm(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	r = s.withOptionalSession(r)
	in, err := s.auth.ConfirmTOTP(r.Context(), pendingSecret(r), req.Code)
	if err != nil {
		return err
	}
	return writeEnrolled(w, in)
}

// writeEnrolled answers a completed factor enrolment: for a pending
// sign-in, the new session's cookie and the recovery codes, shown once.
func writeEnrolled(w http.ResponseWriter, in *tillit.SignIn) error {
	if in.Secret != "" {
		setSessionCookie(w, in)
	}
	codes := in.RecoveryCodes
	if codes == nil {
		codes = []string{}
	}
	return writeJSON(w, http.StatusOK, struct {
		RecoveryCodes []string        `json:"recovery_codes"`
		Session       *tillit.Session `json:"session,omitempty"`
	}{codes, in.Session})
}

// mfa completes a pending sign-in with a second factor.
func (s *Server) mfa(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := s.auth.VerifySecondFactor(r.Context(), pendingSecret(r), req.Method, req.Code)
	if err != nil {
		return err
	}
	setSessionCookie(w, in)
	return writeJSON(w, http.StatusOK, struct {
		Session *tillit.Session `json:"session"`
	}{in.Session})
}

// smsSend sends a sign-in code by SMS to a pending sign-in.
func (s *Server) smsSend(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.SendSMSCode(r.Context(), pendingSecret(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type stepUpRequest struct {
	Password string `json:"password"`
	Method   string `json:"method"`
	Code     string `json:"code"`
}

// stepUp proves the signed-in person is present and replaces the session
// with a stepped-up one.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request) error {
	var req stepUpRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Method == "" {
		req.Method = tillit.FactorTOTP
	}
	in, err := s.auth.StepUp(r.Context(), req.Password, req.Method, req.Code)
	if err != nil {
		return err
	}
	setSessionCookie(w, in)
	return writeJSON(w, http.StatusOK, struct {
		Session    *tillit.Session `json:"session"`
		ValidUntil time.Time       `json:"valid_until"`
	}{in.Session, in.Session.SteppedUpAt.Add(tillit.StepUpValidity)})
}

// logout ends the caller's session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.Logout(r.Context()); err != nil {
		return err
	}
	clearCookie(w, sessionCookie)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// withOptionalSession returns r with the principal of its session cookie
// in its context, if it has a valid one: enrolment serves both a pending
// sign-in and a signed-in person.
func (s *Server) withOptionalSession(r *http.Request) *http.Request {
	if p, found, err := (sessionAuthenticator{auth: s.auth}).authenticate(r); found && err == nil {
		return r.WithContext(tillit.NewContextWithPrincipal(r.Context(), p))
	}
	return r
}
