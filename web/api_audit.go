package web

import (
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The page sizes of GET /api/v1/audit.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
	maxFilterLen      = 200 // longest actor, action or target filter
)

// eventsResponse is the answer of GET /api/v1/audit.
type eventsResponse struct {
	Events     []*tillit.Event `json:"events"`
	NextCursor *string         `json:"next_cursor"` // null on the last page
}

// findEvents lists events of the caller's tenant's log, oldest first, one
// page at a time.
func (s *Server) findEvents(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "actor", "action", "target", "from", "to", "cursor", "limit")
	if err != nil {
		return err
	}
	f, err := parseEventFilter(q)
	if err != nil {
		return err
	}
	events, err := s.audit.FindEvents(r.Context(), f)
	if err != nil {
		return err
	}
	resp := eventsResponse{Events: events}
	if resp.Events == nil {
		resp.Events = []*tillit.Event{}
	}
	if len(events) == f.Limit {
		c := encodeCursor(events[len(events)-1].Index)
		resp.NextCursor = &c
	}
	return writeJSON(w, http.StatusOK, resp)
}

// proofResponse is the answer of GET /api/v1/audit/proof: an RFC 6962
// inclusion proof, hashes in standard base64, and the signed checkpoint it
// is against.
type proofResponse struct {
	Log        int64    `json:"log"`
	Index      int64    `json:"index"`
	Size       int64    `json:"size"`
	LeafHash   string   `json:"leaf_hash"`
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// proof proves that event ?index=N of the caller's tenant's log is in the
// latest checkpoint.
func (s *Server) proof(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "index")
	if err != nil {
		return err
	}
	if q["index"] == "" {
		return tillit.FieldErrorf("index", "index is required: the index of the event to prove, from 0")
	}
	index, err := strconv.ParseInt(q["index"], 10, 64)
	if err != nil || index < 0 {
		return tillit.FieldErrorf("index", "index must be an integer of 0 or more")
	}
	p, cp, err := s.audit.ProveInclusion(r.Context(), index)
	if err != nil {
		return err
	}
	resp := proofResponse{
		Log:        p.Log,
		Index:      p.Index,
		Size:       p.Size,
		LeafHash:   base64.StdEncoding.EncodeToString(p.LeafHash[:]),
		Hashes:     make([]string, len(p.Hashes)),
		Checkpoint: cp.Note,
	}
	for i, h := range p.Hashes {
		resp.Hashes[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return writeJSON(w, http.StatusOK, resp)
}

// checkpoint answers the latest signed checkpoint of the caller's tenant's
// log, as signed note text.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	cp, err := s.audit.LatestCheckpoint(r.Context())
	if err != nil {
		return err
	}
	writeText(w, cp.Note)
	return nil
}

// auditKey answers the public key that verifies checkpoints, in the signed
// note verifier format, followed by a newline.
func (s *Server) auditKey(w http.ResponseWriter, r *http.Request) error {
	writeText(w, s.verifier+"\n")
	return nil
}

// queryParams parses the query string, refusing a parameter not in allowed
// and one given more than once. An empty value counts as absent.
func queryParams(r *http.Request, allowed ...string) (map[string]string, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, tillit.Errorf(tillit.EInvalid, "the query string is malformed")
	}
	q := make(map[string]string, len(vals))
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		if !slices.Contains(allowed, name) {
			if len(name) > 64 {
				name = strings.ToValidUTF8(name[:64], "")
			}
			return nil, tillit.FieldErrorf(name, "the query parameter %q is not known here; known are: %s",
				name, strings.Join(allowed, ", "))
		}
		if len(vals[name]) > 1 {
			return nil, tillit.FieldErrorf(name, "give the query parameter %s once", name)
		}
		q[name] = vals[name][0]
	}
	return q, nil
}

// parseEventFilter reads the filter of GET /api/v1/audit from its query.
func parseEventFilter(q map[string]string) (tillit.EventFilter, error) {
	f := tillit.EventFilter{After: -1, Limit: defaultEventLimit}
	var err error
	for name, dst := range map[string]**string{"actor": &f.Actor, "action": &f.Action, "target": &f.Target} {
		if v := q[name]; len(v) > maxFilterLen {
			return f, tillit.FieldErrorf(name, "%s must be at most %d characters", name, maxFilterLen)
		} else if v != "" {
			*dst = &v
		}
	}
	if f.From, err = parseTime(q, "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTime(q, "to"); err != nil {
		return f, err
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return f, tillit.FieldErrorf("to", "to must be later than from")
	}
	if c := q["cursor"]; c != "" {
		if f.After, err = decodeCursor(c); err != nil {
			return f, err
		}
	}
	if v := q["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventLimit {
			return f, tillit.FieldErrorf("limit", "limit must be an integer from 1 to %d", maxEventLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// parseTime reads an RFC 3339 time from q[name], if given.
func parseTime(q map[string]string, name string) (*time.Time, error) {
	v := q[name]
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, tillit.FieldErrorf(name, "%s must be a time in RFC 3339 format, such as 2025-01-31T09:30:00Z", name)
	}
	t = t.UTC()
	return &t, nil
}

// cursorPrefix versions the cursor format, so that it can change.
const cursorPrefix = "v1:"

// encodeCursor returns the cursor of the page after the event at index.
// Clients treat it as opaque.
func encodeCursor(index int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(index, 10)))
}

// decodeCursor returns the index a cursor of encodeCursor holds.
func decodeCursor(c string) (int64, error) {
	bad := tillit.FieldErrorf("cursor", "cursor is not one this server gave out; pass next_cursor of the previous page unchanged")
	if len(c) > 64 {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(b), cursorPrefix)
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, bad
	}
	return n, nil
}
