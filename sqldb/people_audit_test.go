package sqldb_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"tillit"
)

func TestPeopleAudit(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		allFields := []string{"address", "attributes.active", "attributes.diagnosis", "attributes.joined", "attributes.level",
			"attributes.member_no", "attributes.municipality", "birth_date", "email", "family_name", "given_name", "language",
			"national_id", "national_id_country", "phone"}

		ctx, req := e.withRequest(e.cw)
		p := fullPerson()
		if err := e.svc.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		tp := personTarget(p.ID)
		if !req.Recorded || req.Event.Action != "person.create" || req.Event.Target != tp {
			t.Fatalf("request event %+v recorded=%v", req.Event, req.Recorded)
		}
		evs := e.eventsOf("person.create", tp)
		if len(evs) != 1 || !slices.Equal(evs[0].Fields, allFields) || evs[0].Outcome != tillit.OutcomeOK ||
			!strings.HasPrefix(evs[0].Actor, "token:") || evs[0].RequestID != "req-test" || evs[0].ClientAddr != "192.0.2.1" {
			t.Fatalf("create events %+v", evs)
		}

		// A read is described for the web layer to record.
		ctx, req = e.withRequest(e.reader)
		if _, err := e.svc.FindPersonByID(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if req.Recorded || req.Event.Action != "person.read" || req.Event.Target != tp || !slices.Equal(req.Event.Fields, allFields) {
			t.Fatalf("read event %+v recorded=%v", req.Event, req.Recorded)
		}
		// So is a refused one, with what was asked for.
		ctx, req = e.withRequest(e.auditor)
		if _, err := e.svc.FindPersonByID(ctx, p.ID); code(err) != tillit.EForbidden {
			t.Fatal(err)
		}
		if req.Event.Action != "person.read" || req.Event.Target != tp {
			t.Fatalf("refused read event %+v", req.Event)
		}

		ctx, req = e.withRequest(e.cw)
		if _, err := e.svc.UpdatePerson(ctx, p.ID, []byte(`{"family_name":"Hansen","attributes":{"level":"silver"}}`)); err != nil {
			t.Fatal(err)
		}
		evs = e.eventsOf("person.update", tp)
		if !req.Recorded || len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{"attributes.level", "family_name"}) {
			t.Fatalf("update events %+v", evs)
		}

		// A list and a lookup name every person they return.
		q := e.mustCreate(&tillit.Person{GivenName: "Ola", Email: "ola@example.no"})
		ctx, req = e.withRequest(e.reader)
		page, err := e.svc.FindPeople(ctx, tillit.PersonFilter{})
		if err != nil || len(page.People) != 2 {
			t.Fatalf("list %+v, %v", page, err)
		}
		if req.Event.Action != "person.list" || req.Recorded || len(req.Also) != 2 {
			t.Fatalf("list event %+v, also %+v", req.Event, req.Also)
		}
		for i, also := range req.Also {
			want := allFields
			if page.People[i].ID == q.ID {
				want = []string{"email", "given_name"}
			}
			if also.Target != personTarget(page.People[i].ID) || !sameSet(also.Fields, want) {
				t.Fatalf("list also %+v, want %s %v", also, personTarget(page.People[i].ID), want)
			}
		}
		ctx, req = e.withRequest(e.reader)
		if found, err := e.svc.LookupPeople(ctx, tillit.PersonLookup{Email: "OLA@example.no"}); err != nil || len(found) != 1 {
			t.Fatalf("lookup %v, %v", found, err)
		}
		// One person found: the request's own event names them.
		if req.Event.Action != "person.lookup" || req.Event.Target != personTarget(q.ID) ||
			!sameSet(req.Event.Fields, []string{"email", "given_name"}) || len(req.Also) != 0 {
			t.Fatalf("lookup event %+v, also %+v", req.Event, req.Also)
		}
		ctx, req = e.withRequest(e.reader)
		if found, err := e.svc.LookupPeople(ctx, tillit.PersonLookup{Phone: "+46 70 123 45 67"}); err != nil || len(found) != 0 {
			t.Fatalf("lookup %v, %v", found, err)
		}
		if req.Event.Action != "person.lookup" || !slices.Equal(req.Event.Fields, []string{"phone"}) || len(req.Also) != 0 {
			t.Fatalf("empty lookup event %+v, also %+v", req.Event, req.Also)
		}

		// Records: the person is the target, the record and its fields the
		// fields.
		ctx, req = e.withRequest(e.cw)
		r := &tillit.Record{PersonID: p.ID, Category: "visit", Title: "Samtale om astma", Body: "Kari har astma."}
		if err := e.svc.CreateRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
		rec := fmt.Sprintf("record:%d", r.ID)
		if evs := e.eventsOf("record.create", tp); !req.Recorded || len(evs) != 1 ||
			!slices.Equal(evs[0].Fields, []string{rec, "category", "title", "body", "occurred_at"}) {
			t.Fatalf("record.create events %+v", evs)
		}
		ctx, req = e.withRequest(e.reader)
		if _, err := e.svc.FindRecords(ctx, p.ID, tillit.RecordFilter{}); err != nil {
			t.Fatal(err)
		}
		if req.Event.Action != "record.list" || req.Event.Target != tp || !slices.Equal(req.Event.Fields, []string{"records", rec}) {
			t.Fatalf("record.list event %+v", req.Event)
		}
		ctx, req = e.withRequest(e.reader)
		if _, err := e.svc.FindRecordByID(ctx, p.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if req.Event.Action != "record.read" || req.Event.Target != tp ||
			!slices.Equal(req.Event.Fields, []string{rec, "category", "title", "body", "occurred_at"}) {
			t.Fatalf("record.read event %+v", req.Event)
		}
		title := "Ny tittel"
		if _, err := e.svc.UpdateRecord(e.cw, p.ID, r.ID, tillit.RecordUpdate{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if evs := e.eventsOf("record.update", tp); len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{rec, "title"}) {
			t.Fatalf("record.update events %+v", evs)
		}
		if err := e.svc.DeleteRecord(e.cw, p.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if evs := e.eventsOf("record.delete", tp); len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{rec}) {
			t.Fatalf("record.delete events %+v", evs)
		}

		// No value is in any event.
		logText := strings.ToLower(jsonOf(t, e.events()))
		for _, v := range []string{"kari", "nordmann", "hansen", "example.no", "4791234567", "191212121212", "1912-12-12",
			"asthma", "astma", "silver", "gold", "storgata", "oslo", "2020-01-31", "ny tittel", "samtale", "ola"} {
			if strings.Contains(logText, v) {
				t.Errorf("the audit log holds %q", v)
			}
		}
	})
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
