package sqldb_test

import (
	"strings"
	"testing"

	"tillit"
)

// TestReclassifiedAttributeIsSealed: when a non_personal attribute (kept
// unsealed for statistics) becomes personal, the values already stored are
// sealed at once, not when each person is next written.
func TestReclassifiedAttributeIsSealed(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		schema := &tillit.Schema{Categories: []string{"note"}, Attributes: []tillit.AttributeDef{
			{Name: "municipality", Type: tillit.TypeString, Classification: tillit.ClassNonPersonal}}}
		if _, err := e.svc.UpdateSchema(e.admin, schema); err != nil {
			t.Fatal(err)
		}
		p := &tillit.Person{GivenName: "Kari", Attributes: map[string]any{"municipality": "Tromsø-5401"}}
		if err := e.svc.CreatePerson(e.cw, p); err != nil {
			t.Fatal(err)
		}
		plain := func() string {
			var s string
			if err := e.rawData().QueryRow(`SELECT plain FROM people WHERE id = $1`, p.ID).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		if !strings.Contains(plain(), "Tromsø-5401") {
			t.Fatalf("a non_personal value is not in the plain column: %s", plain())
		}
		schema.Attributes[0].Classification = tillit.ClassPersonal
		if _, err := e.svc.UpdateSchema(e.admin, schema); err != nil {
			t.Fatal(err)
		}
		if got := plain(); strings.Contains(got, "Tromsø") {
			t.Fatalf("after the reclassification the value is still unsealed: %s", got)
		}
		got, err := e.svc.FindPersonByID(e.cw, p.ID)
		if err != nil || got.Attributes["municipality"] != "Tromsø-5401" {
			t.Fatalf("read after sealing: %+v, %v", got, err)
		}
	})
}
