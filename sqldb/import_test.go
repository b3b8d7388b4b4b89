package sqldb_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"testing"

	"tillit"
)

// sliceSource is an import of people given in the test, one per line
// after a header line: the line of people[i] is i+2.
type sliceSource struct {
	people []*tillit.Person
	errs   map[int]error // by index: a line the source cannot read
	i      int
}

func (s *sliceSource) Next() (*tillit.Person, int, error) {
	if s.i >= len(s.people) {
		return nil, 0, io.EOF
	}
	i := s.i
	s.i++
	if err := s.errs[i]; err != nil {
		return nil, i + 2, err
	}
	return s.people[i], i + 2, nil
}

// numbered returns n people with e-mail addresses of their number.
func numbered(n int) []*tillit.Person {
	out := make([]*tillit.Person, n)
	for i := range out {
		out[i] = &tillit.Person{GivenName: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("person%05d@example.com", i)}
	}
	return out
}

// mustImport imports people as the caseworker and returns the result and
// the progress reported.
func (e *regEnv) mustImport(src tillit.ImportSource, opts tillit.ImportOptions) (*tillit.ImportResult, []int) {
	e.t.Helper()
	var progress []int
	res, err := e.svc.ImportPeople(e.cw, src, opts, func(lines int) { progress = append(progress, lines) })
	if err != nil {
		e.t.Fatalf("import: %v", err)
	}
	return res, progress
}

