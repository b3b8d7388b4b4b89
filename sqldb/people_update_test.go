package sqldb_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"tillit"
)

// patchStep is one merge patch of TestUpdatePerson and what it should do.
type patchStep struct {
	patch  string
	fields []string // of the update's event
	check  func(p *tillit.Person) bool
}

func TestUpdatePerson(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.mustCreate(fullPerson())
		collected := p.CollectedAt
		lookup := func(l tillit.PersonLookup) []int64 {
			t.Helper()
			found, err := e.svc.LookupPeople(e.cw, l)
			if err != nil {
				t.Fatal(err)
			}
			return personIDs(found)
		}
		steps := []patchStep{
			{`{"language":"en","family_name":"Hansen"}`, []string{"family_name", "language"},
				func(p *tillit.Person) bool {
					return p.Language == "en" && p.FamilyName == "Hansen" && p.GivenName == "Kari"
				}},
			{`{"phone":null}`, []string{"phone"}, func(p *tillit.Person) bool { return p.Phone == "" && p.Email != "" }},
			{`{"address":{"street":"Ny gate 2"}}`, []string{"address"},
				func(p *tillit.Person) bool {
					return *p.Address == tillit.Address{Street: "Ny gate 2", PostalCode: "0155", City: "Oslo", Country: "NO"}
				}},
			{`{"address":{"city":null}}`, []string{"address"},
				func(p *tillit.Person) bool {
					return *p.Address == tillit.Address{Street: "Ny gate 2", PostalCode: "0155", Country: "NO"}
				}},
			{`{"address":null}`, []string{"address"}, func(p *tillit.Person) bool { return p.Address == nil }},
			{`{"attributes":{"level":"silver","municipality":"1103"}}`, []string{"attributes.level", "attributes.municipality"},
				func(p *tillit.Person) bool {
					return p.Attributes["level"] == "silver" && p.Attributes["municipality"] == "1103" && p.Attributes["member_no"] == 42.0
				}},
			{`{"attributes":{"member_no":null,"diagnosis":null}}`, []string{"attributes.diagnosis", "attributes.member_no"},
				func(p *tillit.Person) bool {
					_, m := p.Attributes["member_no"]
					_, d := p.Attributes["diagnosis"]
					return !m && !d && len(p.Attributes) == 4
				}},
			{`{"national_id":"010107 10029"}`, []string{"birth_date", "national_id", "national_id_country"},
				func(p *tillit.Person) bool {
					return p.NationalID == "01010710029" && p.NationalIDCountry == "NO" && p.BirthDate == "1907-01-01"
				}},
			{`{"email":" ny@Example.no "}`, []string{"email"}, func(p *tillit.Person) bool { return p.Email == "ny@Example.no" }},
			{`{"given_name":"Kari"}`, nil, func(p *tillit.Person) bool { return p.GivenName == "Kari" }},
			{`{"collected_at":"2024-05-06T09:08:09.1234567+02:00"}`, []string{"collected_at"}, func(p *tillit.Person) bool {
				collected = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
				return p.CollectedAt.Equal(collected) && p.CollectedAt.Location() == time.UTC
			}},
		}
		for i, st := range steps {
			t.Run(fmt.Sprintf("%d %s", i, st.patch), func(t *testing.T) {
				e.clock.Add(time.Minute)
				got, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(st.patch))
				if err != nil {
					t.Fatal(err)
				}
				if !st.check(got) {
					t.Fatalf("patched %s", jsonOf(t, got))
				}
				now := e.clock.Now()
				if !got.UpdatedAt.Equal(now) || !got.LastActivityAt.Equal(now) || !got.CollectedAt.Equal(collected) {
					t.Fatalf("times: collected %v updated %v last activity %v; now %v", got.CollectedAt, got.UpdatedAt, got.LastActivityAt, now)
				}
				samePerson(t, e.mustRead(p.ID), got)
				evs := e.eventsOf("person.update", personTarget(p.ID))
				if len(evs) != i+1 || !slices.Equal(evs[i].Fields, st.fields) {
					t.Fatalf("%d update events, the last naming %v; want %v", len(evs), evs[len(evs)-1].Fields, st.fields)
				}
				p = got
			})
		}
		// The lookups follow the values.
		if ids := lookup(tillit.PersonLookup{Phone: "912 34 567"}); len(ids) != 0 {
			t.Fatalf("removed phone still found: %v", ids)
		}
		if ids := lookup(tillit.PersonLookup{Email: "kari.nordmann@example.no"}); len(ids) != 0 {
			t.Fatalf("old email still found: %v", ids)
		}
		if ids := lookup(tillit.PersonLookup{NationalID: "19121212-1212"}); len(ids) != 0 {
			t.Fatalf("old national id still found: %v", ids)
		}
		if ids := lookup(tillit.PersonLookup{Email: "NY@example.no"}); !slices.Equal(ids, []int64{p.ID}) {
			t.Fatalf("new email: %v", ids)
		}
		if ids := lookup(tillit.PersonLookup{NationalID: "01010710029"}); !slices.Equal(ids, []int64{p.ID}) {
			t.Fatalf("new national id: %v", ids)
		}

		refusals := []struct {
			patch, code, field string
		}{
			{`{"id":5}`, tillit.EInvalid, "id"},
			{`{"updated_at":"2020-01-01T00:00:00Z"}`, tillit.EInvalid, "updated_at"},
			{`{"last_activity_at":"2020-01-01T00:00:00Z"}`, tillit.EInvalid, "last_activity_at"},
			{`{"nickname":"Kari"}`, tillit.EInvalid, "nickname"},
			{`{"given_name":5}`, tillit.EInvalid, "given_name"},
			{`{"address":"Oslo"}`, tillit.EInvalid, "address"},
			{`{"address":{"city":5}}`, tillit.EInvalid, "address.city"},
			{`{"attributes":"gold"}`, tillit.EInvalid, "attributes"},
			{`{"attributes":{"member_no":"x"}}`, tillit.EInvalid, "attributes.member_no"},
			{`{"attributes":{"level":"platinum"}}`, tillit.EInvalid, "attributes.level"},
			{`{"attributes":{"shoe_size":42}}`, tillit.EInvalid, "attributes.shoe_size"},
			{`{"email":"not an address"}`, tillit.EInvalid, "email"},
			{`{"phone":"12"}`, tillit.EInvalid, "phone"},
			{`{"national_id":"19121212-1213"}`, tillit.EInvalid, "national_id"},
			{`{"birth_date":"1950-01-01"}`, tillit.EInvalid, "birth_date"},
			{`{"national_id_country":"SE"}`, tillit.EInvalid, "national_id"},
			{`{"collected_at":null}`, tillit.EInvalid, "collected_at"},
			{`{"collected_at":"2999-01-01T00:00:00Z"}`, tillit.EInvalid, "collected_at"},
			{`{"collected_at":"yesterday"}`, tillit.EInvalid, "collected_at"},
			{`[]`, tillit.EInvalid, ""},
			{`null`, tillit.EInvalid, ""},
			{`"Kari"`, tillit.EInvalid, ""},
			{`{`, tillit.EInvalid, ""},
		}
		for _, tc := range refusals {
			t.Run(tc.patch, func(t *testing.T) {
				_, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(tc.patch))
				wantErr(t, err, tc.code, tc.field)
			})
		}
		samePerson(t, e.mustRead(p.ID), p)
		if n := len(e.eventsOf("person.update", personTarget(p.ID))); n != len(steps) {
			t.Fatalf("%d update events after the refusals, want %d", n, len(steps))
		}
		_, err := e.svc.UpdatePerson(e.cw, 12345, []byte(`{"given_name":"X"}`))
		wantErr(t, err, tillit.ENotFound, "")
	})
}

