package main

import (
	"context"
	"fmt"
	"time"

	"tillit"
)

// runRetention runs a retention subcommand: run.
func runRetention(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "retention", []command{
		{"run", "run the retention job now: flag, erase and delete what the tenants' policies say", runRetentionRun},
	}, args)
}

// runRetentionRun runs the retention job over one tenant or every tenant
// with a policy, as the daily job of `tillit serve` does.
func runRetentionRun(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("retention run", "[--tenant SLUG]",
		"Run the retention job (gallring) now over the tenant, or over every tenant with a retention policy:\n"+
			"flag the people past the policy's date; in automatic mode erase the people flagged at least\n"+
			"grace_days ago and delete the records past their category's months (in review mode they are\n"+
			"counted and left to the privacy officer). People under a legal hold are skipped and listed.\n"+
			"Writes a summary event to each tenant's audit log and prints the summaries as JSON. Servers\n"+
			"run the same job once a day by themselves.")
	cfg := newConfig(fs)
	var slug string
	fs.StringVar(&slug, "tenant", "", "`slug` of the tenant; every tenant with a policy if not given")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		var bar *progress
		tenant := ""
		runs, err := s.people().RunRetention(systemContext(ctx), slug, func(t string, erased int) {
			if bar == nil || t != tenant {
				if bar != nil {
					bar.Done()
				}
				tenant, bar = t, newProgress(p.stderr, "erasing people of "+t, 0, "people")
			}
			bar.Set(int64(erased))
		})
		if bar != nil {
			bar.Done()
		}
		for _, r := range runs {
			fmt.Fprintf(p.stderr, "%s\n", retentionSummary(r))
		}
		if perr := printJSON(p.stdout, runs); err == nil {
			err = perr
		}
		if err == nil && slug != "" && len(runs) == 1 && !runs[0].Policy {
			fmt.Fprintf(p.stderr, "tenant %s has no retention policy: nothing was done\n", slug)
		}
		return err
	})
}

// retentionSummary is one line of counts about a run: never a name.
func retentionSummary(r *tillit.RetentionRun) string {
	if !r.Policy {
		return fmt.Sprintf("%s: no retention policy", r.Tenant)
	}
	return fmt.Sprintf("%s: %d flagged, %d unflagged, %d erased, %d held, %d records deleted, %d records due for review",
		r.Tenant, r.Flagged, r.Unflagged, r.Erased, len(r.Held), r.RecordsDeleted, r.RecordsDue)
}

// How the daily retention job of `tillit serve` runs: shortly after the
// start, then a claim every hour; a claim succeeds once per 23 hours over
// every node sharing the database (sqldb.DB.ClaimRetention), and a run that
// fails gives its claim back, so the next hourly check tries again.
const (
	retentionFirstDelay = time.Minute
	retentionCheckEvery = time.Hour
)

// retentionDaily runs the retention job over every tenant once a day, on
// the node that claims the day, until ctx is done. It logs counts only.
func (s *store) retentionDaily(ctx context.Context) {
	s.retentionLoop(ctx, retentionFirstDelay, retentionCheckEvery)
}

func (s *store) retentionLoop(ctx context.Context, first, every time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.retentionOnce(ctx)
		t.Reset(every)
	}
}

// retentionOnce claims the day and, if this node got it, runs the job. A
// failed run gives the day back, so that the next check (within the hour,
// on any node) tries again rather than the next day.
func (s *store) retentionOnce(ctx context.Context) {
	claim, err := s.db.ClaimRetention(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Error("retention job not claimed", "err", err)
		}
		return
	}
	if claim == nil {
		return
	}
	sys := tillit.NewContextWithPrincipal(ctx, &tillit.Principal{Kind: tillit.KindSystem, Name: "retention"})
	start := s.clock.Now()
	runs, err := s.people().RunRetention(sys, "", nil)
	for _, r := range runs {
		s.logger.Info("retention run", "tenant", r.Tenant, "flagged", r.Flagged, "unflagged", r.Unflagged,
			"erased", r.Erased, "held", len(r.Held), "records_deleted", r.RecordsDeleted, "records_due", r.RecordsDue)
	}
	if err != nil {
		// Also when the server is stopping: the run did not finish.
		if rerr := claim.Release(context.WithoutCancel(ctx)); rerr != nil {
			s.logger.Error("retention job not given back", "err", rerr)
		}
		if ctx.Err() == nil {
			s.logger.Error("retention job failed; it is tried again at the next check", "err", err)
		}
		return
	}
	s.logger.Info("retention job done", "tenants", len(runs), "seconds", s.clock.Now().Sub(start).Seconds())
}
