package web

import (
	"net/http"
	"time"

	"tillit"
)

// maxBulkEraseBytes holds the ids of tillit.MaxBulkErasure people.
const maxBulkEraseBytes = 4 << 20

// rightsRoutes lists the routes of erasure, anonymisation, legal holds and
// restriction, served when the server has a register.
func (s *Server) rightsRoutes() []Route {
	if s.people == nil {
		return nil
	}
	const (
		erase    = tillit.PermPersonErase
		restrict = tillit.PermPersonRestrict
	)
	return []Route{
		{Method: "DELETE", Pattern: "/api/v1/people/{id}", Action: "person.erase", Access: Requires(erase), TargetKind: "person", handle: s.erasePerson},
		{Method: "POST", Pattern: "/api/v1/people/erase", Action: "person.erase_bulk", Access: Requires(erase), LongBody: true, handle: s.erasePeople},
		{Method: "POST", Pattern: "/api/v1/people/{id}/anonymise", Action: "person.anonymise", Access: Requires(erase), TargetKind: "person", handle: s.anonymisePerson},
		{Method: "POST", Pattern: "/api/v1/people/{id}/hold", Action: "person.hold", Access: Requires(restrict), TargetKind: "person", handle: s.setHold},
		{Method: "DELETE", Pattern: "/api/v1/people/{id}/hold", Action: "person.hold_release", Access: Requires(restrict), TargetKind: "person", handle: s.releaseHold},
		{Method: "POST", Pattern: "/api/v1/people/{id}/restriction", Action: "person.restrict", Access: Requires(restrict), TargetKind: "person", handle: s.restrictPerson},
		{Method: "DELETE", Pattern: "/api/v1/people/{id}/restriction", Action: "person.restriction_lift", Access: Requires(restrict), TargetKind: "person", handle: s.liftRestriction},
	}
}

// erasePerson answers with the signed erasure receipt.
func (s *Server) erasePerson(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	rc, err := s.people.ErasePerson(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rc)
}

// erasePeople erases a selection: {"ids":[…]}, answering with a receipt
// for each person erased and the ids held or not found.
func (s *Server) erasePeople(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		IDs []int64 `json:"ids"`
	}
	if err := decodeJSONLimit(r, &body, maxBulkEraseBytes, "application/json"); err != nil {
		return err
	}
	res, err := s.people.ErasePeople(r.Context(), body.IDs, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) anonymisePerson(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	rc, err := s.people.AnonymisePerson(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rc)
}

// setHold sets or replaces the legal hold: {"reason", "until"?}.
func (s *Server) setHold(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	var body struct {
		Reason string  `json:"reason"`
		Until  *string `json:"until"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	var until *time.Time
	if body.Until != nil {
		t, err := time.Parse(time.RFC3339Nano, *body.Until)
		if err != nil {
			return tillit.FieldErrorf("until", "until must be a time such as 2031-01-01T00:00:00Z, or left out for a hold until it is released")
		}
		until = &t
	}
	h, err := s.people.SetHold(r.Context(), id, body.Reason, until)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.people.ReleaseHold(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restrictPerson restricts processing: {"reason"}.
func (s *Server) restrictPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	rs, err := s.people.Restrict(r.Context(), id, body.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rs)
}

func (s *Server) liftRestriction(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.people.LiftRestriction(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
