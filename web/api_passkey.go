package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"tillit"
)

// The passkey (WebAuthn) API. Each ceremony is a begin, which answers the
// options for navigator.credentials.create() or get() as {"publicKey": …},
// and a finish, which takes the PublicKeyCredential the browser returned,
// as JSON with base64url fields. Begin requests need no body. A pending
// sign-in comes from the pending cookie, a signed-in person from the
// session cookie; a completed sign-in or step-up sets a new session
// cookie.

// writeOptions answers a ceremony's options.
func writeOptions(w http.ResponseWriter, opts json.RawMessage) error {
	return writeJSON(w, http.StatusOK, opts)
}

// passkeyRegisterBegin starts registering a passkey, for a pending sign-in
// that must enrol a factor or for the signed-in person adding one (after a
// step-up).
func (s *Server) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) error {
	r = s.withOptionalSession(r)
	opts, err := s.passkeys.BeginRegistration(r.Context(), pendingSecret(r))
	if err != nil {
		return err
	}
	return writeOptions(w, opts)
}

// passkeyRegistration is the body of a registration's finish: the name the
// person gives the passkey and the browser's PublicKeyCredential. A bare
// PublicKeyCredential is accepted too, as a passkey without a name.
type passkeyRegistration struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// decodeRegistration reads a registration's finish: the wrapper, or a bare
// PublicKeyCredential (which has an "id" and no "credential").
func decodeRegistration(r *http.Request) (*passkeyRegistration, error) {
	var body json.RawMessage
	if err := decodeJSON(r, &body); err != nil {
		return nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return nil, tillit.Errorf(tillit.EInvalid, "the request body must be a JSON object")
	}
	if _, wrapped := keys["credential"]; !wrapped {
		return &passkeyRegistration{Credential: body}, nil
	}
	var reg passkeyRegistration
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reg); err != nil {
		return nil, jsonError(err)
	}
	return &reg, nil
}

// passkeyRegisterFinish stores the registered passkey. A pending sign-in
// is then signed in, with its recovery codes shown once.
func (s *Server) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) error {
	reg, err := decodeRegistration(r)
	if err != nil {
		return err
	}
	r = s.withOptionalSession(r)
	in, err := s.passkeys.FinishRegistration(r.Context(), pendingSecret(r), reg.Credential, reg.Name)
	if err != nil {
		return err
	}
	return writeEnrolled(w, in)
}

// passkeyLoginBegin starts the second factor of a pending sign-in with a
// passkey.
func (s *Server) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.passkeys.BeginLogin(r.Context(), pendingSecret(r))
	if err != nil {
		return err
	}
	return writeOptions(w, opts)
}

// passkeyLoginFinish completes a pending sign-in with a passkey.
func (s *Server) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	var cred json.RawMessage
	if err := decodeJSON(r, &cred); err != nil {
		return err
	}
	in, err := s.passkeys.FinishLogin(r.Context(), pendingSecret(r), cred)
	if err != nil {
		return err
	}
	setSessionCookie(w, in)
	return writeJSON(w, http.StatusOK, struct {
		Session *tillit.Session `json:"session"`
	}{in.Session})
}

// passkeyStepUpBegin starts a step-up of the signed-in person with a
// passkey.
func (s *Server) passkeyStepUpBegin(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.passkeys.BeginStepUp(r.Context())
	if err != nil {
		return err
	}
	return writeOptions(w, opts)
}

// passkeyStepUpFinish checks the passkey and replaces the session with a
// stepped-up one, as stepUp does.
func (s *Server) passkeyStepUpFinish(w http.ResponseWriter, r *http.Request) error {
	var cred json.RawMessage
	if err := decodeJSON(r, &cred); err != nil {
		return err
	}
	in, err := s.passkeys.FinishStepUp(r.Context(), cred)
	if err != nil {
		return err
	}
	setSessionCookie(w, in)
	return writeJSON(w, http.StatusOK, struct {
		Session    *tillit.Session `json:"session"`
		ValidUntil time.Time       `json:"valid_until"`
	}{in.Session, in.Session.SteppedUpAt.Add(tillit.StepUpValidity)})
}
