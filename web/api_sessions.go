package web

import (
	"net/http"

	"tillit"
)

// listSessions lists the caller's own live sessions.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	sessions, err := s.auth.FindSessions(r.Context())
	if err != nil {
		return err
	}
	if sessions == nil {
		sessions = []*tillit.Session{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Sessions []*tillit.Session `json:"sessions"`
	}{sessions})
}

// revokeSession ends one of the caller's own sessions.
func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.auth.RevokeSession(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeOtherSessions ends every session of the caller but this one.
func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := s.auth.RevokeOtherSessions(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Revoked int `json:"revoked"`
	}{n})
}

type tenantUpdateRequest struct {
	SessionIdleMinutes *int    `json:"session_idle_minutes"`
	Locale             *string `json:"locale"`
	SMSAllowed         *bool   `json:"sms_allowed"`
}

// getTenant answers the caller's tenant with its settings.
func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenants.CurrentTenant(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// updateTenant changes the caller's tenant's settings (step-up).
func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) error {
	var req tenantUpdateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	t, err := s.tenants.UpdateSettings(r.Context(), tillit.TenantSettingsUpdate{
		SessionIdleMinutes: req.SessionIdleMinutes, Locale: req.Locale, SMSAllowed: req.SMSAllowed,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}
