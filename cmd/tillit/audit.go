package main

import (
	"context"
	"fmt"
	"time"

	"tillit"
)

// runAudit runs an audit subcommand: verify.
func runAudit(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "audit", []command{
		{"verify", "recompute the audit logs and check every signed checkpoint", runAuditVerify},
	}, args)
}

// runAuditVerify recomputes the audit log of one tenant, or every log, from
// the stored events and checks every checkpoint signature. It prints a
// one-line summary and succeeds when the logs are intact; it fails naming
// the first bad event otherwise.
func runAuditVerify(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("audit verify", "[--tenant SLUG] [flags]",
		"Recompute the audit logs from the stored events and check every signed checkpoint.\n"+
			"Exit status 0: intact; 1: the first bad event is named.")
	cfg := newConfig(fs)
	var tenant string
	var publicKey string
	fs.StringVar(&publicKey, "public-key", "", "the audit `key` to check signatures with (GET /api/v1/audit/key); default: the one of the data directory")
	fs.StringVar(&tenant, "tenant", "", "`slug` of the one tenant to verify; empty for every log, the operators' too")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if tenant != "" {
		if err := tillit.ValidateSlug(tenant); err != nil {
			return flagError(fs, "tenant", err)
		}
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		var log *int64
		if tenant != "" {
			t, err := s.tenantBySlug(ctx, tenant)
			if err != nil {
				return err
			}
			log = &t.ID
		}
		vkey := s.signer.VerifierKey()
		if publicKey != "" {
			vkey = publicKey
		}
		start := p.clock.Now()
		r, err := s.db.VerifyAudit(ctx, log, vkey)
		if err != nil {
			return fmt.Errorf("audit verify: FAILED: %w", err)
		}
		_, err = fmt.Fprintf(p.stdout, "audit verify: OK: %d log(s), %d events, %d signed checkpoints, in %s\n",
			r.Logs, r.Events, r.Checkpoints, p.clock.Now().Sub(start).Round(time.Millisecond))
		return err
	})
}