// allPeople lists the tenant's register.
func (e *regEnv) allPeople(svc interface {
	FindPeople(context.Context, tillit.PersonFilter) (*tillit.PersonPage, error)
}) []*tillit.Person {
	e.t.Helper()
	var out []*tillit.Person
	f := tillit.PersonFilter{Limit: 1000}
	for {
		page, err := svc.FindPeople(e.cw, f)
		if err != nil {
			e.t.Fatalf("list: %v", err)
		}
		out = append(out, page.People...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func TestImportPeople(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		existing := e.mustCreate(&tillit.Person{NationalID: "19121212-1212", Email: "taken@example.no"})
		src := &sliceSource{people: []*tillit.Person{
			{GivenName: "A", Email: "a@example.no", Phone: "912 34 567"}, // line 2
			{Email: "nope"},              // 3
			nil,                          // 4: the source's own refusal
			{NationalID: "191212121212"}, // 5: the register's national id
			{Email: "TAKEN@example.no"},  // 6: the register's email
			{Email: "b@example.no", NationalID: "811218-9876", Attributes: map[string]any{"level": "gold", "municipality": "0301"}}, // 7
			{Email: " B@EXAMPLE.NO "},                       // 8: line 7's email
			{NationalID: "8112189876"},                      // 9: line 7's national id
			{Attributes: map[string]any{"shoe_size": 42.0}}, // 10
			{GivenName: "C"},                                // 11
		}, errs: map[int]error{2: tillit.FieldErrorf("member_no", "member_no must be a number")}}
		res, progress := e.mustImport(src, tillit.ImportOptions{})
		want := []tillit.ImportRefusal{
			{Line: 3, Field: "email"},
			{Line: 4, Field: "member_no", Reason: "member_no must be a number"},
			{Line: 5, Field: "national_id", Duplicate: true},
			{Line: 6, Field: "email", Duplicate: true},
			{Line: 8, Field: "email", Duplicate: true},
			{Line: 9, Field: "national_id", Duplicate: true},
			{Line: 10, Field: "attributes.shoe_size"},
		}
		if res.Created != 3 || !res.Imported || len(res.Refused) != len(want) {
			t.Fatalf("result %+v", res)
		}
		slices.SortFunc(res.Refused, func(a, b tillit.ImportRefusal) int { return a.Line - b.Line })
		for i, w := range want {
			got := res.Refused[i]
			if got.Line != w.Line || got.Field != w.Field || got.Duplicate != w.Duplicate || got.Reason == "" ||
				(w.Reason != "" && got.Reason != w.Reason) {
				t.Errorf("refusal %d: %+v, want %+v", i, got, w)
			}
		}
		if !slices.Equal(progress, []int{10}) {
			t.Fatalf("progress %v", progress)
		}

		// The created people are there, normalised, with one key and one
		// event each.
		people := e.allPeople(e.svc)
		if len(people) != 4 {
			t.Fatalf("%d people in the register, want 4", len(people))
		}
		found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{NationalID: "19811218-9876"})
		if err != nil || len(found) != 1 || found[0].Email != "b@example.no" || found[0].BirthDate != "1981-12-18" ||
			found[0].Attributes["level"] != "gold" || found[0].Attributes["municipality"] != "0301" {
			t.Fatalf("imported person: %s, %v", jsonOf(t, found), err)
		}
		if found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{Phone: "+4791234567"}); err != nil || len(found) != 1 || found[0].GivenName != "A" {
			t.Fatalf("imported phone: %v, %v", found, err)
		}
		for _, p := range people {
			evs := e.eventsOf("person.create", personTarget(p.ID))
			if len(evs) != 1 || evs[0].Outcome != tillit.OutcomeOK || len(evs[0].Fields) == 0 {
				t.Errorf("events of person %d: %+v", p.ID, evs)
			}
			if p.ID == found[0].ID && !slices.Equal(evs[0].Fields, []string{"attributes.level", "attributes.municipality",
				"birth_date", "email", "national_id", "national_id_country"}) {
				t.Errorf("event of the imported person names %v", evs[0].Fields)
			}
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys WHERE tenant_id = $1`, e.tenant.ID); n != 4 {
			t.Fatalf("%d person keys, want 4", n)
		}
		samePerson(t, e.mustRead(existing.ID), existing)

		// A source that fails otherwise stops the import.
		broken := &sliceSource{people: numbered(3), errs: map[int]error{1: io.ErrUnexpectedEOF}}
		if _, err := e.svc.ImportPeople(e.cw, broken, tillit.ImportOptions{}, nil); err == nil {
			t.Fatal("an import went on after its source failed")
		}
	})
}

func TestImportAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustCreate(&tillit.Person{Email: "taken@example.no"})
		before := len(e.events())

		// One bad line in the second batch refuses the whole file,
		// including the first batch, and leaves no key behind.
		people := numbered(1500)
		people[1400] = &tillit.Person{Email: "not an address"}
		res, progress := e.mustImport(&sliceSource{people: people}, tillit.ImportOptions{AllOrNothing: true})
		if res.Created != 0 || res.Imported || len(res.Refused) != 1 || res.Refused[0].Line != 1402 || res.Refused[0].Field != "email" {
			t.Fatalf("result %+v", res)
		}
		if !slices.Equal(progress, []int{1000, 1500}) {
			t.Fatalf("progress %v", progress)
		}
		// A duplicate is a refused line too.
		people = numbered(3)
		people[2].Email = "Taken@example.no"
		res, _ = e.mustImport(&sliceSource{people: people}, tillit.ImportOptions{AllOrNothing: true})
		if res.Created != 0 || res.Imported || len(res.Refused) != 1 || !res.Refused[0].Duplicate {
			t.Fatalf("result %+v", res)
		}
		if n := len(e.allPeople(e.svc)); n != 1 {
			t.Fatalf("%d people after refused imports, want 1", n)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys`); n != 1 {
			t.Fatalf("%d person keys after refused imports, want 1", n)
		}
		if n := len(e.events()); n != before {
			t.Fatalf("%d events after refused imports, want %d", n, before)
		}

		// A file of good lines is imported whole.
		res, _ = e.mustImport(&sliceSource{people: numbered(1200)}, tillit.ImportOptions{AllOrNothing: true})
		if res.Created != 1200 || !res.Imported || len(res.Refused) != 0 {
			t.Fatalf("result %+v", res)
		}
		if n := len(e.allPeople(e.svc)); n != 1201 {
			t.Fatalf("%d people, want 1201", n)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys`); n != 1201 {
			t.Fatalf("%d person keys, want 1201", n)
		}
	})
}

func TestImportManyPeople(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		people := numbered(2501)
		people[2500].Email = "PERSON00010@example.com" // a duplicate of a line two batches before
		res, progress := e.mustImport(&sliceSource{people: people}, tillit.ImportOptions{})
		if res.Created != 2500 || !res.Imported || len(res.Refused) != 1 || res.Refused[0].Line != 2502 || !res.Refused[0].Duplicate {
			t.Fatalf("result %+v", res)
		}
		if !slices.Equal(progress, []int{1000, 2000, 2501}) {
			t.Fatalf("progress %v", progress)
		}
		all := e.allPeople(e.svc)
		if len(all) != 2500 {
			t.Fatalf("%d people, want 2500", len(all))
		}
		created := map[string]bool{}
		for _, ev := range e.events() {
			if ev.Action == "person.create" {
				created[ev.Target] = true
			}
		}
		for _, p := range all {
			if !created[personTarget(p.ID)] {
				t.Fatalf("no event for person %d", p.ID)
			}
		}
		if len(created) != 2500 {
			t.Fatalf("%d people created in the log, want 2500", len(created))
		}
		if found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{Email: "person02499@example.com"}); err != nil ||
			len(found) != 1 || found[0].GivenName != "Person 2499" {
			t.Fatalf("lookup of the last: %v, %v", found, err)
		}
	})
}
