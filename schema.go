package tillit

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// AttributeType is the type of a tenant-defined attribute's values.
type AttributeType string

// The attribute types. Dates are YYYY-MM-DD strings; numbers are JSON
// numbers; enums are one of the attribute's Values.
const (
	TypeString  AttributeType = "string"
	TypeNumber  AttributeType = "number"
	TypeBoolean AttributeType = "boolean"
	TypeDate    AttributeType = "date"
	TypeEnum    AttributeType = "enum"
)

// Classification says how sensitive an attribute is.
type Classification string

// The classifications. Personal and special values are sealed; only
// non_personal ones (such as a municipality code) may be stored unsealed,
// for statistics.
const (
	ClassPersonal    Classification = "personal"
	ClassSpecial     Classification = "special" // GDPR Art. 9: health, religion, union membership…
	ClassNonPersonal Classification = "non_personal"
)

// Sealed reports whether values of the classification are sealed at rest.
func (c Classification) Sealed() bool { return c != ClassNonPersonal }

// AttributeDef is a tenant-defined attribute of people.
type AttributeDef struct {
	Name           string         `json:"name"`
	Type           AttributeType  `json:"type"`
	Classification Classification `json:"classification"`
	Required       bool           `json:"required,omitempty"`
	Values         []string       `json:"values,omitempty"` // the choices of an enum
}

// Schema is a tenant's own attributes and record categories.
type Schema struct {
	Attributes []AttributeDef `json:"attributes"`
	Categories []string       `json:"categories"`
	UpdatedAt  time.Time      `json:"updated_at,omitzero"`
}

// DefaultCategories are the record categories of a new tenant.
var DefaultCategories = []string{"note", "case", "message", "document"}

// Limits of a schema.
const (
	MaxAttributes = 100
	MaxCategories = 100
	MaxEnumValues = 200
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Attribute returns the definition of the named tenant-defined attribute.
func (s *Schema) Attribute(name string) (AttributeDef, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return AttributeDef{}, false
}

// HasCategory reports whether c is one of the schema's record categories.
func (s *Schema) HasCategory(c string) bool { return slices.Contains(s.Categories, c) }

// Validate checks a schema: names are lowercase identifiers, unique, not
// those of standard attributes; types and classifications known; enums
// have values. It trims category names.
func (s *Schema) Validate() error {
	if len(s.Attributes) > MaxAttributes {
		return FieldErrorf("attributes", "a schema has at most %d attributes", MaxAttributes)
	}
	seen := map[string]bool{}
	for i := range s.Attributes {
		a := &s.Attributes[i]
		field := fmt.Sprintf("attributes[%d]", i)
		switch {
		case !nameRE.MatchString(a.Name):
			return FieldErrorf(field+".name", "attribute names are 1–63 lowercase letters, digits and underscores, starting with a letter (got %q)", a.Name)
		case slices.Contains(StandardAttributes, a.Name) || a.Name == "id" || a.Name == "attributes":
			return FieldErrorf(field+".name", "%q is a standard attribute of every person; choose another name", a.Name)
		case seen[a.Name]:
			return FieldErrorf(field+".name", "attribute %q is defined twice", a.Name)
		}
		seen[a.Name] = true
		switch a.Type {
		case TypeString, TypeNumber, TypeBoolean, TypeDate:
			if len(a.Values) > 0 {
				return FieldErrorf(field+".values", "only enum attributes have values (%q is a %s)", a.Name, a.Type)
			}
		case TypeEnum:
			if len(a.Values) == 0 || len(a.Values) > MaxEnumValues {
				return FieldErrorf(field+".values", "enum attribute %q needs 1–%d values", a.Name, MaxEnumValues)
			}
			for _, v := range a.Values {
				if strings.TrimSpace(v) == "" || len(v) > 200 {
					return FieldErrorf(field+".values", "the values of enum attribute %q must be 1–200 characters", a.Name)
				}
			}
		default:
			return FieldErrorf(field+".type", "type of %q must be string, number, boolean, date or enum", a.Name)
		}
		switch a.Classification {
		case ClassPersonal, ClassSpecial, ClassNonPersonal:
		default:
			return FieldErrorf(field+".classification", "classification of %q must be personal, special or non_personal", a.Name)
		}
	}
	if len(s.Categories) == 0 {
		return FieldErrorf("categories", "a schema needs at least one record category")
	}
	if len(s.Categories) > MaxCategories {
		return FieldErrorf("categories", "a schema has at most %d record categories", MaxCategories)
	}
	cats := map[string]bool{}
	for i, c := range s.Categories {
		c = strings.TrimSpace(c)
		if !nameRE.MatchString(c) {
			return FieldErrorf(fmt.Sprintf("categories[%d]", i), "record categories are 1–63 lowercase letters, digits and underscores, starting with a letter (got %q)", c)
		}
		if cats[c] {
			return FieldErrorf(fmt.Sprintf("categories[%d]", i), "category %q is listed twice", c)
		}
		cats[c] = true
		s.Categories[i] = c
	}
	return nil
}

// SchemaService reads and replaces the caller's tenant's schema.
type SchemaService interface {
	FindSchema(ctx context.Context) (*Schema, error)
	// UpdateSchema replaces the schema. Values already stored for an
	// attribute that is removed stay until the person is next written.
	UpdateSchema(ctx context.Context, s *Schema) (*Schema, error)
}
