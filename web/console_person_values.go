package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"tillit"
)

// The person form's values: a person as the form holds them, the person a
// posted form describes, and the merge patch from one person to another.

// The inputs of the standard attributes, by the name of their field.
var personInputs = []string{tillit.AttrGivenName, tillit.AttrFamilyName, tillit.AttrNationalID,
	tillit.AttrNationalIDCountry, tillit.AttrBirthDate, tillit.AttrEmail, tillit.AttrPhone, tillit.AttrLanguage}

// personText returns the standard attribute name of p.
func personText(p *tillit.Person, name string) *string {
	switch name {
	case tillit.AttrGivenName:
		return &p.GivenName
	case tillit.AttrFamilyName:
		return &p.FamilyName
	case tillit.AttrNationalID:
		return &p.NationalID
	case tillit.AttrNationalIDCountry:
		return &p.NationalIDCountry
	case tillit.AttrBirthDate:
		return &p.BirthDate
	case tillit.AttrEmail:
		return &p.Email
	case tillit.AttrPhone:
		return &p.Phone
	default:
		return &p.Language
	}
}

// addressInputs are the inputs of the address, by field name.
var addressInputs = []string{"address.street", "address.postal_code", "address.city", "address.country"}

// addressPart returns the part of a that the field name holds.
func addressPart(a *tillit.Address, name string) *string {
	switch name {
	case "address.street":
		return &a.Street
	case "address.postal_code":
		return &a.PostalCode
	case "address.city":
		return &a.City
	default:
		return &a.Country
	}
}

// personFormValues returns the form of p, filled in.
func personFormValues(p *tillit.Person) url.Values {
	f := url.Values{}
	for _, name := range personInputs {
		f.Set(name, *personText(p, name))
	}
	a := tillit.Address{}
	if p.Address != nil {
		a = *p.Address
	}
	for _, name := range addressInputs {
		f.Set(name, *addressPart(&a, name))
	}
	for name, val := range p.Attributes {
		f.Set("attributes."+name, attrFormText(val))
	}
	return f
}

// attrFormText returns an attribute's value as its input holds it.
func attrFormText(val any) string {
	if b, ok := val.(bool); ok {
		return strconv.FormatBool(b)
	}
	text, _, _ := attrText(val)
	return text
}

// personFromForm returns the person the form describes: the tenant's
// attributes converted to their types. Errors: EInvalid, naming the input.
func personFromForm(f url.Values, sc *tillit.Schema) (*tillit.Person, error) {
	p := &tillit.Person{}
	for _, name := range personInputs {
		*personText(p, name) = strings.TrimSpace(f.Get(name))
	}
	var a tillit.Address
	for _, name := range addressInputs {
		*addressPart(&a, name) = strings.TrimSpace(f.Get(name))
	}
	if a != (tillit.Address{}) {
		p.Address = &a
	}
	for _, def := range sc.Attributes {
		val, err := attrFromForm(def, strings.TrimSpace(f.Get("attributes."+def.Name)))
		if err != nil {
			return nil, err
		}
		if val != nil {
			if p.Attributes == nil {
				p.Attributes = map[string]any{}
			}
			p.Attributes[def.Name] = val
		}
	}
	return p, nil
}

// attrFromForm converts the text of an attribute's input to its type: nil
// when empty. Dates, strings and enums are the service's to check.
func attrFromForm(def tillit.AttributeDef, text string) (any, error) {
	field := "attributes." + def.Name
	switch {
	case text == "":
		return nil, nil
	case def.Type == tillit.TypeNumber:
		if !strings.Contains(text, ".") {
			text = strings.Replace(text, ",", ".", 1) // 3,5 as Nordic people write it
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalidForm(field, "err.field.attribute_number")
		}
		return f, nil
	case def.Type == tillit.TypeBoolean:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, invalidForm(field, "err.field.attribute")
		}
		return b, nil
	}
	return text, nil
}

// personPatch returns the merge patch (RFC 7386) from old to next: the
// attributes that changed, null for those emptied. A national id that
// changes takes its country along, and a birth date left as it was is
// derived from the new number again (or kept, when the number is removed). Attributes the schema no longer has
// are removed.
func personPatch(old, next *tillit.Person, sc *tillit.Schema) map[string]any {
	patch := map[string]any{}
	set := func(name string, was, now any, empty bool) {
		if fmt.Sprint(was) == fmt.Sprint(now) {
			return
		}
		if empty {
			now = nil
		}
		patch[name] = now
	}
	for _, name := range personInputs {
		was, now := *personText(old, name), *personText(next, name)
		set(name, was, now, now == "")
	}
	if _, ok := patch[tillit.AttrNationalID]; ok {
		patch[tillit.AttrNationalIDCountry] = nilIfEmpty(next.NationalIDCountry)
		switch {
		case next.NationalID == "": // the birth date stays, unless emptied too
			patch[tillit.AttrBirthDate] = nilIfEmpty(next.BirthDate)
		case old.BirthDate == next.BirthDate:
			delete(patch, tillit.AttrBirthDate)
		}
	}
	was, now := tillit.Address{}, tillit.Address{}
	if old.Address != nil {
		was = *old.Address
	}
	if next.Address != nil {
		now = *next.Address
	}
	if was != now {
		parts := map[string]any{}
		for _, name := range addressInputs {
			parts[strings.TrimPrefix(name, "address.")] = nilIfEmpty(*addressPart(&now, name))
		}
		patch[tillit.AttrAddress] = parts
		if next.Address == nil {
			patch[tillit.AttrAddress] = nil
		}
	}
	attrs := map[string]any{}
	for name := range old.Attributes {
		if _, ok := sc.Attribute(name); !ok {
			attrs[name] = nil
		}
	}
	for _, def := range sc.Attributes {
		was, had := old.Attributes[def.Name]
		now, has := next.Attributes[def.Name]
		if had != has || fmt.Sprint(was) != fmt.Sprint(now) {
			attrs[def.Name] = now // nil when emptied
		}
	}
	if len(attrs) > 0 {
		patch["attributes"] = attrs
	}
	return patch
}

// nilIfEmpty returns s, or nil (JSON null) for "".
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
