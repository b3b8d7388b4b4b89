package sqldb_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

func TestLookupPeople(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		a := e.mustCreate(&tillit.Person{Email: "Kari.Nordmann@Example.no", Phone: "912 34 567", NationalID: "19121212-1212"})
		b := e.mustCreate(&tillit.Person{Email: "ola@example.no", Phone: "+47 412 87 905", NationalID: "010107 10029"})
		e.mustCreate(&tillit.Person{GivenName: "Nobody"})
		tests := []struct {
			l    tillit.PersonLookup
			want []int64
		}{
			{tillit.PersonLookup{Email: "kari.nordmann@example.NO"}, []int64{a.ID}},
			{tillit.PersonLookup{Email: " KARI.NORDMANN@EXAMPLE.NO "}, []int64{a.ID}},
			{tillit.PersonLookup{Email: "kari@example.no"}, nil},
			{tillit.PersonLookup{Phone: "912 34 567"}, []int64{a.ID}},
			{tillit.PersonLookup{Phone: "+47 91234567"}, []int64{a.ID}},
			{tillit.PersonLookup{Phone: "0047 912 34 567"}, []int64{a.ID}},
			{tillit.PersonLookup{Phone: "41287905"}, []int64{b.ID}},
			{tillit.PersonLookup{Phone: "+46 70 123 45 67"}, nil},
			{tillit.PersonLookup{NationalID: "191212121212"}, []int64{a.ID}},
			{tillit.PersonLookup{NationalID: "19121212-1212"}, []int64{a.ID}},
			{tillit.PersonLookup{NationalID: "121212+1212"}, []int64{a.ID}},
			{tillit.PersonLookup{NationalID: "19121212-1212", NationalIDCountry: "SE"}, []int64{a.ID}},
			{tillit.PersonLookup{NationalID: "01010710029"}, []int64{b.ID}},
			{tillit.PersonLookup{NationalID: "010107 10029", NationalIDCountry: "no"}, []int64{b.ID}},
			{tillit.PersonLookup{NationalID: "811218-9876"}, nil},
			// Blank fields do not count.
			{tillit.PersonLookup{Email: "  ", Phone: "912 34 567"}, []int64{a.ID}},
			{tillit.PersonLookup{Phone: " ", NationalID: "01010710029"}, []int64{b.ID}},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%+v", tc.l), func(t *testing.T) {
				found, err := e.svc.LookupPeople(e.cw, tc.l)
				if err != nil || !slices.Equal(personIDs(found), tc.want) {
					t.Fatalf("found %v, %v; want %v", personIDs(found), err, tc.want)
				}
				if len(found) == 1 {
					samePerson(t, found[0], e.mustRead(found[0].ID))
				}
			})
		}
		refusals := []struct {
			l     tillit.PersonLookup
			field string
		}{
			{tillit.PersonLookup{}, ""},
			{tillit.PersonLookup{NationalIDCountry: "SE"}, ""},
			{tillit.PersonLookup{Email: a.Email, Phone: a.Phone}, ""},
			{tillit.PersonLookup{Email: a.Email, NationalID: a.NationalID}, ""},
			{tillit.PersonLookup{Email: "not-an-address"}, "email"},
			{tillit.PersonLookup{Phone: "12"}, "phone"},
			{tillit.PersonLookup{NationalID: "12345"}, "national_id"},
			{tillit.PersonLookup{NationalID: "19121212-1212", NationalIDCountry: "NO"}, "national_id"},
			{tillit.PersonLookup{NationalID: "19121212-1212", NationalIDCountry: "DE"}, "national_id_country"},
		}
		for _, tc := range refusals {
			t.Run(fmt.Sprintf("refused %+v", tc.l), func(t *testing.T) {
				_, err := e.svc.LookupPeople(e.cw, tc.l)
				wantErr(t, err, tillit.EInvalid, tc.field)
			})
		}
	})
}

