package main

// The retention op of tillit bench: one run of the retention job erasing
// many due people, timed.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// benchPolicy is a retention policy as the API takes and gives it.
type benchPolicy struct {
	Months     int            `json:"months"`
	From       string         `json:"from"`
	Mode       string         `json:"mode"`
	GraceDays  int            `json:"grace_days"`
	Categories map[string]int `json:"categories,omitempty"`
}

var (
	// benchDuePolicy is the policy retention sets: everyone collected more
	// than a month ago is erased by the next run of the job.
	benchDuePolicy = benchPolicy{Months: 1, From: "collected_at", Mode: "automatic", GraceDays: 0}
	// benchIdlePolicy is what retention leaves when the tenant had no
	// policy, which the API cannot take away: it erases nobody by itself
	// and flags no one for ten years.
	benchIdlePolicy = benchPolicy{Months: 120, From: "collected_at", Mode: "review", GraceDays: 0}
)

// benchRetentionRuns is the most runs of the job retention makes to erase
// its people: the first one erases them all unless a server flags and
// erases in different runs.
const benchRetentionRuns = 3

// retention imports b.RetentionSize people collected two years ago, sets
// the policy benchDuePolicy, and times the runs of the retention job that
// erase them; it puts the tenant's own policy back, also when interrupted.
// The result is nil when nothing was measured. It refuses to set the
// policy when it would erase people the bench did not import for it.
func (b *bench) retention(ctx context.Context) (*benchResult, error) {
	var cur struct {
		Policy *benchPolicy `json:"policy"`
	}
	if _, err := b.client.do(ctx, http.MethodGet, "/api/v1/retention/policy", "", nil, http.StatusOK, &cur); err != nil {
		return nil, fmt.Errorf("bench: retention: GET /api/v1/retention/policy: %w", err)
	}
	if err := b.retentionAlone(ctx, 0); err != nil {
		return nil, err
	}
	fmt.Fprintf(b.p.stderr, "bench: retention: importing %d people collected two years ago first (not measured)\n", b.RetentionSize)
	collected := b.p.clock.Now().AddDate(-2, 0, 0).UTC().Format(time.RFC3339)
	due, err := b.importMany(ctx, "retention", b.RetentionSize, collected, false)
	if err != nil || ctx.Err() != nil {
		return nil, err
	}
	if err := b.retentionAlone(ctx, due); err != nil {
		return nil, err
	}
	fmt.Fprintf(b.p.stderr, "bench: retention: setting the policy of %d month, %s, counted from %s; the tenant's own is put back after\n",
		benchDuePolicy.Months, benchDuePolicy.Mode, benchDuePolicy.From)
	if err := b.putPolicy(ctx, benchDuePolicy, false, nil); err != nil {
		return nil, fmt.Errorf("bench: retention: PUT /api/v1/retention/policy: %w", err)
	}
	r, runErr := b.retentionRuns(ctx, due)
	if err := b.restorePolicy(ctx, cur.Policy); err != nil && runErr == nil {
		runErr = err
	}
	return r, runErr
}

// retentionAlone checks that the policy retention sets would flag exactly
// want people of the tenant (those it imported), and that nobody is
// flagged already, whom it would erase too.
func (b *bench) retentionAlone(ctx context.Context, want int64) error {
	due, flagged, err := b.retentionDue(ctx)
	switch {
	case err != nil:
		return err
	case due > want || flagged:
		return fmt.Errorf("bench: retention: a policy of one month would erase people of the tenant the bench did not make for it "+
			"(%d due, %d of them the bench's; flagged already: %v); run retention in a tenant made for the bench", due, want, flagged)
	case due < want:
		return fmt.Errorf("bench: retention: only %d of the %d people imported as collected two years ago would be flagged; "+
			"the server did not take their collected_at", due, want)
	}
	return nil
}

// retentionDue returns how many people of the tenant the policy retention
// sets would flag now, and whether anyone is flagged already.
func (b *bench) retentionDue(ctx context.Context) (due int64, flagged bool, err error) {
	var preview struct {
		WouldFlag int64 `json:"would_flag"`
	}
	if err := b.putPolicy(ctx, benchDuePolicy, true, &preview); err != nil {
		return 0, false, fmt.Errorf("bench: retention: PUT /api/v1/retention/policy?dry_run=true: %w", err)
	}
	var page struct {
		People []json.RawMessage `json:"people"`
	}
	if _, err := b.client.do(ctx, http.MethodGet, "/api/v1/retention/flagged?limit=1", "", nil, http.StatusOK, &page); err != nil {
		return 0, false, fmt.Errorf("bench: retention: GET /api/v1/retention/flagged: %w", err)
	}
	return preview.WouldFlag, len(page.People) > 0, nil
}

