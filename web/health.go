package web

import (
	"context"
	"net/http"
	"time"

	"tillit"
)

// readyTimeout bounds the readiness check.
const readyTimeout = 3 * time.Second

// healthz answers that the process is alive. It touches nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	writeText(w, "ok")
	return nil
}

// readyz answers whether the server can serve: the database answers and its
// migrations are current. The reason it cannot is logged, never answered.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return &tillit.Error{Code: tillit.EUnavailable, Message: "not ready", Err: err}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeText(w, "ready")
	return nil
}