func TestFindPeople(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		families := []string{"Berg", "aas", "Dahl", "berg", "Eik", "Ås", "Holm", "dahl", "Berg", ""}
		givens := []string{"Ola", "Kari", "anne", "Per", "Berit"}
		var all []*tillit.Person
		for i := range 23 {
			all = append(all, e.mustCreate(&tillit.Person{FamilyName: families[i%len(families)], GivenName: givens[i%len(givens)]}))
		}
		// Another tenant's people are not listed.
		beta := sqldbtest.MustTenant(t, e.db, "beta")
		_, _, betaCW := sqldbtest.MustToken(t, e.db, beta, tillit.RoleCaseworker)
		if err := e.svc.CreatePerson(betaCW, &tillit.Person{FamilyName: "Aa"}); err != nil {
			t.Fatal(err)
		}
		pages := func(f tillit.PersonFilter) ([]*tillit.Person, int) {
			t.Helper()
			var out []*tillit.Person
			n := 0
			for {
				page, err := e.svc.FindPeople(e.reader, f)
				if err != nil {
					t.Fatal(err)
				}
				n++
				if len(page.People) > max(f.Limit, 1) && f.Limit != 0 {
					t.Fatalf("page of %d people, limit %d", len(page.People), f.Limit)
				}
				out = append(out, page.People...)
				if page.NextCursor == "" {
					return out, n
				}
				f.Cursor = page.NextCursor
			}
		}

		byID, n := pages(tillit.PersonFilter{Limit: 5})
		want := sortedIDs(all)
		if !slices.Equal(personIDs(byID), want) || n != 5 {
			t.Fatalf("by id in %d pages: %v, want %v", n, personIDs(byID), want)
		}
		for _, p := range byID {
			if p.FamilyName == "" && p.GivenName == "" {
				t.Fatalf("listed person %d without their values", p.ID)
			}
		}
		if got, n := pages(tillit.PersonFilter{}); len(got) != 23 || n != 1 {
			t.Fatalf("default page: %d people in %d pages", len(got), n)
		}
		if got, n := pages(tillit.PersonFilter{Limit: 23}); len(got) != 23 || n != 1 {
			t.Fatalf("a page of exactly everyone: %d people in %d pages", len(got), n)
		}

		byName, _ := pages(tillit.PersonFilter{Sort: tillit.SortByFamilyName, Limit: 4})
		wantByName := slices.Clone(all)
		slices.SortFunc(wantByName, func(a, b *tillit.Person) int {
			if c := strings.Compare(strings.ToLower(a.FamilyName), strings.ToLower(b.FamilyName)); c != 0 {
				return c
			}
			if c := strings.Compare(strings.ToLower(a.GivenName), strings.ToLower(b.GivenName)); c != 0 {
				return c
			}
			return int(a.ID - b.ID)
		})
		if !slices.Equal(personIDs(byName), personIDs(wantByName)) {
			t.Fatalf("by family name:\n got %v\nwant %v", names(byName), names(wantByName))
		}

		refusals := []struct {
			f     tillit.PersonFilter
			field string
		}{
			{tillit.PersonFilter{Cursor: "abc"}, "cursor"},
			{tillit.PersonFilter{Cursor: "-5"}, "cursor"},
			{tillit.PersonFilter{Cursor: "0"}, "cursor"},
			{tillit.PersonFilter{Sort: tillit.SortByFamilyName, Cursor: "12345"}, "cursor"},
			{tillit.PersonFilter{Limit: -1}, "limit"},
			{tillit.PersonFilter{Limit: 1001}, "limit"},
			{tillit.PersonFilter{Sort: "email"}, "sort"},
		}
		for _, tc := range refusals {
			t.Run(fmt.Sprintf("%+v", tc.f), func(t *testing.T) {
				_, err := e.svc.FindPeople(e.reader, tc.f)
				wantErr(t, err, tillit.EInvalid, tc.field)
			})
		}
		if page, err := e.svc.FindPeople(e.reader, tillit.PersonFilter{Limit: 1000}); err != nil || len(page.People) != 23 {
			t.Fatalf("limit 1000: %v", err)
		}
	})
}

// names lists people's names, for messages.
func names(people []*tillit.Person) []string {
	out := make([]string, len(people))
	for i, p := range people {
		out[i] = p.FamilyName + "," + p.GivenName
	}
	return out
}
