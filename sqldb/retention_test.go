package sqldb_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// retEnv is a register env with a privacy officer: a token of the privacy
// role that may do sensitive actions (erasure without a step-up) and one
// that may not.
type retEnv struct {
	*regEnv
	privacy   context.Context // sensitive
	privacyNS context.Context // not sensitive: erasing needs a step-up
}

func newRetEnv(t *testing.T, dialect string) *retEnv {
	t.Helper()
	e := &retEnv{regEnv: newRegEnv(t, dialect)}
	svc := sqldb.NewTokenService(e.db)
	for _, sensitive := range []bool{true, false} {
		_, secret, err := svc.CreateToken(sqldbtest.System(), tillit.TokenCreate{TenantID: e.tenant.ID, Name: "privacy", Role: tillit.RolePrivacy, Sensitive: sensitive})
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.AuthenticateToken(context.Background(), secret)
		if err != nil {
			t.Fatal(err)
		}
		ctx := tillit.NewContextWithPrincipal(context.Background(), p)
		if sensitive {
			e.privacy = ctx
		} else {
			e.privacyNS = ctx
		}
	}
	return e
}

// personCollected creates a person collected the given months before now.
func (e *retEnv) personCollected(name string, months int) *tillit.Person {
	e.t.Helper()
	return e.mustCreate(&tillit.Person{GivenName: name, FamilyName: "Nordmann", CollectedAt: e.clock.Now().AddDate(0, -months, 0)})
}

func (e *retEnv) setPolicy(p tillit.RetentionPolicy) {
	e.t.Helper()
	if _, err := e.svc.SetRetentionPolicy(e.privacy, &p, false); err != nil {
		e.t.Fatalf("set policy: %v", err)
	}
}

// run runs the job over the tenant as the system and returns its summary.
func (e *retEnv) run() *tillit.RetentionRun {
	e.t.Helper()
	runs, err := e.svc.RunRetention(sqldbtest.System(), e.tenant.Slug, nil)
	if err != nil {
		e.t.Fatalf("run retention: %v", err)
	}
	if len(runs) != 1 || runs[0].Tenant != e.tenant.Slug {
		e.t.Fatalf("runs %+v, want one of %s", runs, e.tenant.Slug)
	}
	return runs[0]
}

// flaggedIDs lists the flagged people's ids, oldest flag first.
func (e *retEnv) flaggedIDs() []int64 {
	e.t.Helper()
	list, _, err := e.svc.FlaggedPeople(e.privacy, "", 0)
	if err != nil {
		e.t.Fatalf("flagged: %v", err)
	}
	out := []int64{}
	for _, f := range list {
		out = append(out, f.ID)
	}
	return out
}

// flaggedAt returns the raw flagged_at and kept_until of a person (0: NULL).
func (e *retEnv) flaggedAt(id int64) (flagged, kept int64) {
	e.t.Helper()
	return int64(queryInt(e.t, e.rawData(), `SELECT COALESCE(flagged_at, 0) FROM people WHERE id = $1`, id)),
		int64(queryInt(e.t, e.rawData(), `SELECT COALESCE(kept_until, 0) FROM people WHERE id = $1`, id))
}

