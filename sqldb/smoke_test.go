package sqldb_test

import (
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

func TestPeopleSmoke(t *testing.T) {
	for _, d := range sqldbtest.Engines(t) {
		t.Run(d, func(t *testing.T) {
			db, svc := sqldbtest.People(t, d, nil)
			ten := sqldbtest.MustTenant(t, db, "acme")
			_, _, ctx := sqldbtest.MustToken(t, db, ten, tillit.RoleCaseworker)
			p := &tillit.Person{GivenName: "Ola", FamilyName: "Nordmann", Email: "Ola@Example.no", Phone: "912 34 567",
				NationalID: "19121212-1212", NationalIDCountry: "SE", Address: &tillit.Address{City: "Oslo"}}
			if err := svc.CreatePerson(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, err := svc.FindPersonByID(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v %+v", got, got.Address)
			l, err := svc.LookupPeople(ctx, tillit.PersonLookup{Email: "ola@example.NO"})
			if err != nil || len(l) != 1 {
				t.Fatal(l, err)
			}
			l, err = svc.LookupPeople(ctx, tillit.PersonLookup{NationalID: "191212121212"})
			if err != nil || len(l) != 1 {
				t.Fatal(l, err)
			}
			up, err := svc.UpdatePerson(ctx, p.ID, []byte(`{"family_name":"Hansen","address":{"street":"Gata 1"}}`))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v %+v", up, up.Address)
			page, err := svc.FindPeople(ctx, tillit.PersonFilter{Sort: tillit.SortByFamilyName})
			if err != nil || len(page.People) != 1 {
				t.Fatal(page, err)
			}
			r := &tillit.Record{PersonID: p.ID, Category: "note", Title: "Hei", Body: "tekst"}
			if err := svc.CreateRecord(ctx, r); err != nil {
				t.Fatal(err)
			}
			rp, err := svc.FindRecords(ctx, p.ID, tillit.RecordFilter{})
			if err != nil || len(rp.Records) != 1 {
				t.Fatal(rp, err)
			}
			if err := svc.CreatePerson(ctx, &tillit.Person{Email: "ola@example.no"}); tillit.ErrorCode(err) != tillit.EConflict {
				t.Fatal(err)
			}
		})
	}
}
