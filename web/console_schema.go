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

// The tenant's schema: its own attributes of people and its record
// categories. Anyone who may read the tenant sees them; tenant:write
// replaces them with the form, one fieldset per attribute and an empty
// one to add another, categories as one comma-separated input.

// schemaPage is the data of the schema page.
type schemaPage struct {
	Schema   *tillit.Schema // as stored
	Rows     []schemaRow    // the form's attributes
	CanWrite bool
	Types    []option
	Classes  []option
}

// schemaRow is one attribute of the form: its inputs are named
// "attributes[N].name" and so on, as the service names their errors.
type schemaRow struct {
	N      int
	Prefix string // "attributes[N]"
	Name   string // the legend: the attribute's name, if it has one
	New    bool   // the empty row, to add an attribute
}

// The choices of an attribute's type and classification.
var (
	typeOptions = []option{
		{Value: string(tillit.TypeString), Key: "schema.type.string"},
		{Value: string(tillit.TypeNumber), Key: "schema.type.number"},
		{Value: string(tillit.TypeBoolean), Key: "schema.type.boolean"},
		{Value: string(tillit.TypeDate), Key: "schema.type.date"},
		{Value: string(tillit.TypeEnum), Key: "schema.type.enum"},
	}
	classOptions = []option{
		{Value: string(tillit.ClassPersonal), Key: "schema.class.personal"},
		{Value: string(tillit.ClassSpecial), Key: "schema.class.special"},
		{Value: string(tillit.ClassNonPersonal), Key: "schema.class.non_personal"},
	}
)

// schemaPage shows the schema and, to those who may change it, its form.
func (s *Server) schemaPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "schema.title", "schema")
	if err != nil {
		return err
	}
	sc, err := s.people.FindSchema(r.Context())
	if err != nil {
		return err
	}
	v.Form = schemaFormValues(sc)
	v.Data = newSchemaPage(sc, v.Form, canWriteTenant(r))
	return s.render(w, http.StatusOK, "schema", v)
}

// canWriteTenant reports whether the principal of r may change the
// tenant's schema.
func canWriteTenant(r *http.Request) bool {
	return tillit.PrincipalFromContext(r.Context()).Can(tillit.PermTenantWrite)
}

// newSchemaPage returns the data of the schema page, its form's rows as
// form has them.
func newSchemaPage(sc *tillit.Schema, form url.Values, canWrite bool) schemaPage {
	n, _ := strconv.Atoi(form.Get("rows"))
	n = min(max(n, 0), tillit.MaxAttributes+1)
	rows := make([]schemaRow, n)
	for i := range rows {
		prefix := fmt.Sprintf("attributes[%d]", i)
		rows[i] = schemaRow{N: i, Prefix: prefix, Name: strings.TrimSpace(form.Get(prefix + ".name")),
			New: form.Get(prefix+".new") == "1"}
	}
	return schemaPage{Schema: sc, Rows: rows, Types: typeOptions, Classes: classOptions, CanWrite: canWrite}
}

// schemaFormValues returns the form of sc, with an empty row at the end.
func schemaFormValues(sc *tillit.Schema) url.Values {
	f := url.Values{}
	for i, a := range sc.Attributes {
		prefix := fmt.Sprintf("attributes[%d]", i)
		f.Set(prefix+".name", a.Name)
		f.Set(prefix+".type", string(a.Type))
		f.Set(prefix+".classification", string(a.Classification))
		f.Set(prefix+".values", strings.Join(a.Values, ", "))
		if a.Required {
			f.Set(prefix+".required", "on")
		}
	}
	f.Set(fmt.Sprintf("attributes[%d].new", len(sc.Attributes)), "1")
	f.Set("rows", strconv.Itoa(len(sc.Attributes)+1))
	f.Set("categories", strings.Join(sc.Categories, ", "))
	return f
}

// updateSchemaForm replaces the schema with the form's.
func (s *Server) updateSchemaForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "schema.title", "schema")
	if err != nil {
		return err
	}
	sc, rows, err := schemaFromForm(r.PostForm)
	if err == nil {
		_, err = s.people.UpdateSchema(r.Context(), sc)
	}
	if err == nil {
		return seeOther(w, "/schema?notice=schema_saved")
	}
	stored, serr := keepEvent(r, func() (*tillit.Schema, error) { return s.people.FindSchema(r.Context()) })
	if serr != nil {
		return serr
	}
	v.Data = newSchemaPage(stored, r.PostForm, canWriteTenant(r))
	return s.formError(w, "schema", "schema", v, schemaFormError(v, err, rows))
}

// schemaFromForm returns the schema the form describes and, for each of
// its attributes, the form's row. A row marked for removal, or without a
// name and values, is left out. Errors: EInvalid.
func schemaFromForm(f url.Values) (*tillit.Schema, []int, error) {
	n, err := strconv.Atoi(f.Get("rows"))
	if err != nil || n < 0 || n > tillit.MaxAttributes+1 {
		return nil, nil, tillit.Errorf(tillit.EInvalid, "the form is not the schema page's; load the page again")
	}
	sc := &tillit.Schema{Attributes: []tillit.AttributeDef{}, Categories: []string{}}
	var rows []int
	for i := range n {
		prefix := fmt.Sprintf("attributes[%d]", i)
		name := strings.TrimSpace(f.Get(prefix + ".name"))
		values := splitList(f.Get(prefix + ".values"))
		if f.Get(prefix+".remove") == "on" || (name == "" && len(values) == 0) {
			continue
		}
		sc.Attributes = append(sc.Attributes, tillit.AttributeDef{Name: name,
			Type:           tillit.AttributeType(f.Get(prefix + ".type")),
			Classification: tillit.Classification(f.Get(prefix + ".classification")),
			Required:       f.Get(prefix+".required") == "on", Values: values})
		rows = append(rows, i)
	}
	sc.Categories = splitList(f.Get("categories"))
	return sc, rows, nil
}

// splitList splits a comma-separated input into its trimmed, non-empty
// items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

var attrFieldRE = regexp.MustCompile(`^attributes\[(\d+)\]\.(name|type|classification|values)$`)

// schemaFormError returns err naming the form's input at fault: the
// service counts the attributes it was given, the form counts its rows
// (rows[i] is the row of attribute i).
func schemaFormError(v *view, err error, rows []int) error {
	field := tillit.ErrorField(err)
	if strings.HasPrefix(field, "categories") {
		return withField(err, "categories")
	}
	m := attrFieldRE.FindStringSubmatch(field)
	if m == nil {
		return err
	}
	i, _ := strconv.Atoi(m[1])
	if i < len(rows) {
		err = withField(err, fmt.Sprintf("attributes[%d].%s", rows[i], m[2]))
	}
	return localized(v, err, "err.field.attribute_"+m[2])
}