func TestRetentionFlagsPastTheirDate(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		fresh := e.personCollected("Fresh", 1)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview})
		run := e.run()
		if !run.Policy || run.Flagged != 1 || run.Erased != 0 {
			t.Fatalf("run %+v, want one flagged, none erased", run)
		}
		if got := e.flaggedIDs(); !slices.Equal(got, []int64{old.ID}) {
			t.Fatalf("flagged %v, want only %d (not the fresh %d)", got, old.ID, fresh.ID)
		}
		ctx, req := e.withRequest(e.privacy)
		list, next, err := e.svc.FlaggedPeople(ctx, "", 10)
		if err != nil || next != "" || len(list) != 1 {
			t.Fatalf("flagged %v %q %v", list, next, err)
		}
		f := list[0]
		if f.Name != "Old Nordmann" || !f.DueAt.Equal(old.CollectedAt.AddDate(0, 12, 0)) || f.EraseAt != nil || f.Hold != nil {
			t.Fatalf("flagged person %+v", f)
		}
		if len(req.Also) != 1 || req.Also[0].Target != personTarget(old.ID) || !slices.Contains(req.Also[0].Fields, tillit.AttrGivenName) {
			t.Fatalf("the list is not audited per person: %+v", req.Also)
		}
		// Running again flags nobody new; review mode never erases.
		e.clock.Add(400 * 24 * time.Hour)
		if run := e.run(); run.Erased != 0 || run.Flagged != 1 { // fresh is due now too
			t.Fatalf("second run %+v", run)
		}
		e.mustRead(old.ID)
		evs := e.eventsOf("retention.run", "tenant:"+itoa(e.tenant.ID))
		if len(evs) != 2 || !slices.Contains(evs[0].Fields, "flagged:1") || !slices.Contains(evs[0].Fields, "mode:review") || evs[0].Actor != "system:test" {
			t.Fatalf("summary events %+v", evs)
		}
		// Only the privacy officer's roles see the list.
		if _, _, err := e.svc.FlaggedPeople(e.cw, "", 0); code(err) != tillit.EForbidden {
			t.Fatalf("caseworker listed flagged people: %v", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRetentionFlaggedPages(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		var want []int64
		for i := range 5 {
			want = append(want, e.personCollected("P"+strconv.Itoa(i), 20).ID)
		}
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic, GraceDays: 10})
		e.run()
		var got []int64
		cursor := ""
		for pages := 0; ; pages++ {
			list, next, err := e.svc.FlaggedPeople(e.privacy, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range list {
				got = append(got, f.ID)
				if f.EraseAt == nil || !f.EraseAt.Equal(f.FlaggedAt.AddDate(0, 0, 10)) {
					t.Fatalf("erase_at %v, flagged %v", f.EraseAt, f.FlaggedAt)
				}
			}
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pages do not end")
			}
			cursor = next
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
		if _, _, err := e.svc.FlaggedPeople(e.privacy, "nonsense", 2); tillit.ErrorField(err) != "cursor" {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

func TestRetentionPolicyDryRun(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		e.personCollected("Fresh", 1)
		rec := &tillit.Record{PersonID: old.ID, Category: "note", Title: "t", OccurredAt: e.clock.Now().AddDate(0, -7, 0)}
		if err := e.svc.CreateRecord(e.cw, rec); err != nil {
			t.Fatal(err)
		}
		p := &tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview, Categories: map[string]int{"note": 6}}
		pv, err := e.svc.SetRetentionPolicy(e.privacy, p, true)
		if err != nil || pv.Saved || pv.WouldFlag != 1 || pv.WouldDelete != 1 {
			t.Fatalf("preview %+v %v", pv, err)
		}
		if got, err := e.svc.RetentionPolicy(e.privacy); err != nil || got != nil {
			t.Fatalf("a dry run saved %+v %v", got, err)
		}
		if f, _ := e.flaggedAt(old.ID); f != 0 {
			t.Fatal("a dry run flagged")
		}
		if len(e.eventsOf("retention.policy", "tenant:"+itoa(e.tenant.ID))) != 0 {
			t.Fatal("a dry run is audited as a change")
		}
		pv, err = e.svc.SetRetentionPolicy(e.privacy, p, false)
		if err != nil || !pv.Saved || pv.WouldFlag != 1 {
			t.Fatalf("save %+v %v", pv, err)
		}
		got, err := e.svc.RetentionPolicy(e.reader)
		if code(err) != tillit.EForbidden {
			t.Fatalf("reader read the policy: %v", err)
		}
		if got, err = e.svc.RetentionPolicy(e.admin); err != nil || got.Months != 12 || got.Categories["note"] != 6 || got.UpdatedAt.IsZero() {
			t.Fatalf("policy %+v %v", got, err)
		}
		if len(e.eventsOf("retention.policy", "tenant:"+itoa(e.tenant.ID))) != 1 {
			t.Fatal("saving the policy is not audited")
		}
		for _, c := range []struct {
			p     tillit.RetentionPolicy
			field string
		}{
			{tillit.RetentionPolicy{Months: 0, From: "collected_at", Mode: "review"}, "months"},
			{tillit.RetentionPolicy{Months: 121, From: "collected_at", Mode: "review"}, "months"},
			{tillit.RetentionPolicy{Months: 3, From: "updated_at", Mode: "review"}, "from"},
			{tillit.RetentionPolicy{Months: 3, From: "collected_at", Mode: "sometimes"}, "mode"},
			{tillit.RetentionPolicy{Months: 3, From: "collected_at", Mode: "automatic", GraceDays: -1}, "grace_days"},
			{tillit.RetentionPolicy{Months: 3, From: "collected_at", Mode: "review", Categories: map[string]int{"invoice": 3}}, "categories"},
		} {
			if _, err := e.svc.SetRetentionPolicy(e.privacy, &c.p, true); tillit.ErrorField(err) != c.field {
				t.Errorf("%+v: %v, want an error on %s", c.p, err, c.field)
			}
		}
		if _, err := e.svc.SetRetentionPolicy(e.cw, p, true); code(err) != tillit.EForbidden {
			t.Fatalf("caseworker set the policy: %v", err)
		}
	})
}

