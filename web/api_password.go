package web

import (
	"net/http"

	"tillit"
)

type passwordChangeRequest struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changePassword changes the signed-in person's password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req passwordChangeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.auth.ChangePassword(r.Context(), req.Current, req.New); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type phoneRequest struct {
	Phone string `json:"phone"`
}

// setPhone sets the signed-in person's own phone number for SMS codes
// (step-up).
func (s *Server) setPhone(w http.ResponseWriter, r *http.Request) error {
	var req phoneRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p := tillit.PrincipalFromContext(r.Context())
	if err := s.accounts.SetPhone(r.Context(), p.ID, req.Phone); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resetRequest struct {
	Tenant string `json:"tenant"`
	Email  string `json:"email"`
}

// requestReset e-mails a reset link if the account exists. The answer is
// the same either way.
func (s *Server) requestReset(w http.ResponseWriter, r *http.Request) error {
	var req resetRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.auth.RequestPasswordReset(r.Context(), req.Tenant, req.Email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type tokenPasswordRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// resetPassword sets a new password with a reset token and starts a
// pending sign-in: the second factor is still needed.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var req tokenPasswordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	res, err := s.auth.ResetPassword(r.Context(), req.Token, req.Password)
	return s.answerPending(w, res, err)
}

// acceptInvitation sets an invited person's first password and starts a
// pending sign-in that must enrol a second factor.
func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var req tokenPasswordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	res, err := s.auth.AcceptInvitation(r.Context(), req.Token, req.Password)
	return s.answerPending(w, res, err)
}

func (s *Server) answerPending(w http.ResponseWriter, res *tillit.LoginResult, err error) error {
	if err != nil {
		return err
	}
	s.setPending(w, res)
	return writeJSON(w, http.StatusOK, res)
}
