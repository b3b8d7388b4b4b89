package sqldb

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tillit"
	"tillit/ident"
)

// Limits of a person's values.
const (
	maxNameLen  = 200  // characters of a name or a line of an address
	maxValueLen = 4000 // characters of a tenant attribute's string value
)

var languageRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// personIndexes are the normalised values a person is found by.
type personIndexes struct {
	email, phone, nationalID string // "" when the person has none
}

// normalizePerson validates p against the tenant's schema and settings and
// normalises it in place (trims, E.164 phone, national id without
// separators, birth date derived). It returns the values to index.
func normalizePerson(p *tillit.Person, schema *tillit.Schema, settings tillit.TenantSettings, now time.Time) (personIndexes, error) {
	var ix personIndexes
	for _, f := range []struct {
		name string
		v    *string
	}{{tillit.AttrGivenName, &p.GivenName}, {tillit.AttrFamilyName, &p.FamilyName}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkText(f.name, *f.v, maxNameLen); err != nil {
			return ix, err
		}
	}
	p.NationalIDCountry = strings.ToUpper(strings.TrimSpace(p.NationalIDCountry))
	p.NationalID = strings.TrimSpace(p.NationalID)
	p.BirthDate = strings.TrimSpace(p.BirthDate)
	if p.BirthDate != "" {
		d, err := time.Parse(time.DateOnly, p.BirthDate)
		if err != nil {
			return ix, tillit.FieldErrorf(tillit.AttrBirthDate, "birth_date must be a date written YYYY-MM-DD")
		}
		if d.After(now) {
			return ix, tillit.FieldErrorf(tillit.AttrBirthDate, "birth_date is in the future")
		}
	}
	switch {
	case p.NationalID != "":
		if p.NationalIDCountry == "" {
			cands := ident.NationalIDCandidates(p.NationalID, now)
			if len(cands) == 0 {
				return ix, tillit.FieldErrorf(tillit.AttrNationalID, "national_id is not a valid Swedish, Norwegian, Danish or Finnish identity number; give national_id_country to learn why")
			}
			if len(cands) > 1 {
				return ix, tillit.FieldErrorf(tillit.AttrNationalIDCountry, "national_id_country is needed with this national_id: it is valid in more than one country (SE, NO, DK or FI)")
			}
			p.NationalIDCountry = cands[0].Country
		}
		if !slices.Contains(tillit.NationalIDCountries, p.NationalIDCountry) {
			return ix, tillit.FieldErrorf(tillit.AttrNationalIDCountry, "national_id_country must be SE, NO, DK or FI")
		}
		norm, birth, err := ident.NationalID(tillit.AttrNationalID, p.NationalIDCountry, p.NationalID, now)
		if err != nil {
			return ix, err
		}
		if p.BirthDate == "" {
			p.BirthDate = birth
		} else if p.BirthDate != birth {
			return ix, tillit.FieldErrorf(tillit.AttrBirthDate, "birth_date does not match the date in national_id; leave it out to derive it")
		}
		p.NationalID = norm
		ix.nationalID = p.NationalIDCountry + ":" + norm
	case p.NationalIDCountry != "":
		return ix, tillit.FieldErrorf(tillit.AttrNationalIDCountry, "national_id_country is given without national_id")
	}
	if p.Email = strings.TrimSpace(p.Email); p.Email != "" {
		stored, key, err := ident.Email(tillit.AttrEmail, p.Email)
		if err != nil {
			return ix, err
		}
		p.Email, ix.email = stored, key
	}
	if p.Phone = strings.TrimSpace(p.Phone); p.Phone != "" {
		e164, err := ident.Phone(tillit.AttrPhone, p.Phone, settings.Country)
		if err != nil {
			return ix, err
		}
		p.Phone, ix.phone = e164, e164
	}
	if p.Address != nil {
		a := p.Address
		for _, f := range []struct {
			name string
			v    *string
		}{{"address.street", &a.Street}, {"address.postal_code", &a.PostalCode}, {"address.city", &a.City}} {
			*f.v = strings.TrimSpace(*f.v)
			if err := checkText(f.name, *f.v, maxNameLen); err != nil {
				return ix, err
			}
		}
		a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
		if a.Country != "" && (len(a.Country) != 2 || a.Country[0] < 'A' || a.Country[0] > 'Z' || a.Country[1] < 'A' || a.Country[1] > 'Z') {
			return ix, tillit.FieldErrorf("address.country", "address.country must be a two-letter country code such as NO or SE")
		}
		if *a == (tillit.Address{}) {
			p.Address = nil
		}
	}
	if p.Language = strings.TrimSpace(p.Language); p.Language != "" && !languageRE.MatchString(p.Language) {
		return ix, tillit.FieldErrorf(tillit.AttrLanguage, "language must be a language tag such as nb, sv, en or nn-NO")
	}
	if err := checkAttributes(p.Attributes, schema); err != nil {
		return ix, err
	}
	if len(p.Attributes) == 0 {
		p.Attributes = nil
	}
	if p.CollectedAt.After(now.Add(time.Minute)) {
		return ix, tillit.FieldErrorf("collected_at", "collected_at is in the future")
	}
	return ix, nil
}

// checkText checks a value of free text: valid UTF-8, no control
// characters, at most max characters.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return tillit.FieldErrorf(field, "%s is not valid UTF-8 text", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return tillit.FieldErrorf(field, "%s has %d characters; at most %d are allowed", field, n, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return tillit.FieldErrorf(field, "%s holds a control character (such as a line break or tab)", field)
		}
	}
	return nil
}

// checkAttributes checks the tenant-defined attributes of a person against
// the schema: every one defined, of its type, the required ones present.
// Numbers are float64 (as encoding/json decodes them).
func checkAttributes(attrs map[string]any, schema *tillit.Schema) error {
	for name, v := range attrs {
		field := "attributes." + name
		def, ok := schema.Attribute(name)
		if !ok {
			return tillit.FieldErrorf(field, "%s is not an attribute of this tenant's schema; define it with PUT /api/v1/schema first", field)
		}
		if v == nil {
			delete(attrs, name)
			continue
		}
		switch def.Type {
		case tillit.TypeString:
			s, ok := v.(string)
			if !ok {
				return tillit.FieldErrorf(field, "%s must be a string", field)
			}
			if err := checkText(field, s, maxValueLen); err != nil {
				return err
			}
		case tillit.TypeNumber:
			f, ok := v.(float64)
			if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
				return tillit.FieldErrorf(field, "%s must be a number", field)
			}
		case tillit.TypeBoolean:
			if _, ok := v.(bool); !ok {
				return tillit.FieldErrorf(field, "%s must be true or false", field)
			}
		case tillit.TypeDate:
			s, ok := v.(string)
			if _, err := time.Parse(time.DateOnly, s); !ok || err != nil {
				return tillit.FieldErrorf(field, "%s must be a date written YYYY-MM-DD", field)
			}
		case tillit.TypeEnum:
			s, ok := v.(string)
			if !ok || !slices.Contains(def.Values, s) {
				return tillit.FieldErrorf(field, "%s must be one of: %s", field, strings.Join(def.Values, ", "))
			}
		default:
			return fmt.Errorf("attribute %s has unknown type %q", name, def.Type)
		}
	}
	for _, def := range schema.Attributes {
		if _, ok := attrs[def.Name]; def.Required && !ok {
			return tillit.FieldErrorf("attributes."+def.Name, "attributes.%s is required by this tenant's schema", def.Name)
		}
	}
	return nil
}