func TestRetentionFromLastActivity(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		active := e.personCollected("Active", 30)
		idle := e.personCollected("Idle", 30)
		now := e.clock.Now()
		e.exec(`UPDATE people SET last_activity_at = $1 WHERE id = $2`, now.AddDate(0, -2, 0).UnixMicro(), active.ID)
		e.exec(`UPDATE people SET last_activity_at = $1 WHERE id = $2`, now.AddDate(0, -13, 0).UnixMicro(), idle.ID)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromLastActivity, Mode: tillit.RetentionReview})
		if run := e.run(); run.Flagged != 1 {
			t.Fatalf("run %+v", run)
		}
		if got := e.flaggedIDs(); !slices.Equal(got, []int64{idle.ID}) {
			t.Fatalf("flagged %v, want %d", got, idle.ID)
		}
		// New activity about a flagged person takes the flag away.
		if err := e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: idle.ID, Category: "note", Title: "called"}); err != nil {
			t.Fatal(err)
		}
		if run := e.run(); run.Unflagged != 1 || run.Flagged != 0 {
			t.Fatalf("run after activity %+v", run)
		}
		if got := e.flaggedIDs(); len(got) != 0 {
			t.Fatalf("still flagged %v", got)
		}
	})
}

func TestRetentionKeep(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		fresh := e.personCollected("Fresh", 1)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview})
		e.run()
		d := tillit.RetentionDecision{IDs: []int64{old.ID, fresh.ID, 999}, Action: "keep", Reason: "ongoing case"}
		for _, c := range []struct {
			d     tillit.RetentionDecision
			field string
		}{
			{tillit.RetentionDecision{IDs: d.IDs, Action: "keep"}, "reason"},
			{tillit.RetentionDecision{IDs: d.IDs, Action: "keep", Reason: strings.Repeat("x", tillit.MaxReason+1)}, "reason"},
			{tillit.RetentionDecision{Action: "keep", Reason: "r"}, "ids"},
			{tillit.RetentionDecision{IDs: []int64{-1}, Action: "keep", Reason: "r"}, "ids"},
			{tillit.RetentionDecision{IDs: d.IDs, Action: "forget", Reason: "r"}, "action"},
		} {
			if _, err := e.svc.DecideRetention(e.privacy, c.d); tillit.ErrorField(err) != c.field {
				t.Errorf("%+v: %v, want an error on %s", c.d, err, c.field)
			}
		}
		if _, err := e.svc.DecideRetention(e.cw, d); code(err) != tillit.EForbidden {
			t.Fatalf("caseworker decided: %v", err)
		}
		res, err := e.svc.DecideRetention(e.privacy, d)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Kept, []int64{old.ID}) || !slices.Equal(res.NotFlagged, []int64{999, fresh.ID}) && !slices.Equal(res.NotFlagged, []int64{fresh.ID, 999}) {
			t.Fatalf("decision %+v", res)
		}
		flagged, kept := e.flaggedAt(old.ID)
		if flagged != 0 || kept != e.clock.Now().AddDate(0, 12, 0).UnixMicro() {
			t.Fatalf("flagged_at %d kept_until %d", flagged, kept)
		}
		if len(e.eventsOf("retention.keep", personTarget(old.ID))) != 1 || len(e.eventsOf("retention.decide", "tenant:"+itoa(e.tenant.ID))) != 1 {
			t.Fatal("the decision is not audited")
		}
		// The reason is kept with the person, sealed.
		if p, err := e.svc.FindPersonByID(e.privacy, old.ID); err != nil || p.KeptReason != "ongoing case" || p.KeptUntil == nil {
			t.Fatalf("kept person %+v, %v", p, err)
		}
		var sealed []byte
		if err := e.rawData().QueryRow(`SELECT kept_reason FROM people WHERE id = $1`, old.ID).Scan(&sealed); err != nil ||
			len(sealed) == 0 || strings.Contains(string(sealed), "ongoing case") {
			t.Fatalf("kept_reason stored as %q, %v", sealed, err)
		}
		// Kept: not flagged again until the period is over.
		if run := e.run(); run.Flagged != 0 {
			t.Fatalf("flagged again at once: %+v", run)
		}
		e.clock.Add(366 * 24 * time.Hour)
		e.run()
		if got := e.flaggedIDs(); !slices.Contains(got, old.ID) {
			t.Fatalf("not flagged after the kept period: %v", got)
		}
	})
}

