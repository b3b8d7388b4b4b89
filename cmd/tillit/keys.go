package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tillit"
	"tillit/keyring"
)

// runKeys runs a keys subcommand: rotate or rotate-root.
func runKeys(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "keys", []command{
		{"rotate", "make a new tenant key and re-wrap the tenant's person keys with it (online, resumable)", runKeysRotate},
		{"rotate-root", "add a root key version and re-wrap every tenant key with it (online, resumable)", runKeysRotateRoot},
	}, args)
}

// runKeysRotate rotates a tenant's key while servers go on serving.
func runKeysRotate(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("keys rotate", "--tenant SLUG [flags]",
		"Make a new version of the tenant's key and re-wrap every person key of the tenant with it, in batches,\n"+
			"without touching the data; servers go on serving. Running servers keep wrapping the keys of new\n"+
			"people with the old version until they read the tenant's keys again (within 30 s), so the rotation\n"+
			"then waits --settle and re-wraps those too. If an earlier rotation was interrupted, this one\n"+
			"finishes it instead of starting another. Prints the result as JSON.")
	cfg := newConfig(fs)
	var slug string
	var settle time.Duration
	fs.StringVar(&slug, "tenant", "", "`slug` of the tenant")
	fs.DurationVar(&settle, "settle", tenantKeysTTL+5*time.Second,
		"how long to wait for running servers to stop using the old key version before re-wrapping the keys they made with it; 0 when no server runs")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "tenant", slug); err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, slug)
		if err != nil {
			return err
		}
		rot, err := s.rotateTenant(ctx, p, t.ID, settle)
		if rerr := s.recordKeyEvent(ctx, t.ID, "keys.rotate", "tenant:"+strconv.FormatInt(t.ID, 10), rot, err); err == nil {
			err = rerr
		}
		if err != nil {
			return fmt.Errorf("rotation of %s stopped after %d keys (run it again to finish): %w", slug, rot.Rewrapped, err)
		}
		return printJSON(p.stdout, rot)
	})
}

// rotateTenant rotates a tenant's key, then waits settle for servers that
// still wrap new person keys with the old version to read the tenant's keys
// again, and re-wraps the keys they made meanwhile.
func (s *store) rotateTenant(ctx context.Context, p *proc, tenantID int64, settle time.Duration) (keyring.Rotation, error) {
	rewrap := func() (keyring.Rotation, error) {
		bar := newProgress(p.stderr, "re-wrapping person keys", 0, "keys")
		defer bar.Done()
		return s.keys.RotateTenantKey(ctx, tenantID, func(done, total int) {
			bar.SetTotal(int64(total))
			bar.Set(int64(done))
		})
	}
	rot, err := rewrap()
	if err != nil || settle <= 0 {
		return rot, err
	}
	fmt.Fprintf(p.stderr, "waiting %s for running servers to take up key version %d (--settle)\n", settle, rot.Version)
	select {
	case <-ctx.Done():
		return rot, fmt.Errorf("interrupted while waiting for the servers: %w", ctx.Err())
	case <-time.After(settle):
	}
	left, err := s.keystore.CountPersonKeysBefore(ctx, tenantID, rot.Version)
	if err != nil || left == 0 {
		return rot, err
	}
	more, err := rewrap() // resumes: it re-wraps what is left
	rot.Rewrapped += more.Rewrapped
	return rot, err
}

// runKeysRotateRoot adds a root key version and re-wraps the tenant keys.
func runKeysRotateRoot(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("keys rotate-root", "[flags]",
		"Add a new version to the root key file and re-wrap every tenant key with it; servers go on serving\n"+
			"(they read the root key file again when they meet the new version). If an earlier rotation was\n"+
			"interrupted, this one finishes it instead of adding another version. Back up the root key file\n"+
			"afterwards: it holds every version. Version 1 stays: the secrets of accounts are derived from it.\n"+
			"With several nodes, first run it with --add-only, copy root.key to every node, then run it again\n"+
			"without: a node that lacks the new version cannot open tenant keys wrapped by it.")
	cfg := newConfig(fs)
	var addOnly bool
	fs.BoolVar(&addOnly, "add-only", false, "only add the new version to the root key file (to copy it to the other nodes); re-wrap nothing")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		roots, err := keyring.LoadRootKeys(cfg.RootKeyPath())
		if err != nil {
			return err
		}
		newest, _ := roots.Newest()
		unfinished, err := s.keystore.TenantKeysBefore(ctx, newest, 1)
		if err != nil {
			return err
		}
		if len(unfinished) == 0 {
			if roots, err = keyring.AddRootKeyVersion(cfg.RootKeyPath()); err != nil {
				return err
			}
		}
		if addOnly {
			v, _ := roots.Newest()
			fmt.Fprintf(p.stderr, "root key version %d is in %s; copy the file to every node, then run 'tillit keys rotate-root' again\n", v, cfg.RootKeyPath())
			rot := keyring.Rotation{Version: v, Started: len(unfinished) == 0}
			if err := s.recordKeyEvent(ctx, tillit.OperatorLog, "keys.add_root_version", "root-key", rot, nil); err != nil {
				return err
			}
			return printJSON(p.stdout, rot)
		}
		rot, err := s.keys.RotateRoot(ctx, func(done int) {
			fmt.Fprintf(p.stderr, "re-wrapped %d tenant keys\n", done)
		})
		rot.Started = len(unfinished) == 0
		if rerr := s.recordKeyEvent(ctx, tillit.OperatorLog, "keys.rotate_root", "root-key", rot, err); err == nil {
			err = rerr
		}
		if err != nil {
			return fmt.Errorf("root rotation stopped after %d tenant keys (run it again to finish): %w", rot.Rewrapped, err)
		}
		return printJSON(p.stdout, rot)
	})
}

// recordKeyEvent writes the audit event of a rotation: the version reached
// and how many keys it re-wrapped, as field names (never key material).
func (s *store) recordKeyEvent(ctx context.Context, log int64, action, target string, rot keyring.Rotation, err error) error {
	e := &tillit.Event{
		Log: log, At: s.clock.Now(), Actor: "system:cli", Action: action, Target: target, Outcome: tillit.OutcomeOK,
		Fields: []string{"version:" + strconv.FormatUint(uint64(rot.Version), 10), "rewrapped:" + strconv.Itoa(rot.Rewrapped)},
	}
	if err != nil {
		e.Outcome = tillit.ErrorCode(err)
	}
	return s.db.RecordEvent(context.WithoutCancel(ctx), e)
}
