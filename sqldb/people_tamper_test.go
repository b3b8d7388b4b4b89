package sqldb_test

import (
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb"
)

// TestLookupChecksTheOpenedValue forges the blind indexes of rows (as a
// collision of truncated HMACs would make them): the lookup opens its
// candidates and drops those whose value is not the one looked up.
func TestLookupChecksTheOpenedValue(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		a := e.mustCreate(&tillit.Person{Email: "anna@example.no", Phone: "912 34 567", NationalID: "19121212-1212"})
		b := e.mustCreate(&tillit.Person{Email: "bjorn@example.no", Phone: "412 87 905", NationalID: "811218-9876"})
		raw := e.rawData()
		idx := func(col string, id int64) []byte {
			var v []byte
			if err := raw.QueryRow(`SELECT `+col+` FROM people WHERE id = $1`, id).Scan(&v); err != nil || len(v) == 0 {
				t.Fatalf("%s of %d: %x, %v", col, id, v, err)
			}
			return v
		}
		lookup := func(l tillit.PersonLookup) []int64 {
			t.Helper()
			found, err := e.svc.LookupPeople(e.cw, l)
			if err != nil {
				t.Fatal(err)
			}
			return personIDs(found)
		}

		// Phone indexes are not unique: b gets a's, and a lookup of a's
		// number finds a alone.
		e.exec(`UPDATE people SET phone_idx = $1 WHERE id = $2`, idx("phone_idx", a.ID), b.ID)
		if got := lookup(tillit.PersonLookup{Phone: a.Phone}); !slices.Equal(got, []int64{a.ID}) {
			t.Fatalf("phone lookup with a forged index found %v, want only %d", got, a.ID)
		}
		if got := lookup(tillit.PersonLookup{Phone: b.Phone}); len(got) != 0 {
			t.Fatalf("b's phone found %v after its index was moved", got)
		}

		// E-mail and national id indexes are unique: a's move to b, and a
		// lookup of a's value finds no one rather than b.
		for _, c := range []struct {
			col string
			l   tillit.PersonLookup
		}{{"email_idx", tillit.PersonLookup{Email: a.Email}}, {"national_id_idx", tillit.PersonLookup{NationalID: a.NationalID}}} {
			v := idx(c.col, a.ID)
			e.exec(`UPDATE people SET `+c.col+` = NULL WHERE id = $1`, a.ID)
			e.exec(`UPDATE people SET `+c.col+` = $1 WHERE id = $2`, v, b.ID)
			if got := lookup(c.l); len(got) != 0 {
				t.Fatalf("%s lookup with a forged index found %v, want no one", c.col, got)
			}
		}
	})
}

// TestSealedValuesStayInPlace moves sealed values where they do not
// belong, as someone with the database but not the keys could: they do
// not open there.
func TestSealedValuesStayInPlace(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		a := e.mustCreate(&tillit.Person{GivenName: "Anna", FamilyName: "Alfa", Email: "anna@example.no"})
		b := e.mustCreate(&tillit.Person{GivenName: "Bjørn", FamilyName: "Beta", Email: "bjorn@example.no"})
		raw := e.rawData()
		sealedOf := func(id int64) []byte {
			t.Helper()
			var v []byte
			if err := raw.QueryRow(`SELECT sealed FROM people WHERE id = $1`, id).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		mustFail := func(what string, id int64) {
			t.Helper()
			got, err := e.svc.FindPersonByID(e.cw, id)
			if err == nil || got != nil {
				t.Fatalf("%s: read %+v", what, got)
			}
			if code(err) != tillit.EInternal || strings.Contains(tillit.ErrorMessage(err), "Anna") {
				t.Fatalf("%s: %v", what, err)
			}
		}
		origB := sealedOf(b.ID)

		// A's whole sealed column in B's row.
		e.exec(`UPDATE people SET sealed = $1 WHERE id = $2`, sealedOf(a.ID), b.ID)
		mustFail("a's values in b's row", b.ID)

		// A's given name in B's blob, at the same place.
		mine, err := sqldb.DecodeSealedForTest(origB)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := sqldb.DecodeSealedForTest(sealedOf(a.ID))
		if err != nil {
			t.Fatal(err)
		}
		mine["given_name"] = theirs["given_name"]
		e.exec(`UPDATE people SET sealed = $1 WHERE id = $2`, sqldb.EncodeSealedForTest(mine), b.ID)
		mustFail("a's given name in b's blob", b.ID)

		// B's own given and family names swapped.
		mine, _ = sqldb.DecodeSealedForTest(origB)
		mine["given_name"], mine["family_name"] = mine["family_name"], mine["given_name"]
		e.exec(`UPDATE people SET sealed = $1 WHERE id = $2`, sqldb.EncodeSealedForTest(mine), b.ID)
		mustFail("b's names swapped", b.ID)

		// B's email moved to the place of a tenant attribute.
		mine, _ = sqldb.DecodeSealedForTest(origB)
		mine["attributes.note"] = mine["email"]
		delete(mine, "email")
		e.exec(`UPDATE people SET sealed = $1 WHERE id = $2`, sqldb.EncodeSealedForTest(mine), b.ID)
		mustFail("b's email as an attribute", b.ID)

		// A flipped bit.
		flipped := append([]byte(nil), origB...)
		flipped[len(flipped)-1] ^= 1
		e.exec(`UPDATE people SET sealed = $1 WHERE id = $2`, flipped, b.ID)
		mustFail("a flipped bit", b.ID)

		// Put back, it opens again.
		e.exec(`UPDATE people SET sealed = $1 WHERE id = $2`, origB, b.ID)
		samePerson(t, e.mustRead(b.ID), b)
		samePerson(t, e.mustRead(a.ID), a)
	})
}
