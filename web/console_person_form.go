package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"tillit"
)

// The form of a person, new or edited: the standard attributes and the
// tenant's, by the schema. A new person is created from what is filled in;
// an edit sends the service a merge patch of what changed, so that the
// audit event names only those attributes. A value the service refuses is
// shown next to its input, named by tillit.ErrorField.

// personFormPage is the data of the person form.
type personFormPage struct {
	ID        int64      // 0 for a new person
	Person    personItem // the person edited; nil Person for a new one
	Attrs     []tillit.AttributeDef
	Dropped   []string // attributes the person has that the schema no longer has: removed on saving
	Countries []option
}

// Action returns the path the form posts to.
func (p personFormPage) Action() string {
	if p.ID == 0 {
		return "/people/new"
	}
	return personPath(p.ID) + "/edit"
}

// countryOptions are the choices of a national identity number's country.
func countryOptions() []option {
	out := []option{{Value: "", Key: "person.country_detect"}}
	for _, c := range tillit.NationalIDCountries {
		out = append(out, option{Value: c, Key: "country." + c})
	}
	return out
}

// attrFieldView is the input of a tenant attribute: a select for enums
// and booleans, else an input.
type attrFieldView struct {
	Field     fieldView
	Select    *selectView
	LabelText string
	Required  bool
}

// AttrField returns the input of the tenant attribute def.
func (v *view) AttrField(def tillit.AttributeDef) attrFieldView {
	name := "attributes." + def.Name
	a := attrFieldView{LabelText: def.Name, Required: def.Required}
	notSet := option{Value: "", Key: "person.not_set"}
	switch def.Type {
	case tillit.TypeEnum, tillit.TypeBoolean:
		opts := []option{notSet, {Value: "true", Key: "person.yes"}, {Value: "false", Key: "person.no"}}
		if def.Type == tillit.TypeEnum {
			opts = []option{notSet}
			for _, val := range def.Values {
				opts = append(opts, option{Value: val, Text: val})
			}
		}
		s := v.Select(name, "", opts, "labeltext="+def.Name)
		a.Select = &s
	case tillit.TypeNumber:
		a.Field = v.Input(name, "text", "", "inputmode=decimal", "autocomplete=off")
	case tillit.TypeDate:
		a.Field = v.Input(name, "date", "")
	default:
		a.Field = v.Input(name, "text", "", "autocomplete=off")
	}
	a.Field.Required = def.Required
	return a
}

// newPersonPage shows the form of a new person.
func (s *Server) newPersonPage(w http.ResponseWriter, r *http.Request) error {
	v, sc, err := s.personFormView(r, "person.new_title")
	if err != nil {
		return err
	}
	v.Data = personFormPage{Attrs: sc.Attributes, Countries: countryOptions()}
	return s.render(w, http.StatusOK, "person_form", v)
}

// personFormView returns the view of the person form and the schema.
func (s *Server) personFormView(r *http.Request, title string) (*view, *tillit.Schema, error) {
	v, err := s.signedInView(r, title, "people")
	if err != nil {
		return nil, nil, err
	}
	sc, err := keepEvent(r, func() (*tillit.Schema, error) { return s.people.FindSchema(r.Context()) })
	return v, sc, err
}

// createPersonForm creates a person from the form and shows their page.
func (s *Server) createPersonForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, sc, err := s.personFormView(r, "person.new_title")
	if err != nil {
		return err
	}
	v.Data = personFormPage{Attrs: sc.Attributes, Countries: countryOptions()}
	p, err := personFromForm(r.PostForm, sc)
	if err == nil {
		err = s.people.CreatePerson(r.Context(), p)
	}
	if err != nil {
		return s.formError(w, "person_form", "person", v, personFormError(v, err))
	}
	return seeOther(w, personPath(p.ID)+"?notice=person_created")
}

// editPersonPage shows the form of the person the path names, filled in.
func (s *Server) editPersonPage(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return tillit.Errorf(tillit.ENotFound, "no such person")
	}
	v, sc, err := s.personFormView(r, "person.edit_title")
	if err != nil {
		return err
	}
	p, err := s.people.FindPersonByID(r.Context(), id)
	if err != nil {
		return err
	}
	v.Form = personFormValues(p)
	v.Data = editFormPage(p, sc)
	return s.render(w, http.StatusOK, "person_form", v)
}

// editFormPage returns the data of the form editing p.
func editFormPage(p *tillit.Person, sc *tillit.Schema) personFormPage {
	data := personFormPage{ID: p.ID, Person: personItem{p}, Attrs: sc.Attributes, Countries: countryOptions()}
	for name := range p.Attributes {
		if _, ok := sc.Attribute(name); !ok {
			data.Dropped = append(data.Dropped, name)
		}
	}
	slices.Sort(data.Dropped)
	return data
}

// updatePersonForm saves what changed in the form of the person the path
// names, and shows their page.
func (s *Server) updatePersonForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return tillit.Errorf(tillit.ENotFound, "no such person")
	}
	v, sc, err := s.personFormView(r, "person.edit_title")
	if err != nil {
		return err
	}
	old, err := keepEvent(r, func() (*tillit.Person, error) { return s.people.FindPersonByID(r.Context(), id) })
	if err != nil {
		return err
	}
	v.Data = editFormPage(old, sc)
	next, err := personFromForm(r.PostForm, sc)
	if err == nil {
		var patch []byte
		if patch, err = json.Marshal(personPatch(old, next, sc)); err == nil {
			_, err = s.people.UpdatePerson(r.Context(), id, patch)
		}
	}
	if err != nil {
		return s.formError(w, "person_form", "person", v, personFormError(v, err))
	}
	return seeOther(w, personPath(id)+"?notice=person_saved")
}

// personFormError returns err with the text of its kind of field: a
// tenant attribute's, or that of the input it names.
func personFormError(v *view, err error) error {
	if strings.HasPrefix(tillit.ErrorField(err), "attributes.") {
		return localized(v, err, "err.field.attribute")
	}
	return err
}
