package web

import (
	"net/http"

	"tillit"
)

type userInviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// userCreated is the answer of POST /api/v1/users: the invited user and
// when the invitation expires. The link itself goes only to their e-mail —
// unless it could not be sent: then the inviter gets it, to pass on, rather
// than an account nobody can ever activate.
type userCreated struct {
	*tillit.Account
	InvitationExpiresAt any    `json:"invitation_expires_at"`
	InvitationURL       string `json:"invitation_url,omitempty"`
	Warning             string `json:"warning,omitempty"`
}

// inviteUser invites a user to the caller's tenant.
func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request) error {
	var req userInviteRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	role, err := tillit.ParseRole("role", req.Role)
	if err != nil {
		return err
	}
	a, inv, err := s.accounts.CreateAccount(r.Context(), tillit.AccountCreate{
		Kind: tillit.KindUser, Email: req.Email, Role: role,
	})
	out := userCreated{Account: a}
	if err != nil {
		if a == nil || inv == nil || tillit.ErrorCode(err) != tillit.EUnavailable {
			return err
		}
		out.InvitationURL = inv.URL
		out.Warning = "the invitation could not be e-mailed; give the person this link yourself"
	}
	if inv != nil {
		out.InvitationExpiresAt = inv.ExpiresAt
	}
	return writeJSON(w, http.StatusCreated, out)
}

// listUsers lists the users of the caller's tenant.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.accounts.FindUsers(r.Context())
	if err != nil {
		return err
	}
	if users == nil {
		users = []*tillit.Account{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Users []*tillit.Account `json:"users"`
	}{users})
}

type userUpdateRequest struct {
	Role    *string `json:"role"`
	Blocked *bool   `json:"blocked"`
	Unlock  bool    `json:"unlock"`
}

// updateUser changes a user's role, blocks or unblocks them, or clears a
// lockout. Role changes and blocking need a step-up.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	var req userUpdateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	u := tillit.AccountUpdate{Blocked: req.Blocked, Unlock: req.Unlock}
	if req.Role != nil {
		role, err := tillit.ParseRole("role", *req.Role)
		if err != nil {
			return err
		}
		u.Role = &role
	}
	if u.Role == nil && u.Blocked == nil && !u.Unlock {
		return tillit.Errorf(tillit.EInvalid, "send role, blocked or unlock")
	}
	a, err := s.accounts.UpdateUser(r.Context(), id, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}