// putPolicy sets the tenant's retention policy, or with dryRun previews
// it, decoding the preview into out.
func (b *bench) putPolicy(ctx context.Context, p benchPolicy, dryRun bool, out any) error {
	path := "/api/v1/retention/policy"
	if dryRun {
		path += "?dry_run=true"
	}
	body, _ := json.Marshal(p) // cannot fail: plain fields
	_, err := b.client.do(ctx, http.MethodPut, path, "application/json", body, http.StatusOK, out)
	return err
}

// retentionRuns times the runs of the retention job until they erased
// want people, or a run erased everyone it flagged (a server may flag in
// one run and erase in the next), or benchRetentionRuns ran. Its error is a run that failed or erased fewer than want.
func (b *bench) retentionRuns(ctx context.Context, want int64) (*benchResult, error) {
	fmt.Fprintf(b.p.stderr, "bench: retention: running the retention job (POST /api/v1/retention/run) to erase %d people\n", want)
	var stats benchStats
	var erased int64
	start := time.Now()
	for range benchRetentionRuns {
		var run struct {
			Erased  int `json:"erased"`
			Flagged int `json:"flagged"`
		}
		took, err := b.client.do(ctx, http.MethodPost, "/api/v1/retention/run", "", nil, http.StatusOK, &run)
		if ctx.Err() != nil {
			return nil, nil // cut off by Ctrl-C: not a measurement
		}
		stats.record(run.Erased, took, err)
		if err != nil {
			break
		}
		erased += int64(run.Erased)
		if erased >= want || run.Erased >= run.Flagged { // nobody it flagged is left for a next run
			break
		}
	}
	elapsed := time.Since(start)
	r := newBenchResult("retention", 1, &stats, elapsed)
	if stats.errors > 0 {
		return &r, fmt.Errorf("bench: retention: POST /api/v1/retention/run: %s", stats.samples[0])
	}
	fmt.Fprintf(b.p.stderr, "retention: the job erased %d people in %.1fs, %s/s (%d run(s))\n",
		erased, elapsed.Seconds(), benchThousands(int64(r.PerSecond+0.5)), stats.requests)
	if erased >= want {
		return &r, nil
	}
	// Another run of the job may have erased the rest meanwhile: the
	// daily job of serve runs a minute after it starts.
	due, flagged, err := b.retentionDue(ctx)
	switch {
	case err != nil:
		return &r, err
	case due > 0 || flagged:
		return &r, fmt.Errorf("bench: retention: the job erased %d of the %d due people the bench imported; %d are still due (flagged: %v)",
			erased, want, due, flagged)
	}
	fmt.Fprintf(b.p.stderr, "bench: retention: another run of the job erased %d of the due people meanwhile (the daily job of serve "+
		"runs a minute after it starts); the figure above is of the %d the bench's run erased, alongside it\n", want-erased, erased)
	return &r, nil
}

// restorePolicy puts back the tenant's policy from before retention, or
// when it had none the idle policy (the API has no way to remove one). It
// runs also when ctx is done: Ctrl-C must not leave a policy that erases
// everyone collected more than a month ago.
func (b *bench) restorePolicy(parent context.Context, old *benchPolicy) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), time.Minute)
	defer cancel()
	p := benchIdlePolicy
	if old != nil {
		p = *old
	}
	if err := b.putPolicy(ctx, p, false, nil); err != nil {
		return fmt.Errorf("bench: retention: putting the tenant's policy back: PUT /api/v1/retention/policy: %w; "+
			"the tenant's policy is now %d month, %s: set it again", err, benchDuePolicy.Months, benchDuePolicy.Mode)
	}
	if old == nil {
		fmt.Fprintf(b.p.stderr, "bench: retention: the tenant had no retention policy, and a policy cannot be removed: "+
			"it now has one of %d months in %s mode, which erases no one by itself\n", benchIdlePolicy.Months, benchIdlePolicy.Mode)
	}
	return nil
}