func TestUpdatePersonAfterSchemaChange(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.mustCreate(fullPerson())

		// diagnosis leaves the schema; municipality becomes personal.
		s := testSchema()
		s.Attributes = slices.DeleteFunc(s.Attributes, func(a tillit.AttributeDef) bool { return a.Name == "diagnosis" })
		for i := range s.Attributes {
			if s.Attributes[i].Name == "municipality" {
				s.Attributes[i].Classification = tillit.ClassPersonal
			}
		}
		e.mustSchema(s)
		// Values stay until the person is next written…
		if got := e.mustRead(p.ID); got.Attributes["diagnosis"] != "asthma" || got.Attributes["municipality"] != "0301" {
			t.Fatalf("attributes after the schema change: %v", got.Attributes)
		}
		// …a value of an attribute the schema lacks cannot be written…
		_, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(`{"attributes":{"diagnosis":"flu"}}`))
		wantErr(t, err, tillit.EInvalid, "attributes.diagnosis")
		// …and any other write drops it (municipality, personal now, was
		// sealed by the schema change itself).
		got, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(`{"given_name":"Karin"}`))
		if err != nil {
			t.Fatalf("a patch of the name after the schema change: %v", err)
		}
		if _, ok := got.Attributes["diagnosis"]; ok || got.Attributes["municipality"] != "0301" || got.GivenName != "Karin" {
			t.Fatalf("patched %s", jsonOf(t, got))
		}
		samePerson(t, e.mustRead(p.ID), got)
		evs := e.eventsOf("person.update", personTarget(p.ID))
		if want := []string{"attributes.diagnosis", "given_name"}; len(evs) != 1 || !slices.Equal(evs[0].Fields, want) {
			t.Fatalf("update events %+v, want one naming %v", evs, want)
		}
		var plain string
		if err := e.rawData().QueryRow(`SELECT plain FROM people WHERE id = $1`, p.ID).Scan(&plain); err != nil || plain != `{}` {
			t.Fatalf("plain column %q, %v", plain, err)
		}
	})
}

