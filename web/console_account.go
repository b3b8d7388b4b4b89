package web

import (
	"net/http"
	"strconv"

	"tillit"
)

// The signed-in person's own pages: password, passkeys and sessions.

// passwordForm asks for the current password and a new one.
func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "password.title", "password")
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "password", v)
}

// changePasswordForm changes the password.
func (s *Server) changePasswordForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "password.title", "password")
	if err != nil {
		return err
	}
	err = checkNewPassword(r, false)
	if err == nil {
		err = s.auth.ChangePassword(r.Context(), r.PostFormValue("current"), r.PostFormValue("password"))
	}
	if err != nil {
		return s.formError(w, "password", "password", v, err)
	}
	return seeOther(w, "/account/password?notice=password_changed")
}

// passkeysPage offers to register a passkey or security key. The
// registration itself is the script's, against the API's WebAuthn
// endpoints; without them the page says passkeys are not available.
func (s *Server) passkeysPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "passkeys.title", "passkeys")
	if err != nil {
		return err
	}
	v.Data = struct{ Available bool }{s.hasRoute("POST", passkeyRegisterBegin)}
	return s.render(w, http.StatusOK, "passkeys", v)
}

// sessionsPage lists the person's own live sessions.
func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "sessions.title", "sessions")
	if err != nil {
		return err
	}
	return s.renderSessions(w, r, v, http.StatusOK)
}

// renderSessions renders the sessions page with the person's sessions.
func (s *Server) renderSessions(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	sessions, err := keepEvent(r, func() ([]*tillit.Session, error) { return s.auth.FindSessions(r.Context()) })
	if err != nil {
		return err
	}
	others := 0
	for _, ss := range sessions {
		if !ss.Current {
			others++
		}
	}
	v.Data = struct {
		Sessions []*tillit.Session
		Others   int
	}{sessions, others}
	return s.render(w, status, "sessions", v)
}

// endSessions ends one of the person's other sessions ("end" is its id),
// or all of them ("end" is "others").
func (s *Server) endSessions(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	end := r.PostFormValue("end")
	if end == "others" {
		if _, err := s.auth.RevokeOtherSessions(r.Context()); err != nil {
			return err
		}
		return seeOther(w, "/sessions?notice=sessions_ended")
	}
	id, err := strconv.ParseInt(end, 10, 64)
	if err != nil || id <= 0 {
		return tillit.FieldErrorf("end", "end must be a session's id or \"others\"")
	}
	if err := s.auth.RevokeSession(r.Context(), id); err != nil {
		return err
	}
	return seeOther(w, "/sessions?notice=session_ended_one")
}
