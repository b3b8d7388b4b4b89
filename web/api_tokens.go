package web

import (
	"net/http"

	"tillit"
)

// tokenCreateRequest is the body of POST /api/v1/tokens.
type tokenCreateRequest struct {
	Name          string `json:"name"`
	Role          string `json:"role"`
	ExpiresInDays int    `json:"expires_in_days"` // 0: never expires
}

// tokenCreated is the answer of POST /api/v1/tokens: the token and, this
// once, its secret.
type tokenCreated struct {
	Secret string `json:"token"`
	*tillit.Token
}

// createToken creates a token in the caller's tenant. The service refuses a
// role the caller's own does not cover.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	role, err := tillit.ParseRole("role", req.Role)
	if err != nil {
		return err
	}
	tok, secret, err := s.tokens.CreateToken(r.Context(), tillit.TokenCreate{
		Name:          req.Name,
		Role:          role,
		ExpiresInDays: req.ExpiresInDays,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, tokenCreated{Secret: secret, Token: tok})
}

// listTokens lists the tokens of the caller's tenant, without secrets.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := s.tokens.FindTokens(r.Context(), 0)
	if err != nil {
		return err
	}
	if toks == nil {
		toks = []*tillit.Token{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Tokens []*tillit.Token `json:"tokens"`
	}{toks})
}

// revokeToken revokes a token of the caller's tenant; another tenant's
// token is not found.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.tokens.RevokeToken(r.Context(), 0, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