// TestConcurrentPatches patches different attributes of one person at
// once: every patch is kept (none is lost to another that read the person
// before it was written).
func TestConcurrentPatches(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.mustCreate(&tillit.Person{GivenName: "Kari"})
		r := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Tittel", Body: "Tekst"})
		patches := []string{`{"family_name":"Nordmann"}`, `{"language":"nb"}`, `{"email":"kari@example.no"}`,
			`{"phone":"912 34 567"}`, `{"address":{"city":"Oslo"}}`, `{"attributes":{"level":"gold"}}`,
			`{"attributes":{"member_no":7}}`, `{"attributes":{"active":true}}`, `{"attributes":{"diagnosis":"asthma"}}`,
			`{"attributes":{"municipality":"0301"}}`, `{"birth_date":"1980-01-02"}`}
		title, body := "Ny tittel", "Ny tekst"
		cat, at := "visit", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		updates := []tillit.RecordUpdate{{Title: &title}, {Body: &body}, {Category: &cat}, {OccurredAt: &at}}
		errs := make(chan error, len(patches)+len(updates))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, patch := range patches {
			wg.Go(func() {
				<-start
				_, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(patch))
				errs <- err
			})
		}
		for _, u := range updates {
			wg.Go(func() {
				<-start
				_, err := e.svc.UpdateRecord(e.cw, p.ID, r.ID, u)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		got := e.mustRead(p.ID)
		if got.GivenName != "Kari" || got.FamilyName != "Nordmann" || got.Language != "nb" || got.Email != "kari@example.no" ||
			got.Phone != "+4791234567" || got.Address == nil || got.Address.City != "Oslo" || got.BirthDate != "1980-01-02" ||
			len(got.Attributes) != 5 {
			t.Errorf("after concurrent patches: %s", jsonOf(t, got))
		}
		if n := len(e.eventsOf("person.update", personTarget(p.ID))); n != len(patches) {
			t.Errorf("%d update events, want %d", n, len(patches))
		}
		rec, err := e.svc.FindRecordByID(e.cw, p.ID, r.ID)
		if err != nil || rec.Title != title || rec.Body != body || rec.Category != cat || !rec.OccurredAt.Equal(at) {
			t.Errorf("record after concurrent updates: %+v, %v", rec, err)
		}
	})
}
