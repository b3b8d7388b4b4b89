package sqldb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"tillit"
)

// setClock moves the env's clock to at.
func (e *retEnv) setClock(at time.Time) {
	e.clock.Add(at.Sub(e.clock.Now()))
}

// TestRetentionMonthEnd: on 31 March, under one month, someone collected
// on 2 March is not due (31 March − 1 month is not 3 March) and someone
// collected on 28 February is; the job and DueAt agree.
func TestRetentionMonthEnd(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		e.setClock(time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC))
		march2 := e.mustCreate(&tillit.Person{GivenName: "March", FamilyName: "Second", CollectedAt: time.Date(2027, 3, 2, 12, 0, 0, 0, time.UTC)})
		feb28 := e.mustCreate(&tillit.Person{GivenName: "Feb", FamilyName: "Last", CollectedAt: time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)})
		p := tillit.RetentionPolicy{Months: 1, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview,
			Categories: map[string]int{}}
		pre, err := e.svc.SetRetentionPolicy(e.privacy, &p, true)
		if err != nil || pre.WouldFlag != 1 {
			t.Fatalf("preview %+v %v, want 1 to flag", pre, err)
		}
		e.setPolicy(p)
		if run := e.run(); run.Flagged != 1 {
			t.Fatalf("run %+v, want 1 flagged", run)
		}
		if got := e.flaggedIDs(); !slices.Equal(got, []int64{feb28.ID}) {
			t.Fatalf("flagged %v, want only %d (28 Feb), not %d (2 March)", got, feb28.ID, march2.ID)
		}
		list, _, err := e.svc.FlaggedPeople(e.privacy, "", 10)
		if err != nil || len(list) != 1 || !list[0].DueAt.Equal(time.Date(2027, 3, 28, 12, 0, 0, 0, time.UTC)) {
			t.Fatalf("flagged %+v %v", list, err)
		}
		if due := p.DueAt(e.mustRead(march2.ID)); !due.After(e.clock.Now()) {
			t.Fatalf("DueAt of 2 March is %s, not after now", due)
		}
	})
}

// TestRetentionRecordsMonthEnd: the record cutoff is clamped as well.
func TestRetentionRecordsMonthEnd(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		e.setClock(time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC))
		person := e.mustCreate(&tillit.Person{GivenName: "R", FamilyName: "Ecord"})
		cat := "note"
		for _, at := range []time.Time{time.Date(2027, 3, 2, 12, 0, 0, 0, time.UTC), time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)} {
			if err := e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: person.ID, Category: cat, Title: "t", OccurredAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		p := tillit.RetentionPolicy{Months: 120, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview,
			Categories: map[string]int{cat: 1}}
		pre, err := e.svc.SetRetentionPolicy(e.privacy, &p, true)
		if err != nil || pre.WouldDelete != 1 {
			t.Fatalf("preview %+v %v, want 1 record to delete", pre, err)
		}
	})
}

func TestRetentionAutomaticNeedsStepUp(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		auto := tillit.RetentionPolicy{Months: 1, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic}
		review := tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview}
		// Saving an automatic policy without a step-up (a token not created
		// sensitive) is refused; a dry run and a review policy are not.
		if _, err := e.svc.SetRetentionPolicy(e.privacyNS, &auto, false); code(err) != tillit.EForbidden {
			t.Fatalf("automatic policy saved without a step-up: %v", err)
		}
		if p, _ := e.svc.RetentionPolicy(e.privacy); p != nil {
			t.Fatalf("policy saved: %+v", p)
		}
		if _, err := e.svc.SetRetentionPolicy(e.privacyNS, &auto, true); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if _, err := e.svc.SetRetentionPolicy(e.privacyNS, &review, false); err != nil {
			t.Fatalf("review policy: %v", err)
		}
		if _, err := e.svc.RunRetention(e.privacyNS, "", nil); err != nil {
			t.Fatalf("review run: %v", err)
		}
		e.setPolicy(auto) // sensitive
		e.clock.Add(40 * 24 * time.Hour)
		// Running it in automatic mode erases: the tenant's staff need a
		// step-up and person:erase.
		if _, err := e.svc.RunRetention(e.privacyNS, "", nil); code(err) != tillit.EForbidden {
			t.Fatalf("automatic run without a step-up: %v", err)
		}
		e.mustRead(old.ID)
		// A session of a person with retention:write but without a step-up.
		sess := tillit.NewContextWithPrincipal(context.Background(), &tillit.Principal{Kind: tillit.KindUser,
			ID: 1, TenantID: e.tenant.ID, Name: "officer", Role: tillit.RolePrivacy})
		if _, err := e.svc.RunRetention(sess, "", nil); code(err) != tillit.EStepUp {
			t.Fatalf("automatic run of a session without a step-up: %v", err)
		}
		if _, err := e.svc.SetRetentionPolicy(sess, &auto, false); code(err) != tillit.EStepUp {
			t.Fatalf("automatic policy of a session without a step-up: %v", err)
		}
		runs, err := e.svc.RunRetention(e.privacy, "", nil)
		if err != nil || len(runs) != 1 || runs[0].Erased != 1 {
			t.Fatalf("sensitive run %+v %v", runs, err)
		}
	})
}