func TestRetentionHeldSkipped(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		held := e.personCollected("Held", 13)
		e.exec(`UPDATE people SET held_at = $1, held_by = 'user:1' WHERE id = $2`, e.clock.Now().UnixMicro(), held.ID)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic, GraceDays: 0})
		run := e.run()
		if run.Flagged != 1 || run.Erased != 0 || !slices.Equal(run.Held, []int64{held.ID}) {
			t.Fatalf("run %+v, want the held person flagged, listed and not erased", run)
		}
		e.mustRead(held.ID)
		list, _, err := e.svc.FlaggedPeople(e.privacy, "", 0)
		if err != nil || len(list) != 1 || list[0].Hold == nil || list[0].Hold.SetBy != "user:1" {
			t.Fatalf("flagged %+v %v", list, err)
		}
		evs := e.eventsOf("retention.run", "tenant:"+itoa(e.tenant.ID))
		if len(evs) != 1 || !slices.Contains(evs[0].Fields, "held:1") || !slices.Contains(evs[0].Fields, "erased:0") {
			t.Fatalf("summary %+v", evs)
		}
		// A hold that ended no longer protects.
		e.exec(`UPDATE people SET hold_until = $1 WHERE id = $2`, e.clock.Now().Add(-time.Hour).UnixMicro(), held.ID)
		if run := e.run(); run.Erased != 1 || len(run.Held) != 0 {
			t.Fatalf("run after the hold %+v", run)
		}
	})
}

