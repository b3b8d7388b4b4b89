package web

import (
	"net/http"

	"tillit"
)

// meResponse is the answer of GET /api/v1/me.
type meResponse struct {
	Kind        tillit.PrincipalKind `json:"kind"`
	ID          int64                `json:"id"`
	Tenant      meTenant             `json:"tenant"`
	Role        tillit.Role          `json:"role"`
	Name        string               `json:"name"`
	Permissions []tillit.Permission  `json:"permissions"`
}

type meTenant struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// me answers who the caller is, in which tenant, with which permissions.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenants.CurrentTenant(r.Context())
	if err != nil {
		return err
	}
	p := tillit.PrincipalFromContext(r.Context())
	perms := p.Role.Permissions()
	if perms == nil {
		perms = []tillit.Permission{}
	}
	return writeJSON(w, http.StatusOK, meResponse{
		Kind:        p.Kind,
		ID:          p.ID,
		Tenant:      meTenant{ID: t.ID, Slug: t.Slug, Name: t.Name},
		Role:        p.Role,
		Name:        p.Name,
		Permissions: perms,
	})
}