// TestRetentionSwitchToAutomaticRestartsGrace: people flagged for review
// get the whole grace period when the policy becomes automatic.
func TestRetentionSwitchToAutomaticRestartsGrace(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		old := e.personCollected("Old", 13)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionReview})
		if run := e.run(); run.Flagged != 1 {
			t.Fatalf("run %+v", run)
		}
		e.clock.Add(60 * 24 * time.Hour) // flagged for review 60 days ago
		switched := e.clock.Now()
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic, GraceDays: 30})
		if f, _ := e.flaggedAt(old.ID); f != switched.UnixMicro() {
			t.Fatalf("flagged_at %d, want the switch %d", f, switched.UnixMicro())
		}
		evs := e.eventsOf("retention.policy", "tenant:"+itoa(e.tenant.ID))
		if len(evs) != 2 || !slices.Contains(evs[1].Fields, "grace_restarted:1") {
			t.Fatalf("policy events %+v", evs)
		}
		if run := e.run(); run.Erased != 0 {
			t.Fatalf("erased at the switch, with no grace: %+v", run)
		}
		e.mustRead(old.ID)
		// Saving the automatic policy again does not restart it.
		e.clock.Add(10 * 24 * time.Hour)
		e.setPolicy(tillit.RetentionPolicy{Months: 12, From: tillit.RetentionFromCollected, Mode: tillit.RetentionAutomatic, GraceDays: 30})
		if f, _ := e.flaggedAt(old.ID); f != switched.UnixMicro() {
			t.Fatalf("flagged_at %d moved on a save of the same mode", f)
		}
		e.clock.Add(20 * 24 * time.Hour)
		if run := e.run(); run.Erased != 1 {
			t.Fatalf("not erased after the grace period: %+v", run)
		}
	})
}

// TestClaimJobRelease: a failed run gives the day back; a release after
// another claim leaves that claim alone.
func TestClaimJobRelease(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRetEnv(t, dialect)
		ctx := context.Background()
		c1, err := e.db.ClaimRetention(ctx)
		if err != nil || c1 == nil {
			t.Fatalf("first claim %v %v", c1, err)
		}
		e.clock.Add(time.Hour)
		if c, _ := e.db.ClaimRetention(ctx); c != nil {
			t.Fatal("claimed twice in an hour")
		}
		if err := c1.Release(ctx); err != nil {
			t.Fatal(err)
		}
		c2, err := e.db.ClaimRetention(ctx)
		if err != nil || c2 == nil {
			t.Fatalf("not claimed again after a release: %v %v", c2, err)
		}
		if err := c1.Release(ctx); err != nil { // stale: c2 holds the day
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
		if c, _ := e.db.ClaimRetention(ctx); c != nil {
			t.Fatal("a stale release gave away another run's day")
		}
		e.clock.Add(22 * time.Hour)
		if c, _ := e.db.ClaimRetention(ctx); c == nil {
			t.Fatal("not claimed the next day")
		}
	})
}