func TestRetentionAutomaticAfterGrace(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		fresh := e.personCollected("Fresh", 1)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic, GraceDays: 30})
		if run := e.run(); run.Flagged != 1 || run.Erased != 0 {
			t.Fatalf("first run %+v", run)
		}
		e.clock.Add(29 * 24 * time.Hour)
		if run := e.run(); run.Erased != 0 {
			t.Fatalf("erased before the grace period: %+v", run)
		}
		e.mustRead(old.ID)
		e.clock.Add(24 * time.Hour)
		var progress []int
		runs, err := e.svc.RunRetention(sqldbtest.System(), "", func(tenant string, erased int) {
			if tenant != e.tenant.Slug {
				t.Errorf("progress of %q", tenant)
			}
			progress = append(progress, erased)
		})
		if err != nil || len(runs) != 1 || runs[0].Erased != 1 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		if len(progress) == 0 || progress[len(progress)-1] != 1 {
			t.Fatalf("progress %v", progress)
		}
		if _, err := e.svc.FindPersonByID(e.cw, old.ID); code(err) != tillit.ENotFound {
			t.Fatalf("erased person still opens: %v", err)
		}
		e.mustRead(fresh.ID)
		if got := e.flaggedIDs(); len(got) != 0 {
			t.Fatalf("erased person still listed: %v", got)
		}
		evs := e.eventsOf("retention.run", "tenant:"+itoa(e.tenant.ID))
		if len(evs) != 3 || !slices.Contains(evs[2].Fields, "erased:1") {
			t.Fatalf("summary events %+v", evs)
		}
	})
}

func TestRetentionDecideErase(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		held := e.personCollected("Held", 14)
		fresh := e.personCollected("Fresh", 1)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview})
		e.run()
		e.exec(`UPDATE people SET held_at = $1, held_by = 'user:1' WHERE id = $2`, e.clock.Now().UnixMicro(), held.ID)
		d := tillit.RetentionDecision{IDs: []int64{old.ID, held.ID, fresh.ID}, Action: "erase", Reason: "past the policy"}
		if _, err := e.svc.DecideRetention(e.privacyNS, d); code(err) != tillit.EForbidden {
			t.Fatalf("erased without a sensitive token: %v", err)
		}
		res, err := e.svc.DecideRetention(e.privacy, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Erased) != 1 || res.Erased[0].PersonID != old.ID || !slices.Equal(res.Held, []int64{held.ID}) || !slices.Equal(res.NotFlagged, []int64{fresh.ID}) {
			t.Fatalf("decision %+v", res)
		}
		if _, err := e.svc.FindPersonByID(e.cw, old.ID); code(err) != tillit.ENotFound {
			t.Fatalf("erased person still opens: %v", err)
		}
		e.mustRead(held.ID)
		e.mustRead(fresh.ID)
	})
}

func TestRetentionRecords(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		p := e.personCollected("P", 1)
		now := e.clock.Now()
		mk := func(cat string, months int) *tillit.Record {
			r := &tillit.Record{PersonID: p.ID, Category: cat, Title: "t", OccurredAt: now.AddDate(0, -months, 0)}
			if err := e.svc.CreateRecord(e.cw, r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		oldNote, newNote, oldCase := mk("note", 7), mk("note", 1), mk("case", 30)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview, Categories: map[string]int{"note": 6}})
		if run := e.run(); run.RecordsDue != 1 || run.RecordsDeleted != 0 {
			t.Fatalf("review run %+v", run)
		}
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic, GraceDays: 10, Categories: map[string]int{"note": 6}})
		if run := e.run(); run.RecordsDeleted != 1 || run.Flagged != 0 {
			t.Fatalf("automatic run %+v", run)
		}
		if _, err := e.svc.FindRecordByID(e.cw, p.ID, oldNote.ID); code(err) != tillit.ENotFound {
			t.Fatalf("old note still there: %v", err)
		}
		for _, r := range []*tillit.Record{newNote, oldCase} {
			if _, err := e.svc.FindRecordByID(e.cw, p.ID, r.ID); err != nil {
				t.Fatalf("record %d deleted: %v", r.ID, err)
			}
		}
		evs := e.eventsOf("record.delete", personTarget(p.ID))
		if len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{"record:" + itoa(oldNote.ID)}) {
			t.Fatalf("record deletion events %+v", evs)
		}
	})
}

