package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"tillit"
)

// The tenant's purposes of processing and their legal bases, which every
// register extract lists. Anyone who may read the tenant sees them;
// purpose:write replaces them with the form, one fieldset per purpose and
// an empty one to add another, as the schema editor does.

// purposesPage is the data of the purposes page.
type purposesPage struct {
	Purposes []tillit.Purpose // as stored
	Rows     []purposeRow     // the form's
	CanWrite bool
	Bases    []option
}

// purposeRow is one purpose of the form: its inputs are named
// "purposes[N].name" and so on.
type purposeRow struct {
	N      int
	Prefix string // "purposes[N]"
	Name   string // the legend: the purpose's name, if it has one
	New    bool   // the empty row, to add a purpose
}

// legalBasisOptions are the choices of a purpose's legal basis, in the
// order of Art. 6(1).
func legalBasisOptions() []option {
	out := make([]option, len(tillit.LegalBases))
	for i, b := range tillit.LegalBases {
		out[i] = option{Value: b, Key: "purposes.basis." + b}
	}
	return out
}

// purposesPage shows the purposes and, to those who may change them, the
// form.
func (s *Server) purposesPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "purposes.title", "purposes")
	if err != nil {
		return err
	}
	list, err := s.people.Purposes(r.Context())
	if err != nil {
		return err
	}
	v.Form = purposeFormValues(list)
	v.Data = newPurposesPage(list, v.Form, canWritePurposes(r))
	return s.render(w, http.StatusOK, "purposes", v)
}

// canWritePurposes reports whether the principal of r may change the
// purposes.
func canWritePurposes(r *http.Request) bool {
	return tillit.PrincipalFromContext(r.Context()).Can(tillit.PermPurposeWrite)
}

// newPurposesPage returns the data of the page, its form's rows as form
// has them.
func newPurposesPage(list []tillit.Purpose, form url.Values, canWrite bool) *purposesPage {
	n, _ := strconv.Atoi(form.Get("rows"))
	n = min(max(n, 0), tillit.MaxPurposes+1)
	rows := make([]purposeRow, n)
	for i := range rows {
		prefix := fmt.Sprintf("purposes[%d]", i)
		rows[i] = purposeRow{N: i, Prefix: prefix, Name: strings.TrimSpace(form.Get(prefix + ".name")),
			New: form.Get(prefix+".new") == "1"}
	}
	return &purposesPage{Purposes: list, Rows: rows, CanWrite: canWrite, Bases: legalBasisOptions()}
}

// purposeFormValues returns the form of list, with an empty row at the
// end (unless the list is full).
func purposeFormValues(list []tillit.Purpose) url.Values {
	f := url.Values{}
	for i, p := range list {
		prefix := fmt.Sprintf("purposes[%d]", i)
		f.Set(prefix+".name", p.Name)
		f.Set(prefix+".legal_basis", p.LegalBasis)
		f.Set(prefix+".description", p.Description)
		f.Set(prefix+".categories", strings.Join(p.Categories, ", "))
	}
	n := len(list)
	if n < tillit.MaxPurposes {
		f.Set(fmt.Sprintf("purposes[%d].new", n), "1")
		n++
	}
	f.Set("rows", strconv.Itoa(n))
	return f
}

// updatePurposesForm replaces the purposes with the form's.
func (s *Server) updatePurposesForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "purposes.title", "purposes")
	if err != nil {
		return err
	}
	list, rows, err := purposesFromForm(r.PostForm)
	if err == nil {
		_, err = s.people.SetPurposes(r.Context(), list)
	}
	if err == nil {
		return seeOther(w, "/purposes?notice=purposes_saved")
	}
	stored, serr := keepEvent(r, func() ([]tillit.Purpose, error) { return s.people.Purposes(r.Context()) })
	if serr != nil {
		return serr
	}
	v.Data = newPurposesPage(stored, r.PostForm, canWritePurposes(r))
	return s.formError(w, "purposes", "purposes", v, purposeFormError(err, rows))
}

// purposesFromForm returns the purposes the form describes and, for each,
// the form's row. A row marked for removal, or empty, is left out.
// Errors: EInvalid.
func purposesFromForm(f url.Values) ([]tillit.Purpose, []int, error) {
	n, err := strconv.Atoi(f.Get("rows"))
	if err != nil || n < 0 || n > tillit.MaxPurposes+1 {
		return nil, nil, tillit.Errorf(tillit.EInvalid, "the form is not the purposes page's; load the page again")
	}
	list := []tillit.Purpose{}
	var rows []int
	for i := range n {
		prefix := fmt.Sprintf("purposes[%d]", i)
		p := tillit.Purpose{Name: strings.TrimSpace(f.Get(prefix + ".name")), LegalBasis: f.Get(prefix + ".legal_basis"),
			Description: strings.TrimSpace(f.Get(prefix + ".description")), Categories: splitList(f.Get(prefix + ".categories"))}
		if f.Get(prefix+".remove") == "on" || (p.Name == "" && p.Description == "" && len(p.Categories) == 0) {
			continue
		}
		if p.Name == "" {
			return nil, nil, invalidForm(prefix+".name", "err.field.purpose_name")
		}
		list = append(list, p)
		rows = append(rows, i)
	}
	return list, rows, nil
}

var purposeFieldRE = regexp.MustCompile(`^(?:purposes)?\[(\d+)\]\.(name|legal_basis|description|categories)$`)

// purposeFormError returns err naming the form's input at fault: the
// service counts the purposes it was given, the form counts its rows, and
// the catalog's text of the field.
func purposeFormError(err error, rows []int) error {
	if _, ok := err.(*textError); ok || tillit.ErrorCode(err) != tillit.EInvalid {
		return err
	}
	m := purposeFieldRE.FindStringSubmatch(tillit.ErrorField(err))
	if m == nil {
		return err
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(rows) {
		return err
	}
	return invalidForm(fmt.Sprintf("purposes[%d].%s", rows[i], m[2]), "err.field.purpose_"+m[2])
}
