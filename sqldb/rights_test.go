package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
)

// zebulon is a person with a value of every kind, and two records.
func (e *regEnv) zebulon() *tillit.Person {
	e.t.Helper()
	p := e.mustCreate(&tillit.Person{GivenName: "Zebulon", FamilyName: "Quixotesson", NationalID: "19811218-9876",
		NationalIDCountry: "SE", Email: "zebulon@hemmelig-post.example", Phone: "+47 412 87 905",
		Address:    &tillit.Address{Street: "Hemmeligveien 42", PostalCode: "0150", City: "Zebraby", Country: "NO"},
		Attributes: map[string]any{"diagnosis": "Kronisk zebrafeber", "municipality": "Oslo"}})
	e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "visit", Title: "Samtale om zebrafeberen", Body: "Pasienten klager over striper."})
	e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Oppfølging av zebrafeberen"})
	return p
}

// gone fails unless nothing of the person opens, is found or is stored.
func (e *regEnv) gone(id int64) {
	e.t.Helper()
	if _, err := e.svc.FindPersonByID(e.admin, id); tillit.ErrorCode(err) != tillit.ENotFound {
		e.t.Fatalf("read after erasure: %v", err)
	}
	if _, err := e.svc.FindRecords(e.admin, id, tillit.RecordFilter{}); tillit.ErrorCode(err) != tillit.ENotFound {
		e.t.Fatalf("records after erasure: %v", err)
	}
	for _, l := range []tillit.PersonLookup{{Email: "zebulon@hemmelig-post.example"}, {Phone: "+4741287905"}, {NationalID: "198112189876"}} {
		found, err := e.svc.LookupPeople(e.admin, l)
		if err != nil || len(found) != 0 {
			e.t.Fatalf("lookup %+v after erasure: %v %v", l, personIDs(found), err)
		}
	}
	if ids := personIDs(e.allPeople(e.svc)); slices.Contains(ids, id) {
		e.t.Fatalf("listed after erasure: %v", ids)
	}
	if n := queryInt(e.t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys WHERE person_id = $1`, id); n != 0 {
		e.t.Fatalf("%d key rows left", n)
	}
	data := e.rawData()
	if n := queryInt(e.t, data, `SELECT COUNT(*) FROM people WHERE id = $1`, id); n != 0 {
		e.t.Fatalf("%d people rows left", n)
	}
	if n := queryInt(e.t, data, `SELECT COUNT(*) FROM records WHERE person_id = $1`, id); n != 0 {
		e.t.Fatalf("%d records left", n)
	}
}

func TestErasePerson(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.zebulon()
		other := e.mustCreate(&tillit.Person{GivenName: "Other", Email: "other@example.com"})
		e.mustRead(p.ID)

		// Who may not: a caseworker, a reader, an admin or privacy
		// officer without a step-up (their tokens are not sensitive).
		for name, ctx := range map[string]context.Context{"caseworker": e.cw, "reader": e.reader, "auditor": e.auditor} {
			if _, err := e.svc.ErasePerson(ctx, p.ID); tillit.ErrorCode(err) != tillit.EForbidden {
				t.Fatalf("%s erases: %v", name, err)
			}
		}
		for name, ctx := range map[string]context.Context{"admin": e.admin, "privacy": e.privacy(false)} {
			_, err := e.svc.ErasePerson(ctx, p.ID)
			if tillit.ErrorCode(err) != tillit.EForbidden || !strings.Contains(err.Error(), "sensitive") {
				t.Fatalf("%s without step-up erases: %v", name, err)
			}
		}
		e.mustRead(p.ID)

		officer := e.privacy(true)
		ctx, req := e.withRequest(officer)
		r, err := e.svc.ErasePerson(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		// given, family, national id and its country, birth date (from the
		// national id), e-mail, phone, address and the diagnosis; the
		// municipality is non_personal, not sealed.
		want := tillit.ErasureCounts{Attributes: 9, Records: 2, Keys: 1, IndexEntries: 3}
		verifyReceipt(t, r, tillit.ReceiptErasure, p.ID, want)
		if !req.Recorded || req.Event.Action != "person.erase" {
			t.Fatalf("the request's event: %+v", req)
		}
		e.gone(p.ID)
		e.mustRead(other.ID)

		evs := e.eventsOf("person.erase", personTarget(p.ID))
		if len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{"attributes:9", "records:2", "keys:1", "index_entries:3"}) {
			t.Fatalf("erase events %+v", evs)
		}
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM receipts WHERE person_id = $1 AND kind = 'erasure' AND note = $2`, p.ID, r.Note); n != 1 {
			t.Fatalf("%d receipt rows", n)
		}
		e.verifyAudit()

		// Erased is erased: again, it is not found.
		if _, err := e.svc.ErasePerson(officer, p.ID); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("erase again: %v", err)
		}

		if dialect == sqldb.SQLite {
			dir := filepath.Dir(e.dataURL)
			if err := e.db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := e.ks.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "keys.db")); err != nil {
				t.Fatal(err)
			}
			searchFiles(t, dir, []string{"Zebulon", "Quixotesson", "198112189876", "zebulon@hemmelig-post", "+4741287905",
				"Hemmeligveien", "Zebraby", "zebrafeber", "striper"})
		}
	})
}

