package sqldb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// A legal hold and an erasure (or anonymisation) racing each other never
// both win: either the hold is set and the person is whole (key and rows),
// or the person is removed and the hold was refused.
func TestHoldRacesRemoval(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		officer := e.privacy(true)
		const n = 12
		people := numbered(n)
		for _, p := range people {
			if err := e.svc.CreatePerson(e.cw, p); err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range people {
			var holdErr, removeErr error
			var wg sync.WaitGroup
			wg.Go(func() { _, holdErr = e.svc.SetHold(officer, p.ID, "Bokføringsloven", nil) })
			wg.Go(func() {
				if i%2 == 0 {
					_, removeErr = e.svc.ErasePerson(officer, p.ID)
				} else {
					_, removeErr = e.svc.AnonymisePerson(officer, p.ID)
				}
			})
			wg.Wait()
			_, keyErr := e.kr.PersonKey(context.Background(), e.tenant.ID, p.ID)
			switch {
			case holdErr == nil && removeErr == nil:
				t.Fatalf("person %d: both the hold and the removal succeeded", i)
			case holdErr == nil:
				if code(removeErr) != tillit.EConflict || keyErr != nil {
					t.Fatalf("person %d: held, removal %v, key %v", i, removeErr, keyErr)
				}
				if got, err := e.svc.FindPersonByID(e.admin, p.ID); err != nil || got.Hold == nil || got.GivenName != p.GivenName {
					t.Fatalf("person %d: held but reads %+v, %v", i, got, err)
				}
			case removeErr == nil:
				if code(holdErr) != tillit.ENotFound && code(holdErr) != tillit.EConflict {
					t.Fatalf("person %d: removed, hold %v", i, holdErr)
				}
				if keyErr == nil {
					t.Fatalf("person %d: removed but the key is there", i)
				}
			default:
				t.Fatalf("person %d: hold %v, removal %v", i, holdErr, removeErr)
			}
		}
		e.verifyAudit()
	})
}

// A removal cut short after the person was marked (and the key destroyed)
// leaves a person no read shows and no hold can be set on; the retention
// job finishes it.
func TestRemovalCutShortIsFinished(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		erased, anonymised := e.zebulon(), e.mustCreate(&tillit.Person{GivenName: "Ada", BirthDate: "1980-02-03",
			Email: "ada@example.com", Address: &tillit.Address{PostalCode: "0150", City: "Oslo", Country: "NO"}})
		// What a process that died after marking and destroying the keys
		// leaves behind.
		mark := e.clock.Now().UnixMicro()
		e.exec(`UPDATE people SET erasing_at = $1, erasing = 'erase', email_idx = NULL, phone_idx = NULL, national_id_idx = NULL WHERE id = $2`, mark, erased.ID)
		e.exec(`UPDATE people SET erasing_at = $1, erasing = 'anonymise', birth_year = 1980, postal_area = '01',
			email_idx = NULL WHERE id = $2`, mark, anonymised.ID)
		if _, err := e.kr.DestroyPersonKeys(context.Background(), e.tenant.ID, []int64{erased.ID, anonymised.ID}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{erased.ID, anonymised.ID} {
			if _, err := e.svc.FindPersonByID(e.admin, id); code(err) != tillit.ENotFound {
				t.Fatalf("read of a person being removed: %v", err)
			}
			if _, err := e.svc.SetHold(e.privacy(true), id, "too late", nil); code(err) != tillit.ENotFound {
				t.Fatalf("hold on a person being removed: %v", err)
			}
		}
		if ids := personIDs(e.allPeople(e.svc)); len(ids) != 0 {
			t.Fatalf("listed while being removed: %v", ids)
		}
		// A minute later the retention job (with or without a policy)
		// finishes both.
		e.clock.Add(2 * time.Minute)
		runs, err := e.svc.RunRetention(sqldbtest.System(), "acme", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Finished != 2 {
			t.Fatalf("runs %+v", runs)
		}
		e.gone(erased.ID)
		p, err := e.svc.FindPersonByID(e.admin, anonymised.ID)
		if err != nil || p.AnonymisedAt == nil || p.BirthYear != 1980 || p.PostalArea != "01" || p.GivenName != "" {
			t.Fatalf("remnant %+v, %v", p, err)
		}
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM receipts WHERE person_id IN ($1, $2)`, erased.ID, anonymised.ID); n != 2 {
			t.Fatalf("%d receipts", n)
		}
		e.verifyAudit()
	})
}

// Erasing a person blanks the notes and reasons of their requests (they
// may name them) and their attached extract; the request itself stays, as
// evidence it was handled.
func TestErasureBlanksRequests(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", Email: "kari@example.com"})
		pid := p.ID
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, PersonID: &pid, Channel: "email",
			ReceivedAt: e.clock.Now().Add(-time.Hour), Note: "Kari Nordmann, 99 88 77 66, wants her data"})
		verified, completed := tillit.StatusIdentityVerified, tillit.StatusCompleted
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: &verified})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: &completed})
		if _, err := e.svc.ErasePerson(e.privacy(true), p.ID); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.FindRequestByID(e.cw, r.ID)
		if err != nil || got.Note != "" || got.Status != tillit.StatusCompleted || got.Type != tillit.RequestAccess || got.HasReport {
			t.Fatalf("request after erasure %+v, %v", got, err)
		}
		if _, err := e.svc.RequestReport(e.cw, r.ID); code(err) != tillit.ENotFound {
			t.Fatalf("report after erasure: %v", err)
		}
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM requests WHERE id = $1 AND report IS NULL AND LENGTH(sealed) = 0`, r.ID); n != 1 {
			t.Fatalf("the request's sealed parts are still stored")
		}
	})
}
