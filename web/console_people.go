package web

import (
	"net/http"
	"net/url"
	"strings"

	"tillit"
)

// The register in the console: a page of people, which the browser can
// filter by name, and an exact lookup by e-mail, phone or national
// identity number. Lookups are posted, so that the value never reaches a
// URL. Each person a page shows is an event of the list or lookup (the
// service records them); links name people by id only.

// peoplePageSize is how many people a page of the list shows.
const peoplePageSize = 50

// personItem is a person as the pages show them.
type personItem struct{ *tillit.Person }

// Name returns the person's given and family name, or "".
func (p personItem) Name() string {
	return strings.TrimSpace(p.GivenName + " " + p.FamilyName)
}

// URL returns the path of the person's page: by id, never by a value.
func (p personItem) URL() string { return personPath(p.ID) }

// personItems wraps people for the pages.
func personItems(people []*tillit.Person) []personItem {
	out := make([]personItem, len(people))
	for i, p := range people {
		out[i] = personItem{p}
	}
	return out
}

// peoplePage is the data of the people page: a page of the list, or the
// matches of a lookup.
type peoplePage struct {
	People   []personItem
	Sort     string // "id" or "family_name"
	Next     string // the path of the next page, or ""
	Paged    bool   // a page after the first
	Lookup   bool   // the page answers a lookup: People are its matches
	CanWrite bool
	By       []option // what a lookup may look by
}

// lookupChoices are what the lookup form looks by.
var lookupChoices = []option{
	{Value: tillit.AttrEmail, Key: "people.by_email"},
	{Value: tillit.AttrPhone, Key: "people.by_phone"},
	{Value: tillit.AttrNationalID, Key: "people.by_national_id"},
}

// canWritePeople reports whether the principal of r may change the
// register.
func canWritePeople(r *http.Request) bool {
	return tillit.PrincipalFromContext(r.Context()).Can(tillit.PermPersonWrite)
}

// peoplePage shows a page of the register, by id or by family name
// (?sort=family_name), from ?cursor= of the previous page.
func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "people.title", "people")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	sort := tillit.SortByID
	if q.Get("sort") == string(tillit.SortByFamilyName) {
		sort = tillit.SortByFamilyName
	}
	page, err := s.people.FindPeople(r.Context(), tillit.PersonFilter{Sort: sort, Cursor: q.Get("cursor"), Limit: peoplePageSize})
	if err != nil {
		return err
	}
	data := peoplePage{People: personItems(page.People), Sort: string(sort), Paged: q.Get("cursor") != "",
		CanWrite: canWritePeople(r), By: lookupChoices}
	if page.NextCursor != "" {
		data.Next = "/people?" + url.Values{"sort": {string(sort)}, "cursor": {page.NextCursor}}.Encode()
	}
	v.Data = data
	return s.render(w, http.StatusOK, "people", v)
}

// lookupPeopleForm finds the people with the posted e-mail address, phone
// number or national identity number, and shows them.
func (s *Server) lookupPeopleForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "people.lookup_title", "people")
	if err != nil {
		return err
	}
	v.Path = "/people" // the lookup has no page to come back to
	data := peoplePage{Lookup: true, Sort: string(tillit.SortByID), CanWrite: canWritePeople(r), By: lookupChoices}
	v.Data = data
	l, err := personLookup(r)
	if err != nil {
		return s.formError(w, "people", "lookup", v, err)
	}
	found, err := s.people.LookupPeople(r.Context(), l)
	if err != nil {
		return s.formError(w, "people", "lookup", v, withField(err, "lookup_value"))
	}
	data.People = personItems(found)
	v.Data = data
	return s.render(w, http.StatusOK, "people", v)
}

// personLookup returns the lookup the form asks for.
func personLookup(r *http.Request) (tillit.PersonLookup, error) {
	var l tillit.PersonLookup
	value := strings.TrimSpace(r.PostFormValue("lookup_value"))
	if value == "" {
		return l, invalidForm("lookup_value", "err.field.lookup_value")
	}
	switch r.PostFormValue("by") {
	case tillit.AttrEmail:
		l.Email = value
	case tillit.AttrPhone:
		l.Phone = value
	case tillit.AttrNationalID:
		l.NationalID = value
	default:
		return l, invalidForm("by", "err.field.by")
	}
	return l, nil
}

// withField returns err as an error of the form's input field: the
// service names its own field ("email"), which the form calls otherwise.
// Errors that are not the input's (internal, unavailable) stay as they are.
func withField(err error, field string) error {
	code := tillit.ErrorCode(err)
	if code != tillit.EInvalid && code != tillit.EConflict {
		return err
	}
	return &tillit.Error{Code: code, Message: tillit.ErrorMessage(err), Field: field, Err: err}
}
