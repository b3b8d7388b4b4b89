package sqldb_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// readAs reads a person as the principal of ctx and records the read's
// event as the web layer does after answering.
func (e *regEnv) readAs(ctx context.Context, id int64) {
	e.t.Helper()
	ctx, req := e.withRequest(ctx)
	if _, err := e.svc.FindPersonByID(ctx, id); err != nil {
		e.t.Fatalf("read %d: %v", id, err)
	}
	e.recordRequest(ctx, req)
}

// recordRequest records the event of a request that changed nothing, as
// the web layer does.
func (e *regEnv) recordRequest(ctx context.Context, req *tillit.Request) {
	e.t.Helper()
	req.Event.Actor = tillit.PrincipalFromContext(ctx).Actor()
	req.Event.At = e.clock.Now()
	req.Event.Outcome = tillit.OutcomeOK
	if err := e.db.RecordEvent(ctx, &req.Event); err != nil {
		e.t.Fatal(err)
	}
}

func samplePurposes() []tillit.Purpose {
	return []tillit.Purpose{
		{Name: "Membership", LegalBasis: tillit.BasisContract, Description: "Keeping the member register.", Categories: []string{"given_name", "note"}},
		{Name: "Bookkeeping", LegalBasis: tillit.BasisLegalObligation},
	}
}

func TestPurposes(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		got, err := e.svc.Purposes(e.reader)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("no purposes yet: %v, %v", got, err)
		}
		ctx, req := e.withRequest(e.admin)
		in := samplePurposes()
		in[0].Name = "  Membership "
		saved, err := e.svc.SetPurposes(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if saved[0].Name != "Membership" || !req.Recorded {
			t.Fatalf("saved %+v, recorded %v", saved, req.Recorded)
		}
		if evs := e.eventsOf("purpose.update", ""); len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{"purposes"}) {
			t.Fatalf("purpose events %+v", evs)
		}
		got, err = e.svc.Purposes(e.auditor) // tenant:read: every role
		if err != nil || jsonOf(t, got) != jsonOf(t, samplePurposes()) {
			t.Fatalf("purposes %s, %v", jsonOf(t, got), err)
		}
		if _, err := e.svc.SetPurposes(e.cw, samplePurposes()); code(err) != tillit.EForbidden {
			t.Fatalf("caseworker sets purposes: %v", err)
		}

		long := strings.Repeat("x", 201)
		tooMany := make([]tillit.Purpose, tillit.MaxPurposes+1)
		for i := range tooMany {
			tooMany[i] = tillit.Purpose{Name: strings.Repeat("p", i+1), LegalBasis: tillit.BasisConsent}
		}
		for _, tc := range []struct {
			name  string
			list  []tillit.Purpose
			field string
		}{
			{"no name", []tillit.Purpose{{Name: " ", LegalBasis: tillit.BasisConsent}}, "purposes[0].name"},
			{"long name", []tillit.Purpose{{Name: long, LegalBasis: tillit.BasisConsent}}, "purposes[0].name"},
			{"same name", []tillit.Purpose{{Name: "A", LegalBasis: tillit.BasisConsent}, {Name: "a", LegalBasis: tillit.BasisContract}}, "purposes[1].name"},
			{"basis", []tillit.Purpose{{Name: "A", LegalBasis: "because"}}, "purposes[0].legal_basis"},
			{"description", []tillit.Purpose{{Name: "A", LegalBasis: tillit.BasisConsent, Description: strings.Repeat("d", 2001)}}, "purposes[0].description"},
			{"category", []tillit.Purpose{{Name: "A", LegalBasis: tillit.BasisConsent, Categories: []string{""}}}, "purposes[0].categories"},
			{"too many", tooMany, "purposes"},
		} {
			_, err := e.svc.SetPurposes(e.admin, tc.list)
			wantErr(t, err, tillit.EInvalid, tc.field)
		}
		got, _ = e.svc.Purposes(e.admin)
		if len(got) != 2 {
			t.Fatalf("a refused list changed the purposes: %+v", got)
		}
		if _, err := e.svc.SetPurposes(e.admin, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.svc.Purposes(e.admin); got == nil || len(got) != 0 {
			t.Fatalf("emptied purposes %+v", got)
		}
	})
}