func TestRetentionRunAccess(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		other := sqldbtest.MustTenant(t, e.db, "other")
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview})
		runs, err := e.svc.RunRetention(e.privacy, "", nil)
		if err != nil || len(runs) != 1 || runs[0].Tenant != "acme" {
			t.Fatalf("own run %+v %v", runs, err)
		}
		if _, err := e.svc.RunRetention(e.privacy, other.Slug, nil); code(err) != tillit.EForbidden {
			t.Fatalf("ran another tenant's job: %v", err)
		}
		if _, err := e.svc.RunRetention(e.cw, "", nil); code(err) != tillit.EForbidden {
			t.Fatalf("caseworker ran the job: %v", err)
		}
		if _, err := e.svc.RunRetention(sqldbtest.System(), "nosuch", nil); code(err) != tillit.ENotFound {
			t.Fatalf("unknown tenant: %v", err)
		}
		// The system runs every tenant with a policy; one without is
		// reported when named.
		runs, err = e.svc.RunRetention(sqldbtest.System(), "", nil)
		if err != nil || len(runs) != 1 || runs[0].Tenant != "acme" {
			t.Fatalf("all tenants %+v %v", runs, err)
		}
		runs, err = e.svc.RunRetention(sqldbtest.System(), other.Slug, nil)
		if err != nil || len(runs) != 1 || runs[0].Policy {
			t.Fatalf("tenant without a policy %+v %v", runs, err)
		}
	})
}

func TestClaimJobOnce(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		other := sqldbtest.OpenURL(t, e.dataURL, e.clock) // a second node
		for round := range 3 {
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			for _, db := range []*sqldb.DB{e.db, other, e.db, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					claim, err := db.ClaimRetention(context.Background())
					if err != nil {
						t.Error(err)
					}
					if claim != nil {
						mu.Lock()
						won++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if won != 1 {
				t.Fatalf("round %d: %d claimers ran the job, want 1", round, won)
			}
			e.clock.Add(22 * time.Hour)
			if claim, _ := e.db.ClaimRetention(context.Background()); claim != nil {
				t.Fatalf("round %d: claimed again after 22 hours", round)
			}
			e.clock.Add(time.Hour)
		}
	})
}

// TestRetentionRunSize times a run of the job erasing many due people:
// TILLIT_RETENTION_SIZE=100000 go test ./sqldb -run TestRetentionRunSize -v
// (the goal is under 60 s on SQLite). Without the variable it runs with
// 3,000 people, crossing batches of the job.
func TestRetentionRunSize(t *testing.T) {
	n := 3000
	if v := os.Getenv("TILLIT_RETENTION_SIZE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		e.svc.SetImportBatchForTest(4000)
		people := numbered(n)
		for _, p := range people {
			p.CollectedAt = e.clock.Now().AddDate(-2, 0, 0)
		}
		start := time.Now()
		e.mustImport(&sliceSource{people: people}, tillit.ImportOptions{})
		imported := time.Since(start)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic})
		start = time.Now()
		last := 0
		runs, err := e.svc.RunRetention(sqldbtest.System(), e.tenant.Slug, func(_ string, erased int) { last = erased })
		took := time.Since(start)
		if err != nil || runs[0].Flagged != n || runs[0].Erased != n || last != n {
			t.Fatalf("run %+v %v (last progress %d)", runs, err, last)
		}
		if left := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM people WHERE tenant_id = $1`, e.tenant.ID); left != 0 {
			t.Fatalf("%d people left", left)
		}
		t.Logf("%s: imported %d people in %s; the retention run flagged and erased them in %s (%.0f/s)",
			dialect, n, imported.Round(time.Millisecond), took.Round(time.Millisecond), float64(n)/took.Seconds())
	})
}
