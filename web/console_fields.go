package web

import (
	"errors"
	"slices"
	"strings"

	"tillit"
)

// Form inputs of the register's pages beyond the layout's "field": inputs
// whose value is always filled in again, and labelled selects.

// option is one choice of a select: its text is the catalog's Key, or
// Text as it is (a country code, a tenant's own word).
type option struct {
	Value, Key, Text string
}

// selectView is one labelled select, rendered by the "select" template
// with its hint and error linked by aria-describedby.
type selectView struct {
	Name, Label, LabelText, Value, Error, Hint string
	Options                                    []option
}

// Input is Field for an input that never holds a secret: what the person
// sent is always filled in again (Field keeps back names ending in
// "code", such as a postal code).
func (v *view) Input(name, typ, label string, opts ...string) fieldView {
	f := v.Field(name, typ, label, opts...)
	if s := v.Value(name); s != "" {
		f.Value = s
	}
	return f
}

// Select returns the select name labelled by the catalog key label, with
// the choices options. Options are "hint=<key>", "value=…" (a default)
// and "labeltext=…" (a label as it is, instead of label's text).
func (v *view) Select(name, label string, options []option, opts ...string) selectView {
	s := selectView{Name: name, Label: label, Value: v.Value(name), Error: v.Err(name), Options: options}
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "hint":
			s.Hint = val
		case "value":
			if _, sent := v.Form[name]; !sent {
				s.Value = val
			}
		case "labeltext":
			s.Label, s.LabelText = "", val
		}
	}
	return s
}

// Category returns the text of a record category: the catalog's for the
// default ones, else the tenant's own word.
func (v *view) Category(c string) string {
	if v.cat.has("category." + c) {
		return v.cat.t("category." + c)
	}
	return c
}

// categoryOptions returns the categories of a schema as choices.
func categoryOptions(sc *tillit.Schema) []option {
	out := make([]option, len(sc.Categories))
	for i, c := range sc.Categories {
		out[i] = option{Value: c}
		if slices.Contains(tillit.DefaultCategories, c) {
			out[i].Key = "category." + c
		} else {
			out[i].Text = c
		}
	}
	return out
}

// localized returns err with the catalog text key where the view's
// language is not English: the service's messages are English, and name
// the exact rule, so English keeps them; in Norwegian and Swedish the
// console's text of that kind of field is better than a general one.
func localized(v *view, err error, key string) error {
	var te *tillit.Error
	if v.Lang == "en" || key == "" || !errors.As(err, &te) || te.Code != tillit.EInvalid {
		return err
	}
	return &textError{key: key, err: te}
}