// An erasure cut short after the key was destroyed leaves rows nothing
// opens; erasing again finishes the job.
func TestEraseFinishesCutShort(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.zebulon()
		if _, err := e.kr.DestroyPersonKeys(context.Background(), e.tenant.ID, []int64{p.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindPersonByID(e.admin, p.ID); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("read without key: %v", err)
		}
		if ids := personIDs(e.allPeople(e.svc)); len(ids) != 0 {
			t.Fatalf("listed without key: %v", ids)
		}
		r, err := e.svc.ErasePerson(e.privacy(true), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		verifyReceipt(t, r, tillit.ReceiptErasure, p.ID, tillit.ErasureCounts{Attributes: 9, Records: 2, Keys: 0, IndexEntries: 3})
		e.gone(p.ID)
	})
}

func TestLegalHold(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.zebulon()
		free := e.mustCreate(&tillit.Person{GivenName: "Free", Email: "free@example.com"})
		officer := e.privacy(true)
		const reason = "Bokføringsloven § 13: bilag oppbevares i fem år"

		if _, err := e.svc.SetHold(e.cw, p.ID, reason, nil); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Fatalf("caseworker sets a hold: %v", err)
		}
		_, err := e.svc.SetHold(officer, p.ID, "  ", nil)
		wantErr(t, err, tillit.EInvalid, "reason")
		_, err = e.svc.SetHold(officer, p.ID, strings.Repeat("x", tillit.MaxReason+1), nil)
		wantErr(t, err, tillit.EInvalid, "reason")
		past := e.clock.Now().Add(-time.Hour)
		_, err = e.svc.SetHold(officer, p.ID, reason, &past)
		wantErr(t, err, tillit.EInvalid, "until")
		if _, err := e.svc.SetHold(officer, 424242, reason, nil); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("hold on nobody: %v", err)
		}

		h, err := e.svc.SetHold(e.privacy(false), p.ID, reason, nil) // no step-up needed
		if err != nil {
			t.Fatal(err)
		}
		if h.Reason != reason || h.Until != nil || h.SetBy == "" {
			t.Fatalf("hold %+v", h)
		}
		got := e.mustRead(p.ID)
		if got.Hold == nil || got.Hold.Reason != reason || !got.Hold.SetAt.Equal(h.SetAt) {
			t.Fatalf("read hold %+v", got.Hold)
		}
		// The reason is sealed.
		var raw []byte
		if err := e.rawData().QueryRow(`SELECT hold_reason FROM people WHERE id = $1`, p.ID).Scan(&raw); err != nil || len(raw) == 0 || strings.Contains(string(raw), "Bokføring") {
			t.Fatalf("hold_reason %q %v", raw, err)
		}

		_, err = e.svc.ErasePerson(officer, p.ID)
		if tillit.ErrorCode(err) != tillit.EConflict || !strings.Contains(tillit.ErrorMessage(err), reason) {
			t.Fatalf("erase under hold: %v", err)
		}
		_, err = e.svc.AnonymisePerson(officer, p.ID)
		if tillit.ErrorCode(err) != tillit.EConflict || !strings.Contains(tillit.ErrorMessage(err), reason) {
			t.Fatalf("anonymise under hold: %v", err)
		}
		res, err := e.svc.ErasePeople(officer, []int64{p.ID, free.ID, 424242}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Held, []int64{p.ID}) || !slices.Equal(res.NotFound, []int64{424242}) || len(res.Receipts) != 1 || res.Receipts[0].PersonID != free.ID {
			t.Fatalf("bulk %+v", res)
		}
		e.mustRead(p.ID)

		// A hold with an end stops holding then.
		until := e.clock.Now().Add(48 * time.Hour)
		if _, err := e.svc.SetHold(officer, p.ID, reason, &until); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ErasePerson(officer, p.ID); tillit.ErrorCode(err) != tillit.EConflict {
			t.Fatalf("erase before until: %v", err)
		}
		if got := e.mustRead(p.ID); got.Hold == nil || got.Hold.Until == nil || !got.Hold.Until.Equal(until.Truncate(time.Microsecond)) {
			t.Fatalf("hold until: %+v", got.Hold)
		}
		if err := e.svc.ReleaseHold(officer, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ReleaseHold(officer, p.ID); err != nil {
			t.Fatalf("release twice: %v", err)
		}
		if got := e.mustRead(p.ID); got.Hold != nil {
			t.Fatalf("released hold %+v", got.Hold)
		}
		for _, a := range []string{"person.hold", "person.hold_release"} {
			if len(e.eventsOf(a, personTarget(p.ID))) == 0 {
				t.Fatalf("no %s event", a)
			}
		}
		if _, err := e.svc.SetHold(officer, p.ID, reason, &until); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(49 * time.Hour)
		if _, err := e.svc.ErasePerson(officer, p.ID); err != nil {
			t.Fatalf("erase after the hold ended: %v", err)
		}
		e.gone(p.ID)
		e.verifyAudit()
	})
}

