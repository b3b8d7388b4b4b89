package web

import (
	"net/http"
	"strings"

	"tillit"
)

// Invitations and password resets. Their one-time token arrives in the
// link's fragment (/invite#<token>), which browsers never send to a server:
// the console's script moves it into the form, so it reaches the server
// only in the body of the form's POST, and never in a URL or a log.

// tokenPage is the data of the invitation and reset pages.
type tokenPage struct {
	Token string // the token the form carried, to keep it after a mistake
}

// textError is a problem the console finds in a form itself: its text is
// the catalog's key, its code and field those of err.
type textError struct {
	key string
	err *tillit.Error
}

func (e *textError) Error() string { return e.err.Error() }
func (e *textError) Unwrap() error { return e.err }

// invalidForm returns an EInvalid problem with field whose text is the
// catalog's key.
func invalidForm(field, key string) error {
	return &textError{key: key, err: tillit.FieldErrorf(field, "invalid %s (%s)", field, key)}
}

// checkNewPassword checks what the console can about a new password before
// the service does: the token is there and both entries match.
func checkNewPassword(r *http.Request, token bool) error {
	switch {
	case token && r.PostFormValue("token") == "":
		return invalidForm("", "err.token_missing")
	case r.PostFormValue("password") != r.PostFormValue("confirm"):
		return invalidForm("confirm", "err.confirm_mismatch")
	}
	return nil
}

// invitationForm asks an invited person for their first password.
func (s *Server) invitationForm(w http.ResponseWriter, r *http.Request) error {
	v := newView(r, "invite.title", "")
	v.Data = tokenPage{}
	return s.render(w, http.StatusOK, "invite", v)
}

// acceptInvitationForm sets the first password and goes on to the
// enrolment of a second factor, which is forced.
func (s *Server) acceptInvitationForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := newView(r, "invite.title", "")
	v.Data = tokenPage{Token: r.PostFormValue("token")}
	err := checkNewPassword(r, true)
	var res *tillit.LoginResult
	if err == nil {
		res, err = s.auth.AcceptInvitation(r.Context(), r.PostFormValue("token"), r.PostFormValue("password"))
	}
	if err != nil {
		return s.formError(w, "invite", "invite", v, err)
	}
	s.setPending(w, res)
	return seeOther(w, afterPassword(res, ""))
}

// forgotForm asks for the account whose password is forgotten.
func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "forgot", newView(r, "forgot.title", ""))
}

// forgot e-mails a reset link if the account exists; the answer is the
// same either way.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := s.auth.RequestPasswordReset(r.Context(), strings.TrimSpace(r.PostFormValue("tenant")), r.PostFormValue("email"))
	if err != nil {
		return s.formError(w, "forgot", "forgot", newView(r, "forgot.title", ""), err)
	}
	return seeOther(w, "/password/forgot?notice=reset_sent")
}

// resetForm asks for a new password with a reset link.
func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) error {
	v := newView(r, "reset.title", "")
	v.Data = tokenPage{}
	return s.render(w, http.StatusOK, "reset", v)
}

// reset sets the new password; the second factor is still asked for.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := newView(r, "reset.title", "")
	v.Data = tokenPage{Token: r.PostFormValue("token")}
	err := checkNewPassword(r, true)
	var res *tillit.LoginResult
	if err == nil {
		res, err = s.auth.ResetPassword(r.Context(), r.PostFormValue("token"), r.PostFormValue("password"))
	}
	if err != nil {
		return s.formError(w, "reset", "reset", v, err)
	}
	s.setPending(w, res)
	return seeOther(w, afterPassword(res, ""))
}