func TestPersonReport(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		defer sqldb.SetReportPageForTest(3)()
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		if _, err := e.svc.SetPurposes(e.admin, samplePurposes()); err != nil {
			t.Fatal(err)
		}
		p := e.mustCreate(&tillit.Person{GivenName: "Åse", FamilyName: "Ødegård", Email: "ase@example.no",
			Attributes: map[string]any{"diagnosis": "flu", "municipality": "0301"}})
		other := e.mustCreate(&tillit.Person{GivenName: "Ola"})
		var want []int64
		for i := range 7 { // three pages of three
			r := &tillit.Record{PersonID: p.ID, Category: []string{"note", "visit"}[i%2], Title: "Visit", Body: "Notes æøå",
				OccurredAt: e.clock.Now().Add(-time.Duration(i) * time.Hour)}
			if err := e.svc.CreateRecord(e.cw, r); err != nil {
				t.Fatal(err)
			}
			want = append(want, r.ID)
		}
		e.clock.Add(time.Minute)
		e.readAs(e.reader, p.ID)
		e.readAs(e.reader, other.ID)
		e.clock.Add(time.Minute)
		e.readAs(e.cw, p.ID)
		e.readAs(e.cw, p.ID) // 3 reads of p: more than a page of the history

		ctx, req := e.withRequest(e.admin)
		rep, err := e.svc.PersonReport(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Person.GivenName != "Åse" || rep.Person.Attributes["diagnosis"] != "flu" || rep.Tenant != e.tenant.Name || rep.Language != "nb" {
			t.Fatalf("report person %+v tenant %q language %q", rep.Person, rep.Tenant, rep.Language)
		}
		var got []int64
		for _, r := range rep.Records {
			got = append(got, r.ID)
			if r.Body != "Notes æøå" {
				t.Fatalf("record %+v", r)
			}
		}
		if !slices.Equal(got, want) { // newest first: created newest to oldest
			t.Fatalf("records %v, want %v", got, want)
		}
		if jsonOf(t, rep.Purposes) != jsonOf(t, samplePurposes()) {
			t.Fatalf("purposes %s", jsonOf(t, rep.Purposes))
		}
		cats := map[string]tillit.DataCategory{}
		for _, c := range rep.Categories {
			cats[c.Kind+":"+c.Name] = c
		}
		if len(cats) != 7 || cats["attribute:diagnosis"].Classification != tillit.ClassSpecial ||
			cats["attribute:municipality"].Classification != tillit.ClassNonPersonal ||
			cats["attribute:email"].Classification != tillit.ClassPersonal || cats["record:visit"].Name != "visit" || cats["record:note"].Name != "note" {
			t.Fatalf("categories %+v", rep.Categories)
		}
		if !slices.Equal(rep.Sources, []string{tillit.SourceAPI}) || rep.Recipients == nil || rep.SubProcessors == nil ||
			rep.Retention.Policy != nil || rep.Retention.DeleteAt != nil {
			t.Fatalf("sources %v recipients %v %v retention %+v", rep.Sources, rep.Recipients, rep.SubProcessors, rep.Retention)
		}

		// The access history: the creation, the records, then both readers
		// with their names and roles, oldest first; nothing of Ola.
		var reads []tillit.Access
		for i, a := range rep.AccessHistory {
			if i > 0 && a.At.Before(rep.AccessHistory[i-1].At) {
				t.Fatalf("history not oldest first: %+v", rep.AccessHistory)
			}
			if a.Action == "person.read" {
				reads = append(reads, a)
			}
		}
		if first := rep.AccessHistory[0]; first.Action != "person.create" || first.Role != tillit.RoleCaseworker ||
			first.Name != "caseworker token" || !slices.Contains(first.Attributes, "given_name") {
			t.Fatalf("first access %+v", first)
		}
		if n := len(rep.AccessHistory); n != 1+7+3 {
			t.Fatalf("%d accesses, want 11: %+v", n, rep.AccessHistory)
		}
		if len(reads) != 3 || reads[0].Name != "reader token" || reads[0].Role != tillit.RoleReader ||
			reads[1].Name != "caseworker token" || reads[1].Role != tillit.RoleCaseworker ||
			!strings.HasPrefix(reads[0].Actor, "token:") || reads[0].Actor == reads[1].Actor ||
			!slices.Contains(reads[0].Attributes, "attributes.diagnosis") {
			t.Fatalf("reads %+v", reads)
		}

		// The report is one event, described for the web layer.
		if req.Event.Action != "person.report" || req.Event.Target != personTarget(p.ID) ||
			!slices.Contains(req.Event.Fields, "records") || !slices.Contains(req.Event.Fields, "given_name") {
			t.Fatalf("report event %+v", req.Event)
		}

		// Who may not.
		for name, ctx := range map[string]context.Context{"reader": e.reader, "auditor": e.auditor} {
			if _, err := e.svc.PersonReport(ctx, p.ID); code(err) != tillit.EForbidden {
				t.Fatalf("%s: %v", name, err)
			}
			if _, err := e.svc.ExportPerson(ctx, p.ID); code(err) != tillit.EForbidden {
				t.Fatalf("%s export: %v", name, err)
			}
		}
		otherTenant := sqldbtest.MustTenant(t, e.db, "other")
		_, _, otherAdmin := sqldbtest.MustToken(t, e.db, otherTenant, tillit.RoleAdmin)
		if _, err := e.svc.PersonReport(otherAdmin, p.ID); code(err) != tillit.ENotFound {
			t.Fatalf("another tenant's person: %v", err)
		}
		if _, err := e.svc.ExportPerson(otherAdmin, p.ID); code(err) != tillit.ENotFound {
			t.Fatalf("another tenant's person, export: %v", err)
		}
		if _, err := e.svc.PersonReport(e.admin, 12345); code(err) != tillit.ENotFound {
			t.Fatalf("no such person: %v", err)
		}

		// The export has the person and every record; it is its own event.
		ctx, req = e.withRequest(e.cw)
		exp, err := e.svc.ExportPerson(ctx, p.ID)
		if err != nil || exp.Person.Email != "ase@example.no" || len(exp.Records) != 7 {
			t.Fatalf("export %+v, %v", exp, err)
		}
		if req.Event.Action != "person.export" || !slices.Contains(req.Event.Fields, "records") {
			t.Fatalf("export event %+v", req.Event)
		}
	})
}

func TestPersonReportRetention(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		collected := time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", CollectedAt: collected})
		for _, tc := range []struct {
			policy string
			want   time.Time
		}{
			{`{"months":6,"from":"collected_at","mode":"review","grace_days":10}`, collected.AddDate(0, 6, 0)},
			{`{"months":6,"from":"collected_at","mode":"automatic","grace_days":10}`, collected.AddDate(0, 6, 10)},
			{`{"months":3,"from":"last_activity_at","mode":"review","grace_days":0}`, e.clock.Now().AddDate(0, 3, 0)},
		} {
			e.exec(`DELETE FROM retention_policies WHERE tenant_id = $1`, e.tenant.ID)
			e.exec(`INSERT INTO retention_policies (tenant_id, policy, updated_at) VALUES ($1, $2, $3)`,
				e.tenant.ID, tc.policy, e.clock.Now().UnixMicro())
			rep, err := e.svc.PersonReport(e.admin, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Retention.Policy == nil || rep.Retention.DeleteAt == nil || !rep.Retention.DeleteAt.Equal(tc.want) {
				t.Fatalf("policy %s: retention %+v, want delete at %v", tc.policy, rep.Retention, tc.want)
			}
		}
	})
}
