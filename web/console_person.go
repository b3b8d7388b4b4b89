package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"tillit"
)

// A person's page: their standard attributes, the tenant's attributes
// labelled by the schema, and the timeline of their records, newest first,
// with a form to add one and, on each, a confirmed delete. The page is one
// event: the person read, with the attributes and records it shows.

// recordsPageSize is how many records a person's page shows.
const recordsPageSize = 50

// personPage is the data of a person's page.
type personPage struct {
	Person      personItem
	Attrs       []attrItem
	Records     []*tillit.Record
	MoreRecords string // the path of the page of older records, or ""
	Paged       bool   // the records are not the newest
	Categories  []option
	CanWrite    bool
	Rights      personRights // the rights panel: extract, export, restriction, hold, erasure
}

// attrItem is one tenant attribute of a person as the page shows it.
type attrItem struct {
	Name   string
	Class  tillit.Classification // "" for an attribute the schema no longer has
	Text   string                // the value; "" when the person has none
	IsBool bool
	Bool   bool
}

// attrItems returns the tenant attributes of p: those of the schema in
// its order, then any the schema no longer has, by name.
func attrItems(p *tillit.Person, sc *tillit.Schema) []attrItem {
	var out []attrItem
	for _, def := range sc.Attributes {
		it := attrItem{Name: def.Name, Class: def.Classification}
		if val, ok := p.Attributes[def.Name]; ok {
			it.Text, it.IsBool, it.Bool = attrText(val)
		}
		out = append(out, it)
	}
	var gone []string
	for name := range p.Attributes {
		if _, ok := sc.Attribute(name); !ok {
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	for _, name := range gone {
		it := attrItem{Name: name}
		it.Text, it.IsBool, it.Bool = attrText(p.Attributes[name])
		out = append(out, it)
	}
	return out
}

// attrText returns the text of an attribute's value, or whether it is a
// boolean and which.
func attrText(val any) (text string, isBool, b bool) {
	switch x := val.(type) {
	case bool:
		return "", true, x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), false, false
	case string:
		return x, false, false
	case nil:
		return "", false, false
	default:
		return fmt.Sprint(x), false, false
	}
}

// personPage shows a person and their records (?records= a cursor of
// older ones).
func (s *Server) personPage(w http.ResponseWriter, r *http.Request) error {
	v, data, err := s.personView(r, false)
	if err != nil {
		return err
	}
	v.Data = data
	return s.render(w, http.StatusOK, "person", v)
}

// personView returns the view and data of the page of the person the path
// names. The reads describe the request's event (the person and the
// records shown) unless keep, when the event is a change's.
func (s *Server) personView(r *http.Request, keep bool) (*view, *personPage, error) {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return nil, nil, tillit.Errorf(tillit.ENotFound, "no such person")
	}
	v, err := s.signedInView(r, "person.title", "people")
	if err != nil {
		return nil, nil, err
	}
	ctx := r.Context()
	sc, err := keepEvent(r, func() (*tillit.Schema, error) { return s.people.FindSchema(ctx) })
	if err != nil {
		return nil, nil, err
	}
	read := func() (*tillit.Person, error) { return s.people.FindPersonByID(ctx, id) }
	cursor := r.URL.Query().Get("records")
	records := func() (*tillit.RecordPage, error) {
		return s.people.FindRecords(ctx, id, tillit.RecordFilter{Cursor: cursor, Limit: recordsPageSize})
	}
	var p *tillit.Person
	var page *tillit.RecordPage
	if keep {
		p, err = keepEvent(r, read)
		if err == nil {
			page, err = keepEvent(r, records)
		}
	} else {
		p, err = read()
		if err == nil {
			page, err = alsoRead(r, records)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	item := personItem{p}
	data := &personPage{Person: item, Attrs: attrItems(p, sc), Records: page.Records, Paged: cursor != "",
		Categories: categoryOptions(sc), CanWrite: canWritePeople(r), Rights: s.newPersonRights(r, p)}
	if page.NextCursor != "" {
		data.MoreRecords = item.URL() + "?" + url.Values{"records": {page.NextCursor}}.Encode() + "#records"
	}
	return v, data, nil
}

// alsoRead runs f, a read of more about the object the request's event
// already names, and adds the fields f described to the event's, which
// keeps its action and target.
func alsoRead[T any](r *http.Request, f func() (T, error)) (T, error) {
	req := tillit.RequestFromContext(r.Context())
	if req == nil {
		return f()
	}
	action, target, fields := req.Event.Action, req.Event.Target, req.Event.Fields
	out, err := f()
	more := req.Event.Fields
	req.Event.Action, req.Event.Target = action, target
	req.Event.Fields = append(slices.Clip(fields), more...)
	return out, err
}

// createRecordForm adds a record to the person; the category is one of
// the schema's. The person's page shows it at the top of the timeline.
func (s *Server) createRecordForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return tillit.Errorf(tillit.ENotFound, "no such person")
	}
	rec := &tillit.Record{PersonID: id, Category: r.PostFormValue("category"), Title: r.PostFormValue("title"),
		Body: strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n")}
	err = s.people.CreateRecord(r.Context(), rec)
	if err == nil {
		return seeOther(w, personPath(id)+"?notice=record_added#records")
	}
	v, data, verr := s.personView(r, true)
	if verr != nil {
		return verr
	}
	v.Path, v.Data = personPath(id), data
	return s.formError(w, "person", "record", v, err)
}

// deleteRecordForm deletes a record of the person, once confirmed.
func (s *Server) deleteRecordForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	personID, id, err := recordIDs(r)
	if err != nil {
		return tillit.Errorf(tillit.ENotFound, "no such record")
	}
	if r.PostFormValue("confirm") != "yes" {
		// Unconfirmed: refused, but only once the person is known to be
		// there (another tenant's is not found, as always).
		if _, err := keepEvent(r, func() (*tillit.Person, error) {
			return s.people.FindPersonByID(r.Context(), personID)
		}); err != nil {
			return err
		}
		return tillit.FieldErrorf("confirm", "confirm the deletion with the button that says so")
	}
	if err := s.people.DeleteRecord(r.Context(), personID, id); err != nil {
		return err
	}
	return seeOther(w, personPath(personID)+"?notice=record_deleted#records")
}

// personPath returns the path of a person's page.
func personPath(id int64) string { return "/people/" + strconv.FormatInt(id, 10) }
