package web

import (
	"net/http"
	"time"

	"tillit"
)

// meResponse is the answer of GET /api/v1/me.
type meResponse struct {
	Kind        tillit.PrincipalKind `json:"kind"`
	ID          int64                `json:"id"`
	Tenant      *meTenant            `json:"tenant"` // null for operators
	Role        tillit.Role          `json:"role"`
	Name        string               `json:"name"`
	Permissions []tillit.Permission  `json:"permissions"`
	IdleUntil   *time.Time           `json:"idle_until,omitempty"`    // sessions: signed out if idle until then
	SteppedUpAt *time.Time           `json:"stepped_up_at,omitempty"` // sessions: the last step-up
}

type meTenant struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// me answers who the caller is, in which tenant, with which permissions,
// and for a session when it idles out.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := tillit.PrincipalFromContext(r.Context())
	out := meResponse{Kind: p.Kind, ID: p.ID, Role: p.Role, Name: p.Name,
		Permissions: p.Role.Permissions(), IdleUntil: p.IdleUntil, SteppedUpAt: p.SteppedUpAt}
	if out.Permissions == nil {
		out.Permissions = []tillit.Permission{}
	}
	if p.TenantID != 0 {
		t, err := s.tenants.CurrentTenant(r.Context())
		if err != nil {
			return err
		}
		out.Tenant = &meTenant{ID: t.ID, Slug: t.Slug, Name: t.Name}
	}
	return writeJSON(w, http.StatusOK, out)
}
