package web

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"tillit"
)

// sampleRegisterData returns the data of the register's pages for
// TestEveryPageRenders, with every part of each page in use.
func sampleRegisterData(name string, now time.Time) any {
	sc := &tillit.Schema{Categories: []string{"note", "visit"}, Attributes: []tillit.AttributeDef{
		{Name: "member", Type: tillit.TypeBoolean, Classification: tillit.ClassPersonal},
		{Name: "diagnosis", Type: tillit.TypeEnum, Classification: tillit.ClassSpecial, Values: []string{"a", "b"}, Required: true},
		{Name: "score", Type: tillit.TypeNumber, Classification: tillit.ClassNonPersonal},
		{Name: "since", Type: tillit.TypeDate, Classification: tillit.ClassPersonal},
	}}
	p := &tillit.Person{ID: 7, GivenName: "Kari", FamilyName: "Nordmann", NationalID: "01017012345", NationalIDCountry: "NO",
		BirthDate: "1970-01-01", Email: "kari@example.test", Phone: "+4791234567", Language: "nb",
		Address:     &tillit.Address{Street: "Gata 1", PostalCode: "0150", City: "Oslo", Country: "NO"},
		Attributes:  map[string]any{"member": true, "score": 3.5, "gone": "x"},
		CollectedAt: now, UpdatedAt: now, LastActivityAt: now}
	switch name {
	case "people":
		return peoplePage{People: personItems([]*tillit.Person{p, {ID: 8}}), Sort: "id", Next: "/people?cursor=8&sort=id",
			Paged: true, CanWrite: true, By: lookupChoices}
	case "person":
		return &personPage{Person: personItem{p}, Attrs: attrItems(p, sc), Paged: true, MoreRecords: "/people/7?records=1-2#records",
			Records: []*tillit.Record{{ID: 1, PersonID: 7, Category: "note", Title: "Met", Body: "line one\nline <two>", OccurredAt: now},
				{ID: 2, PersonID: 7, Category: "visit", Title: "Visit", OccurredAt: now}},
			Categories: categoryOptions(sc), CanWrite: true}
	case "person_form":
		data := editFormPage(p, sc)
		return data
	case "schema":
		return newSchemaPage(sc, schemaFormValues(sc), true)
	case "import":
		return &importPage{Columns: importColumns(sc), Result: &tillit.ImportResult{Created: 2,
			Refused: []tillit.ImportRefusal{{Line: 3, Field: "email", Reason: "bad", Duplicate: true}}, Imported: true}}
	}
	return nil
}

func TestPersonPatch(t *testing.T) {
	sc := &tillit.Schema{Attributes: []tillit.AttributeDef{
		{Name: "member", Type: tillit.TypeBoolean, Classification: tillit.ClassPersonal},
		{Name: "score", Type: tillit.TypeNumber, Classification: tillit.ClassPersonal},
	}}
	old := &tillit.Person{GivenName: "Kari", FamilyName: "Nordmann", NationalID: "01017012345", NationalIDCountry: "NO",
		BirthDate: "1970-01-01", Email: "kari@example.test", Address: &tillit.Address{City: "Oslo", Country: "NO"},
		Attributes: map[string]any{"member": true, "score": 3.0, "gone": "x"}}
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"nothing changed but a gone attribute", url.Values{"given_name": {"Kari"}, "family_name": {"Nordmann"},
			"national_id": {"01017012345"}, "national_id_country": {"NO"}, "birth_date": {"1970-01-01"},
			"email": {"kari@example.test"}, "address.city": {"Oslo"}, "address.country": {"NO"},
			"attributes.member": {"true"}, "attributes.score": {"3"}},
			`{"attributes":{"gone":null}}`},
		{"emptied and changed", url.Values{"given_name": {"Kari"}, "family_name": {"Hansen"},
			"national_id": {"01017012345"}, "national_id_country": {"NO"}, "birth_date": {"1970-01-01"},
			"address.city": {"Bergen"}, "attributes.member": {"false"}, "attributes.score": {"3,5"}},
			`{"address":{"city":"Bergen","country":null,"postal_code":null,"street":null},` +
				`"attributes":{"gone":null,"member":false,"score":3.5},"email":null,"family_name":"Hansen"}`},
		{"new national id: birth date derived again", url.Values{"given_name": {"Kari"}, "family_name": {"Nordmann"},
			"national_id": {"199001011234"}, "birth_date": {"1970-01-01"}, "email": {"kari@example.test"},
			"attributes.member": {"true"}, "attributes.score": {"3"}},
			`{"address":null,"attributes":{"gone":null},"national_id":"199001011234","national_id_country":null}`},
		{"national id removed: birth date kept", url.Values{"given_name": {"Kari"}, "family_name": {"Nordmann"},
			"birth_date": {"1970-01-01"}, "email": {"kari@example.test"}, "address.city": {"Oslo"}, "address.country": {"NO"},
			"attributes.member": {"true"}, "attributes.score": {"3"}},
			`{"attributes":{"gone":null},"birth_date":"1970-01-01","national_id":null,"national_id_country":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, err := personFromForm(tt.form, sc)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(personPatch(old, next, sc))
			var g, w any
			json.Unmarshal(got, &g)
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("patch\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPersonFromFormRefuses(t *testing.T) {
	sc := &tillit.Schema{Attributes: []tillit.AttributeDef{
		{Name: "member", Type: tillit.TypeBoolean, Classification: tillit.ClassPersonal},
		{Name: "score", Type: tillit.TypeNumber, Classification: tillit.ClassPersonal},
	}}
	for _, f := range []url.Values{{"attributes.score": {"many"}}, {"attributes.member": {"perhaps"}}} {
		_, err := personFromForm(f, sc)
		var field string
		for k := range f {
			field = k
		}
		if tillit.ErrorCode(err) != tillit.EInvalid || tillit.ErrorField(err) != field {
			t.Errorf("%v: %v, want invalid %s", f, err, field)
		}
	}
}

func TestSchemaFromForm(t *testing.T) {
	f := url.Values{"rows": {"3"},
		"attributes[0].name": {"member"}, "attributes[0].type": {"boolean"}, "attributes[0].classification": {"personal"},
		"attributes[0].remove": {"on"},
		"attributes[1].name":   {"level"}, "attributes[1].type": {"enum"}, "attributes[1].classification": {"special"},
		"attributes[1].values": {" low, high ,"}, "attributes[1].required": {"on"},
		"attributes[2].new": {"1"}, "attributes[2].type": {"string"}, "attributes[2].classification": {"personal"},
		"categories": {"note, visit"}}
	sc, rows, err := schemaFromForm(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []tillit.AttributeDef{{Name: "level", Type: tillit.TypeEnum, Classification: tillit.ClassSpecial,
		Required: true, Values: []string{"low", "high"}}}
	if !reflect.DeepEqual(sc.Attributes, want) || !reflect.DeepEqual(rows, []int{1}) ||
		!reflect.DeepEqual(sc.Categories, []string{"note", "visit"}) {
		t.Fatalf("schema %+v rows %v", sc, rows)
	}
	err = schemaFormError(&view{Lang: "en"}, tillit.FieldErrorf("attributes[0].values", "bad"), rows)
	if tillit.ErrorField(err) != "attributes[1].values" {
		t.Fatalf("error field %q, want the form's row", tillit.ErrorField(err))
	}
}
