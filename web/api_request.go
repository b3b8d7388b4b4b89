package web

import (
	"net/http"
	"strconv"
	"time"

	"tillit"
)

// requestRoutes lists the routes of the register of requests from people
// (GDPR Art. 12–22), served when the server has a register.
func (s *Server) requestRoutes() []Route {
	if s.people == nil {
		return nil
	}
	const (
		read  = tillit.PermRequestRead
		write = tillit.PermRequestWrite
	)
	return []Route{
		{Method: "POST", Pattern: "/api/v1/requests", Action: "request.create", Access: Requires(write), handle: s.createRequest},
		{Method: "GET", Pattern: "/api/v1/requests", Action: "request.list", Access: Requires(read), handle: s.listRequests},
		{Method: "GET", Pattern: "/api/v1/requests/{id}", Action: "request.read", Access: Requires(read), TargetKind: "request", handle: s.getRequest},
		{Method: "PATCH", Pattern: "/api/v1/requests/{id}", Action: "request.update", Access: Requires(write), TargetKind: "request", handle: s.updateRequest},
		{Method: "GET", Pattern: "/api/v1/requests/{id}/report", Action: "request.report", Access: Requires(read), TargetKind: "request", handle: s.getRequestReport},
	}
}

// newRequest is the body of POST /api/v1/requests: what a client may set.
type newRequest struct {
	Type       tillit.RequestType `json:"type"`
	PersonID   *int64             `json:"person_id"`
	ReceivedAt string             `json:"received_at"` // RFC 3339, or a date (midnight UTC)
	Channel    string             `json:"channel"`
	Note       string             `json:"note"`
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) error {
	var in newRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req := &tillit.SubjectRequest{Type: in.Type, PersonID: in.PersonID, Channel: in.Channel, Note: in.Note}
	if in.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, in.ReceivedAt)
		if err != nil {
			t, err = time.Parse(time.DateOnly, in.ReceivedAt)
		}
		if err != nil {
			return tillit.FieldErrorf("received_at", "received_at must be a time in RFC 3339 (2026-11-22T10:30:00+01:00) or a date (2026-11-22)")
		}
		req.ReceivedAt = t
	}
	if err := s.people.CreateRequest(r.Context(), req); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, req)
}

// listRequests answers a page of requests by deadline: ?due=overdue|soon,
// ?status=, ?open=true, ?limit=1–1000, ?cursor= from the previous page.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := tillit.RequestFilter{Due: q.Get("due"), Status: tillit.RequestStatus(q.Get("status")), Cursor: q.Get("cursor")}
	switch v := q.Get("open"); v {
	case "", "false":
	case "true":
		f.Open = true
	default:
		return tillit.FieldErrorf("open", "open must be true or false")
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return tillit.FieldErrorf("limit", "limit must be a whole number between 1 and 1000")
		}
		f.Limit = n
		if n == 0 {
			f.Limit = -1 // "0" is not "not given"
		}
	}
	page, err := s.people.FindRequests(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	req, err := s.people.FindRequestByID(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, req)
}

// updateRequest moves a request on: {"status", "reason"} (a refusal needs
// one), {"extend_months", "extension_reason"}, {"person_id"}, {"note"}.
func (s *Server) updateRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	var u tillit.RequestUpdate
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	req, err := s.people.UpdateRequest(r.Context(), id, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, req)
}

// getRequestReport answers the report attached to a completed access or
// export request.
func (s *Server) getRequestReport(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	rep, err := s.people.RequestReport(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