func TestAnonymisePerson(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.zebulon()
		if _, err := e.svc.Restrict(e.privacy(false), p.ID, "disputes the data"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AnonymisePerson(e.privacy(false), p.ID); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Fatalf("anonymise without step-up: %v", err)
		}
		if _, err := e.svc.AnonymisePerson(e.cw, p.ID); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Fatalf("caseworker anonymises: %v", err)
		}
		officer := e.privacy(true)
		r, err := e.svc.AnonymisePerson(officer, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		verifyReceipt(t, r, tillit.ReceiptAnonymisation, p.ID, tillit.ErasureCounts{Attributes: 9, Records: 2, Keys: 1, IndexEntries: 3})

		got, err := e.svc.FindPersonByID(e.reader, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := &tillit.Person{ID: p.ID, Attributes: map[string]any{"municipality": "Oslo"}, CollectedAt: p.CollectedAt,
			UpdatedAt: r.At, LastActivityAt: got.LastActivityAt, Source: tillit.SourceAPI, AnonymisedAt: &r.At, BirthYear: 1981, PostalArea: "01"}
		samePerson(t, got, want)

		// Lists and lookups leave the remnant out.
		if ids := personIDs(e.allPeople(e.svc)); len(ids) != 0 {
			t.Fatalf("remnant listed: %v", ids)
		}
		if found, err := e.svc.LookupPeople(e.admin, tillit.PersonLookup{Email: "zebulon@hemmelig-post.example"}); err != nil || len(found) != 0 {
			t.Fatalf("remnant looked up: %v %v", found, err)
		}
		if _, err := e.svc.FindRecords(e.admin, p.ID, tillit.RecordFilter{}); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("records of the remnant: %v", err)
		}
		data := e.rawData()
		if n := queryInt(t, data, `SELECT COUNT(*) FROM people WHERE id = $1 AND email_idx IS NULL AND phone_idx IS NULL
			AND national_id_idx IS NULL AND restricted_at IS NULL AND length(sealed) = 0`, p.ID); n != 1 {
			t.Fatal("the remnant's row keeps sealed values or index entries")
		}
		// The records keep their category and date for statistics, not
		// their title and body.
		if n := queryInt(t, data, `SELECT COUNT(*) FROM records WHERE person_id = $1 AND length(title) = 0 AND length(body) = 0
			AND category IN ('visit', 'note')`, p.ID); n != 2 {
			t.Fatalf("%d emptied records, want 2", n)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys WHERE person_id = $1`, p.ID); n != 0 {
			t.Fatal("the key is left")
		}
		if evs := e.eventsOf("person.anonymise", personTarget(p.ID)); len(evs) != 1 {
			t.Fatalf("events %+v", evs)
		}

		// Irreversible: no change, no second anonymisation.
		if _, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(`{"given_name":"Back"}`)); tillit.ErrorCode(err) != tillit.EConflict ||
			!strings.Contains(tillit.ErrorMessage(err), "anonymised") {
			t.Fatalf("update of the remnant: %v", err)
		}
		if _, err := e.svc.AnonymisePerson(officer, p.ID); tillit.ErrorCode(err) != tillit.EConflict {
			t.Fatalf("anonymise again: %v", err)
		}
		// The remnant can be erased.
		r, err = e.svc.ErasePerson(officer, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		verifyReceipt(t, r, tillit.ReceiptErasure, p.ID, tillit.ErasureCounts{Records: 2})
		e.gone(p.ID)
		e.verifyAudit()
	})
}

func TestRestriction(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.zebulon()
		other := e.mustCreate(&tillit.Person{GivenName: "Other", Email: "other@example.com"})
		officer := e.privacy(false)
		if _, err := e.svc.Restrict(e.cw, p.ID, "x"); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Fatalf("caseworker restricts: %v", err)
		}
		_, err := e.svc.Restrict(officer, p.ID, "")
		wantErr(t, err, tillit.EInvalid, "reason")
		const reason = "Bestrider riktigheten (art. 18 nr. 1 a)"
		r, err := e.svc.Restrict(officer, p.ID, reason)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reason != reason {
			t.Fatalf("restriction %+v", r)
		}
		lookup := tillit.PersonLookup{Email: "zebulon@hemmelig-post.example"}
		for name, ctx := range map[string]context.Context{"caseworker": e.cw, "reader": e.reader} {
			if ids := personIDs(e.allPeople(svcAs{e.svc, ctx})); !slices.Equal(ids, []int64{other.ID}) {
				t.Fatalf("%s lists %v", name, ids)
			}
			page, err := e.svc.FindPeople(ctx, tillit.PersonFilter{Sort: tillit.SortByFamilyName})
			if err != nil || len(page.People) != 1 {
				t.Fatalf("%s lists by name: %v %v", name, page, err)
			}
			if found, err := e.svc.LookupPeople(ctx, lookup); err != nil || len(found) != 0 {
				t.Fatalf("%s looks up %v %v", name, personIDs(found), err)
			}
			// Read by id, the person is there, with the restriction shown.
			got, err := e.svc.FindPersonByID(ctx, p.ID)
			if err != nil || got.Restriction == nil || got.Restriction.Reason != reason {
				t.Fatalf("%s reads: %+v %v", name, got, err)
			}
		}
		for name, ctx := range map[string]context.Context{"admin": e.admin, "privacy": officer} {
			if ids := personIDs(e.allPeople(svcAs{e.svc, ctx})); len(ids) != 2 {
				t.Fatalf("%s lists %v", name, ids)
			}
			if found, err := e.svc.LookupPeople(ctx, lookup); err != nil || len(found) != 1 {
				t.Fatalf("%s looks up %v %v", name, personIDs(found), err)
			}
		}
		if err := e.svc.LiftRestriction(officer, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.LiftRestriction(officer, p.ID); err != nil {
			t.Fatalf("lift twice: %v", err)
		}
		if found, err := e.svc.LookupPeople(e.cw, lookup); err != nil || len(found) != 1 || found[0].Restriction != nil {
			t.Fatalf("after lifting: %v %v", found, err)
		}
		for _, a := range []string{"person.restrict", "person.restriction_lift"} {
			if len(e.eventsOf(a, personTarget(p.ID))) == 0 {
				t.Fatalf("no %s event", a)
			}
		}
		if err := e.svc.LiftRestriction(officer, 424242); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("lift of nobody: %v", err)
		}
	})
}

// svcAs lists people as the principal of ctx, whatever ctx allPeople passes.
type svcAs struct {
	svc *sqldb.PeopleService
	ctx context.Context
}

func (s svcAs) FindPeople(_ context.Context, f tillit.PersonFilter) (*tillit.PersonPage, error) {
	return s.svc.FindPeople(s.ctx, f)
}

func TestRegisterSetFields(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		now := e.clock.Now()
		for field, p := range map[string]*tillit.Person{
			"source":        {GivenName: "A", Source: tillit.SourceImport},
			"hold":          {GivenName: "A", Hold: &tillit.Hold{Reason: "x"}},
			"restriction":   {GivenName: "A", Restriction: &tillit.Restriction{Reason: "x"}},
			"anonymised_at": {GivenName: "A", AnonymisedAt: &now},
			"birth_year":    {GivenName: "A", BirthYear: 1990},
		} {
			wantErr(t, e.svc.CreatePerson(e.cw, p), tillit.EInvalid, field)
		}
		p := e.mustCreate(&tillit.Person{GivenName: "A", Email: "a@example.com"})
		if p.Source != tillit.SourceAPI || e.mustRead(p.ID).Source != tillit.SourceAPI {
			t.Fatalf("source %q", p.Source)
		}
		for _, field := range []string{"source", "hold", "restriction", "flagged_at", "kept_until", "anonymised_at", "birth_year", "postal_area"} {
			_, err := e.svc.UpdatePerson(e.cw, p.ID, []byte(`{"`+field+`":null}`))
			wantErr(t, err, tillit.EInvalid, field)
		}
		res, _ := e.mustImport(&sliceSource{people: []*tillit.Person{{GivenName: "B", Email: "b@example.com"},
			{GivenName: "C", Email: "c@example.com", Source: tillit.SourceAPI}}}, tillit.ImportOptions{})
		if res.Created != 1 || len(res.Refused) != 1 || res.Refused[0].Field != "source" {
			t.Fatalf("import %+v", res)
		}
		found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{Email: "b@example.com"})
		if err != nil || len(found) != 1 || found[0].Source != tillit.SourceImport {
			t.Fatalf("imported %+v %v", found, err)
		}
	})
}

func TestErasePeopleBulk(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		officer := e.privacy(true)
		if _, err := e.svc.ErasePeople(e.privacy(false), []int64{1}, nil); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Fatalf("bulk without step-up: %v", err)
		}
		_, err := e.svc.ErasePeople(officer, nil, nil)
		wantErr(t, err, tillit.EInvalid, "ids")
		_, err = e.svc.ErasePeople(officer, make([]int64, tillit.MaxBulkErasure+1), nil)
		wantErr(t, err, tillit.EInvalid, "ids")
		_, err = e.svc.ErasePeople(officer, []int64{-1}, nil)
		wantErr(t, err, tillit.EInvalid, "ids")

		const n = 2500
		if res, _ := e.mustImport(&sliceSource{people: numbered(n)}, tillit.ImportOptions{}); res.Created != n {
			t.Fatalf("import %+v", res)
		}
		ids := personIDs(e.allPeople(e.svc))
		var progress []int
		res, err := e.svc.ErasePeople(officer, append(ids, ids[0]), func(done int) { progress = append(progress, done) })
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Receipts) != n || len(res.Held) != 0 || len(res.NotFound) != 0 {
			t.Fatalf("bulk: %d receipts, held %v, not found %v", len(res.Receipts), res.Held, res.NotFound)
		}
		if !slices.Equal(progress, []int{1000, 2000, 2500}) {
			t.Fatalf("progress %v", progress)
		}
		verifyReceipt(t, res.Receipts[n-1], tillit.ReceiptErasure, res.Receipts[n-1].PersonID, tillit.ErasureCounts{Attributes: 2, Keys: 1, IndexEntries: 1})
		if got := len(e.allPeople(e.svc)); got != 0 {
			t.Fatalf("%d people left", got)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys WHERE tenant_id = $1`, e.tenant.ID); n != 0 {
			t.Fatalf("%d keys left", n)
		}
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM receipts WHERE tenant_id = $1`, e.tenant.ID); n != 2500 {
			t.Fatalf("%d receipts stored", n)
		}
		e.verifyAudit()
	})
}

// Without a platform key nothing is erased: the refusal comes before the
// key is destroyed.
func TestEraseNeedsReceiptSigner(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", Email: "kari@example.com"})
		bare := sqldb.NewPeopleService(e.db, e.kr)
		officer := e.privacy(true)
		if _, err := bare.ErasePerson(officer, p.ID); tillit.ErrorCode(err) != tillit.EUnavailable {
			t.Fatalf("erase without a signer: %v", err)
		}
		if _, err := bare.AnonymisePerson(officer, p.ID); tillit.ErrorCode(err) != tillit.EUnavailable {
			t.Fatalf("anonymise without a signer: %v", err)
		}
		e.mustRead(p.ID)
	})
}
