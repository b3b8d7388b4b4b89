package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"tillit"
	"tillit/peoplefile"
)

// Body limits of the register's endpoints.
const (
	// maxRecordBytes leaves room for a 1 MiB record body written with JSON
	// escapes.
	maxRecordBytes = 8 << 20
	// MaxImportBytes is the largest file an import reads: 4 GiB, streamed.
	MaxImportBytes = 4 << 30
)

// peopleRoutes lists the routes of the register, served when the server
// has one.
func (s *Server) peopleRoutes() []Route {
	if s.people == nil {
		return nil
	}
	const (
		read  = tillit.PermPersonRead
		write = tillit.PermPersonWrite
	)
	return []Route{
		{Method: "POST", Pattern: "/api/v1/people", Action: "person.create", Access: Requires(write), handle: s.createPerson},
		{Method: "GET", Pattern: "/api/v1/people", Action: "person.list", Access: Requires(read), handle: s.listPeople},
		{Method: "POST", Pattern: "/api/v1/people/lookup", Action: "person.lookup", Access: Requires(read), handle: s.lookupPeople},
		{Method: "POST", Pattern: "/api/v1/people/import", Action: "person.import", Access: Requires(write), LongBody: true, handle: s.importPeople},
		{Method: "GET", Pattern: "/api/v1/people/{id}", Action: "person.read", Access: Requires(read), TargetKind: "person", handle: s.getPerson},
		{Method: "PATCH", Pattern: "/api/v1/people/{id}", Action: "person.update", Access: Requires(write), TargetKind: "person", handle: s.updatePerson},

		{Method: "POST", Pattern: "/api/v1/people/{id}/records", Action: "record.create", Access: Requires(write), TargetKind: "person", handle: s.createRecord},
		{Method: "GET", Pattern: "/api/v1/people/{id}/records", Action: "record.list", Access: Requires(read), TargetKind: "person", handle: s.listRecords},
		{Method: "GET", Pattern: "/api/v1/people/{id}/records/{rid}", Action: "record.read", Access: Requires(read), TargetKind: "person", handle: s.getRecord},
		{Method: "PATCH", Pattern: "/api/v1/people/{id}/records/{rid}", Action: "record.update", Access: Requires(write), TargetKind: "person", handle: s.updateRecord},
		{Method: "DELETE", Pattern: "/api/v1/people/{id}/records/{rid}", Action: "record.delete", Access: Requires(write), TargetKind: "person", handle: s.deleteRecord},

		{Method: "GET", Pattern: "/api/v1/schema", Action: "schema.read", Access: Requires(tillit.PermTenantRead), handle: s.getSchema},
		{Method: "PUT", Pattern: "/api/v1/schema", Action: "schema.update", Access: Requires(tillit.PermTenantWrite), handle: s.putSchema},
	}
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) error {
	var p tillit.Person
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	p.ID = 0
	if err := s.people.CreatePerson(r.Context(), &p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, &p)
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := s.people.FindPersonByID(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// updatePerson applies a JSON merge patch (RFC 7386); the body may be sent
// as application/merge-patch+json or application/json.
func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	var patch json.RawMessage
	if err := decodeJSONLimit(r, &patch, MaxBodyBytes, "application/merge-patch+json", "application/json"); err != nil {
		return err
	}
	p, err := s.people.UpdatePerson(r.Context(), id, patch)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// listPeople answers a page of the register: ?sort=id|family_name,
// ?limit=1–1000, ?cursor= from the previous page.
func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := tillit.PersonFilter{Sort: tillit.PersonSort(q.Get("sort")), Cursor: q.Get("cursor")}
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
	page, err := s.people.FindPeople(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// lookupPeople finds people by e-mail, phone or national id: a POST, so the
// value never reaches a URL or a log.
func (s *Server) lookupPeople(w http.ResponseWriter, r *http.Request) error {
	var l tillit.PersonLookup
	if err := decodeJSON(r, &l); err != nil {
		return err
	}
	people, err := s.people.LookupPeople(r.Context(), l)
	if err != nil {
		return err
	}
	if people == nil {
		people = []*tillit.Person{}
	}
	return writeJSON(w, http.StatusOK, struct {
		People []*tillit.Person `json:"people"`
	}{people})
}

// importPeople reads a CSV file (text/csv, with a header row) or NDJSON
// (application/x-ndjson), streamed; ?all_or_nothing=true refuses the whole
// file if any line is refused.
func (s *Server) importPeople(w http.ResponseWriter, r *http.Request) error {
	var format peoplefile.Format
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "text/csv":
		format = peoplefile.CSV
	case "application/x-ndjson", "application/ndjson", "application/jsonl":
		format = peoplefile.NDJSON
	default:
		return tillit.Errorf(tillit.EInvalid, "the Content-Type header must be text/csv (with a header row) or application/x-ndjson (one person per line)")
	}
	var opts tillit.ImportOptions
	switch v := r.URL.Query().Get("all_or_nothing"); v {
	case "", "false":
	case "true":
		opts.AllOrNothing = true
	default:
		return tillit.FieldErrorf("all_or_nothing", "all_or_nothing must be true or false")
	}
	if r.ContentLength > MaxImportBytes {
		return tillit.Errorf(tillit.ETooLarge, "an import reads at most 4 GiB; split the file")
	}
	schema, err := s.people.FindSchema(r.Context())
	// Reading the schema described the request's event as a schema read;
	// it is an import, also when the file is refused before it is read.
	tillit.Describe(r.Context(), "person.import", "")
	if err != nil {
		return err
	}
	body := http.MaxBytesReader(nil, r.Body, MaxImportBytes)
	src, err := peoplefile.NewReader(body, format, schema)
	if err != nil {
		return err
	}
	res, err := s.people.ImportPeople(r.Context(), src, opts, nil)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return tillit.Errorf(tillit.ETooLarge, "an import reads at most 4 GiB; split the file (%d people were created before the limit)", res.Created)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// recordIDs parses the person and record ids of a record's path.
func recordIDs(r *http.Request) (personID, id int64, err error) {
	if personID, err = parseID("id", r.PathValue("id")); err != nil {
		return 0, 0, err
	}
	id, err = parseID("rid", r.PathValue("rid"))
	return personID, id, err
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) error {
	personID, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	var rec tillit.Record
	if err := decodeJSONLimit(r, &rec, maxRecordBytes); err != nil {
		return err
	}
	rec.ID, rec.PersonID = 0, personID
	if err := s.people.CreateRecord(r.Context(), &rec); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, &rec)
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request) error {
	personID, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := tillit.RecordFilter{Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit == 0 {
			return tillit.FieldErrorf("limit", "limit must be a whole number between 1 and 1000")
		}
	}
	page, err := s.people.FindRecords(r.Context(), personID, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) error {
	personID, id, err := recordIDs(r)
	if err != nil {
		return err
	}
	rec, err := s.people.FindRecordByID(r.Context(), personID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}

func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request) error {
	personID, id, err := recordIDs(r)
	if err != nil {
		return err
	}
	u, err := decodeRecordPatch(r)
	if err != nil {
		return err
	}
	rec, err := s.people.UpdateRecord(r.Context(), personID, id, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}

// decodeRecordPatch reads a merge patch (RFC 7386) of a record, sent as
// application/merge-patch+json or application/json: a member left out
// stays, null removes it (only the body may be removed).
func decodeRecordPatch(r *http.Request) (tillit.RecordUpdate, error) {
	var u tillit.RecordUpdate
	var raw json.RawMessage
	if err := decodeJSONLimit(r, &raw, maxRecordBytes, "application/merge-patch+json", "application/json"); err != nil {
		return u, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return u, jsonError(err)
	}
	var members map[string]any
	if err := json.Unmarshal(raw, &members); err != nil {
		return u, jsonError(err)
	}
	for name, v := range members {
		if v != nil {
			continue
		}
		if name != "body" {
			return u, tillit.FieldErrorf(name, "%s cannot be removed; give a new value or leave it out", name)
		}
		u.Body = new(string)
	}
	return u, nil
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request) error {
	personID, id, err := recordIDs(r)
	if err != nil {
		return err
	}
	if err := s.people.DeleteRecord(r.Context(), personID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.people.FindSchema(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sc)
}

func (s *Server) putSchema(w http.ResponseWriter, r *http.Request) error {
	var sc tillit.Schema
	if err := decodeJSON(r, &sc); err != nil {
		return err
	}
	out, err := s.people.UpdateSchema(r.Context(), &sc)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
