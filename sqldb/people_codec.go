package sqldb

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"tillit"
	"tillit/keyring"
)

// A person's values in plain text, by place: a standard attribute's name
// ("email"), or "attributes." and a tenant attribute's name. The place is
// also the associated data of the value's seal, so a value does not open
// anywhere but where it was sealed.
type personValues map[string][]byte

const attrPrefix = "attributes."

// stringAttr is a standard attribute held as a string, and where a
// person keeps it.
type stringAttr struct {
	name string
	v    *string
}

// stringAttrs returns the standard string attributes of p (all but the
// address), in the API's order.
func stringAttrs(p *tillit.Person) [8]stringAttr {
	return [8]stringAttr{{tillit.AttrGivenName, &p.GivenName}, {tillit.AttrFamilyName, &p.FamilyName},
		{tillit.AttrNationalID, &p.NationalID}, {tillit.AttrNationalIDCountry, &p.NationalIDCountry},
		{tillit.AttrBirthDate, &p.BirthDate}, {tillit.AttrEmail, &p.Email}, {tillit.AttrPhone, &p.Phone},
		{tillit.AttrLanguage, &p.Language}}
}

// valuesOf returns the values of p to seal and the tenant attributes to
// keep unsealed (those the schema classifies non_personal).
func valuesOf(p *tillit.Person, schema *tillit.Schema) (personValues, map[string]any, error) {
	v := personValues{}
	for _, a := range stringAttrs(p) {
		if *a.v != "" {
			v[a.name] = []byte(*a.v)
		}
	}
	if p.Address != nil {
		b, err := json.Marshal(p.Address)
		if err != nil {
			return nil, nil, err
		}
		v[tillit.AttrAddress] = b
	}
	plain := map[string]any{}
	for name, val := range p.Attributes {
		if def, ok := schema.Attribute(name); ok && !def.Classification.Sealed() {
			plain[name] = val
			continue
		}
		b, err := json.Marshal(val)
		if err != nil {
			return nil, nil, err
		}
		v[attrPrefix+name] = b
	}
	return v, plain, nil
}

// places returns the names of the places of v and of the plain
// attributes, sorted: the fields an audit event names.
func places(v personValues, plain map[string]any) []string {
	out := slices.Collect(maps.Keys(v))
	for name := range plain {
		out = append(out, attrPrefix+name)
	}
	slices.Sort(out)
	return out
}

// sealValues seals each value under the person's key. Values equal to
// those of old keep their old ciphertext (an update re-seals only what it
// changes).
func sealValues(pk *keyring.PersonKey, v personValues, old personValues, oldSealed map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(v))
	for place, pt := range v {
		if prev, ok := old[place]; ok && string(prev) == string(pt) && oldSealed[place] != nil {
			out[place] = oldSealed[place]
			continue
		}
		out[place] = pk.Seal(place, pt)
	}
	return out
}

// openValues opens every sealed value of a person.
func openValues(pk *keyring.PersonKey, sealed map[string][]byte) (personValues, error) {
	v := make(personValues, len(sealed))
	for place, ct := range sealed {
		pt, err := pk.Open(place, ct)
		if err != nil {
			return nil, fmt.Errorf("person %d, %s: %w", pk.PersonID, place, err)
		}
		v[place] = pt
	}
	return v, nil
}

// personFrom fills p's attributes from its opened values and plain
// attributes.
func personFrom(p *tillit.Person, v personValues, plain map[string]any) error {
	strs := stringAttrs(p)
	for place, b := range v {
		switch place {
		case tillit.AttrGivenName, tillit.AttrFamilyName, tillit.AttrNationalID, tillit.AttrNationalIDCountry,
			tillit.AttrBirthDate, tillit.AttrEmail, tillit.AttrPhone, tillit.AttrLanguage:
			for _, a := range strs {
				if a.name == place {
					*a.v = string(b)
				}
			}
		case tillit.AttrAddress:
			p.Address = new(tillit.Address)
			if err := json.Unmarshal(b, p.Address); err != nil {
				return fmt.Errorf("person %d address: %w", p.ID, err)
			}
		default:
			name, ok := strings.CutPrefix(place, attrPrefix)
			if !ok {
				return fmt.Errorf("person %d: unknown place %q", p.ID, place)
			}
			var val any
			if err := json.Unmarshal(b, &val); err != nil {
				return fmt.Errorf("person %d %s: %w", p.ID, place, err)
			}
			if p.Attributes == nil {
				p.Attributes = map[string]any{}
			}
			p.Attributes[name] = val
		}
	}
	for name, val := range plain {
		if p.Attributes == nil {
			p.Attributes = map[string]any{}
		}
		p.Attributes[name] = val
	}
	return nil
}

// encodeSealed encodes sealed values for the sealed column: for each place,
// sorted, its length and name, then its ciphertext's length and bytes
// (unsigned varints).
func encodeSealed(sealed map[string][]byte) []byte {
	n := 0
	for place, ct := range sealed {
		n += len(place) + len(ct) + 2*binary.MaxVarintLen32
	}
	out := make([]byte, 0, n)
	for _, place := range slices.Sorted(maps.Keys(sealed)) {
		out = binary.AppendUvarint(out, uint64(len(place)))
		out = append(out, place...)
		out = binary.AppendUvarint(out, uint64(len(sealed[place])))
		out = append(out, sealed[place]...)
	}
	return out
}

var errSealedColumn = errors.New("sqldb: malformed sealed column")

// decodeSealed decodes what encodeSealed made.
func decodeSealed(b []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	for len(b) > 0 {
		var parts [2][]byte
		for i := range parts {
			n, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < n {
				return nil, errSealedColumn
			}
			parts[i] = b[k : k+int(n)]
			b = b[k+int(n):]
		}
		out[string(parts[0])] = parts[1]
	}
	return out, nil
}

