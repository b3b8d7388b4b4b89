package web

import (
	"fmt"
	"net/http"
	"strconv"

	"tillit"
)

// retentionRoutes lists the routes of retention (gallring), served when the
// server has a register.
func (s *Server) retentionRoutes() []Route {
	if s.people == nil {
		return nil
	}
	const (
		read  = tillit.PermRetentionRead
		write = tillit.PermRetentionWrite
	)
	return []Route{
		{Method: "GET", Pattern: "/api/v1/retention/policy", Action: "retention.policy.read", Access: Requires(read), handle: s.getRetentionPolicy},
		{Method: "PUT", Pattern: "/api/v1/retention/policy", Action: "retention.policy", Access: Requires(write), handle: s.putRetentionPolicy},
		{Method: "GET", Pattern: "/api/v1/retention/flagged", Action: "retention.flagged", Access: Requires(read), handle: s.listFlagged},
		// erase needs person:erase and a step-up, keep retention:write:
		// the service checks the one the action needs.
		{Method: "POST", Pattern: "/api/v1/retention/decide", Action: "retention.decide", Access: Requires(read), handle: s.decideRetention},
		{Method: "POST", Pattern: "/api/v1/retention/run", Action: "retention.run", Access: Requires(write), handle: s.runRetention},
	}
}

// getRetentionPolicy answers the tenant's policy; {"policy": null} when it
// has none.
func (s *Server) getRetentionPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := s.people.RetentionPolicy(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Policy *tillit.RetentionPolicy `json:"policy"`
	}{p})
}

// retentionPolicyBody is the body of PUT /api/v1/retention/policy.
type retentionPolicyBody struct {
	Months     int            `json:"months"`
	From       string         `json:"from"`
	Mode       string         `json:"mode"`
	GraceDays  int            `json:"grace_days"`
	Categories map[string]int `json:"categories"`
}

// putRetentionPolicy saves the policy and answers the preview: how many
// people it flags now. ?dry_run=true previews without saving.
func (s *Server) putRetentionPolicy(w http.ResponseWriter, r *http.Request) error {
	dryRun := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return tillit.FieldErrorf("dry_run", "dry_run must be true or false")
		}
		dryRun = b
	}
	var body retentionPolicyBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	p := &tillit.RetentionPolicy{Months: body.Months, From: body.From, Mode: body.Mode, GraceDays: body.GraceDays, Categories: body.Categories}
	preview, err := s.people.SetRetentionPolicy(r.Context(), p, dryRun)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, preview)
}

// listFlagged answers a page of the flagged people, oldest flag first:
// ?limit=1–1000, ?cursor= from the previous page.
func (s *Server) listFlagged(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return tillit.FieldErrorf("limit", "limit must be a whole number between 1 and 1000")
		}
		limit = n
		if n == 0 {
			limit = -1 // "0" is not "not given"
		}
	}
	people, next, err := s.people.FlaggedPeople(r.Context(), q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		People     []*tillit.FlaggedPerson `json:"people"`
		NextCursor string                  `json:"next_cursor,omitempty"`
	}{people, next})
}

// decideRetention erases or keeps flagged people.
func (s *Server) decideRetention(w http.ResponseWriter, r *http.Request) error {
	var d tillit.RetentionDecision
	if err := decodeJSON(r, &d); err != nil {
		return err
	}
	res, err := s.people.DecideRetention(r.Context(), d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// runRetention runs the retention job now over the caller's own tenant
// and answers its summary.
func (s *Server) runRetention(w http.ResponseWriter, r *http.Request) error {
	runs, err := s.people.RunRetention(r.Context(), "", nil)
	if err != nil {
		return err
	}
	if len(runs) != 1 {
		return tillit.Internal(fmt.Errorf("retention run of one tenant answered %d runs", len(runs)))
	}
	return writeJSON(w, http.StatusOK, runs[0])
}
