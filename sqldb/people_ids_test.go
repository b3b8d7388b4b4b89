package sqldb_test

import (
	"testing"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// TestIDTakenByAnotherProcess: when another process has taken the id a new
// person gets (in the data, for another tenant, or in the key store, for
// the same tenant), the person gets another id and is stored; nothing
// fails.
func TestIDTakenByAnotherProcess(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		db, svc := sqldbtest.People(t, dialect, newClock()) // a clock that stands still: ids come from SetLastIDForTest
		acme, beta := sqldbtest.MustTenant(t, db, "acme"), sqldbtest.MustTenant(t, db, "beta")
		_, _, acmeCtx := sqldbtest.MustToken(t, db, acme, tillit.RoleCaseworker)
		_, _, betaCtx := sqldbtest.MustToken(t, db, beta, tillit.RoleCaseworker)

		first := &tillit.Person{GivenName: "Kari", Email: "kari@example.no"}
		if err := svc.CreatePerson(betaCtx, first); err != nil {
			t.Fatal(err)
		}
		// The same id again, for another tenant: the data refuses the row.
		sqldb.SetLastIDForTest(first.ID - 1)
		other := &tillit.Person{GivenName: "Ola", Email: "ola@example.no"}
		if err := svc.CreatePerson(acmeCtx, other); err != nil {
			t.Fatalf("create over a taken id: %v", err)
		}
		if other.ID == first.ID {
			t.Fatalf("both have id %d", other.ID)
		}
		// The same id again, for the same tenant: the key store refuses it.
		sqldb.SetLastIDForTest(other.ID - 1)
		third := &tillit.Person{GivenName: "Per", Email: "per@example.no"}
		if err := svc.CreatePerson(acmeCtx, third); err != nil {
			t.Fatalf("create over an id with a key: %v", err)
		}
		// An import meets them too.
		sqldb.SetLastIDForTest(first.ID - 1)
		res, err := svc.ImportPeople(acmeCtx, &sliceSource{people: []*tillit.Person{{GivenName: "Liv", Email: "liv@example.no"},
			{GivenName: "Eva", Email: "eva@example.no"}}}, tillit.ImportOptions{}, nil)
		if err != nil || res.Created != 2 || res.RefusedTotal != 0 {
			t.Fatalf("import over taken ids: %+v, %v", res, err)
		}
		for _, p := range []*tillit.Person{first, other, third} {
			ctx := acmeCtx
			if p == first {
				ctx = betaCtx
			}
			got, err := svc.FindPersonByID(ctx, p.ID)
			if err != nil || got.GivenName != p.GivenName {
				t.Fatalf("person %d: %+v, %v", p.ID, got, err)
			}
		}
		found, err := svc.LookupPeople(acmeCtx, tillit.PersonLookup{Email: "eva@example.no"})
		if err != nil || len(found) != 1 {
			t.Fatalf("imported person: %v, %v", found, err)
		}
	})
}