// registerColumnNames are the columns of what the register sets about a
// person (never a create, patch or import): where the data came from, the
// restriction, the legal hold, the retention marks and the remnant of an
// anonymisation.
const registerColumnNames = `source, restricted_at, restricted_by, restriction_reason, held_at, held_by, hold_until,
	hold_reason, anonymised_at, flagged_at, kept_until, birth_year, postal_area, kept_reason, erasing_at`

// registerColumns are the columns of registerColumnNames as read.
type registerColumns struct {
	source                                                         string
	restrictedAt, heldAt, holdUntil, anonymisedAt, flaggedAt, kept sql.NullInt64
	restrictedBy, heldBy, postalArea                               sql.NullString
	restrictionReason, holdReason, keptReason                      []byte
	birthYear                                                      sql.NullInt64
	erasingAt                                                      sql.NullInt64 // an erasure or anonymisation is under way
}

// Places of the sealed reasons, under the person's key.
const (
	placeRestrictionReason = "restriction.reason"
	placeHoldReason        = "hold.reason"
	placeKeptReason        = "retention.kept_reason"
)

func (c *registerColumns) dest() []any {
	return []any{&c.source, &c.restrictedAt, &c.restrictedBy, &c.restrictionReason, &c.heldAt, &c.heldBy,
		&c.holdUntil, &c.holdReason, &c.anonymisedAt, &c.flaggedAt, &c.kept, &c.birthYear, &c.postalArea, &c.keptReason, &c.erasingAt}
}

func optTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// fill sets the register's fields of p, opening the reasons with pk (nil:
// they are left out).
func (c *registerColumns) fill(p *tillit.Person, pk *keyring.PersonKey) error {
	p.Source = c.source
	p.FlaggedAt, p.KeptUntil, p.AnonymisedAt = optTime(c.flaggedAt), optTime(c.kept), optTime(c.anonymisedAt)
	p.BirthYear, p.PostalArea = int(c.birthYear.Int64), c.postalArea.String
	reason := func(place string, sealed []byte) (string, error) {
		if pk == nil || len(sealed) == 0 {
			return "", nil
		}
		b, err := pk.Open(place, sealed)
		if err != nil {
			return "", fmt.Errorf("person %d, %s: %w", p.ID, place, err)
		}
		return string(b), nil
	}
	if c.restrictedAt.Valid {
		r, err := reason(placeRestrictionReason, c.restrictionReason)
		if err != nil {
			return err
		}
		p.Restriction = &tillit.Restriction{Reason: r, SetAt: fromMicros(c.restrictedAt.Int64), SetBy: c.restrictedBy.String}
	}
	if c.kept.Valid {
		r, err := reason(placeKeptReason, c.keptReason)
		if err != nil {
			return err
		}
		p.KeptReason = r
	}
	if c.heldAt.Valid {
		r, err := reason(placeHoldReason, c.holdReason)
		if err != nil {
			return err
		}
		p.Hold = &tillit.Hold{Reason: r, Until: optTime(c.holdUntil), SetAt: fromMicros(c.heldAt.Int64), SetBy: c.heldBy.String}
	}
	return nil
}

// remnantOf returns an anonymised person as stored: the statistical
// remnant (id, times, birth year, postal area, non_personal attributes).
func remnantOf(r personRow) (*tillit.Person, error) {
	p := &tillit.Person{ID: r.id, CollectedAt: fromMicros(r.collected), UpdatedAt: fromMicros(r.updated), LastActivityAt: fromMicros(r.lastActivity)}
	var plain map[string]any
	if err := json.Unmarshal([]byte(r.plain), &plain); err != nil {
		return nil, err
	}
	if len(plain) > 0 {
		p.Attributes = plain
	}
	return p, r.register.fill(p, nil)
}

// registerSetFields are the fields of a person only the register sets.
var registerSetFields = []string{"source", "restriction", "hold", "flagged_at", "kept_until", "kept_reason", "anonymised_at", "birth_year", "postal_area"}

func registerSetError(field string) error {
	return tillit.FieldErrorf(field, "%s is set by the register, not by a create, change or import; leave it out", field)
}

// checkRegisterSet refuses a person to create or import that sets a field
// only the register sets.
func checkRegisterSet(p *tillit.Person) error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"source", p.Source != ""}, {"restriction", p.Restriction != nil}, {"hold", p.Hold != nil},
		{"flagged_at", p.FlaggedAt != nil}, {"kept_until", p.KeptUntil != nil}, {"kept_reason", p.KeptReason != ""}, {"anonymised_at", p.AnonymisedAt != nil},
		{"birth_year", p.BirthYear != 0}, {"postal_area", p.PostalArea != ""}} {
		if f.set {
			return registerSetError(f.name)
		}
	}
	return nil
}

// hiddenPeople is the condition (" AND …") that leaves out of lists and
// lookups the people the principal may not see there: anonymised remnants
// and people being erased or anonymised always, restricted people for
// those without PermRestrictedRead.
func hiddenPeople(pr *tillit.Principal) string {
	if pr.Role.Can(tillit.PermRestrictedRead) {
		return " AND anonymised_at IS NULL AND erasing_at IS NULL"
	}
	return " AND anonymised_at IS NULL AND erasing_at IS NULL AND restricted_at IS NULL"
}

// errAnonymised is the answer to changing an anonymised person.
func errAnonymised() error {
	return tillit.Errorf(tillit.EConflict, "this person was anonymised: only a statistical remnant is left, which cannot be changed")
}
