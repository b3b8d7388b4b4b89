package sqldb

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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
