package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"tillit/auditlog"
	"tillit/receipt"
	"tillit/sqldb"
)

// loadReceiptSigner loads the platform key, the audit signing key that
// loadAuditSigner made, as the signer of erasure receipts.
func loadReceiptSigner(path string) (*receipt.Signer, error) {
	skey, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	s, err := receipt.NewSigner(string(skey))
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return s, nil
}

// people returns the register of the store, signing erasure receipts with
// the platform key.
func (s *store) people() *sqldb.PeopleService {
	return sqldb.NewPeopleService(s.db, s.keys).WithReceipts(s.receipts)
}

// runReceipt runs a receipt subcommand: verify.
func runReceipt(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "receipt", []command{
		{"verify", "check the signature of an erasure or anonymisation receipt", runReceiptVerify},
	}, args)
}

// runReceiptVerify checks a receipt file (the JSON the API answers with, or
// the bare signed note) against the platform key and prints what it says.
// It needs no database: only the key, from the data directory or
// --public-key.
func runReceiptVerify(ctx context.Context, p *proc, args []string) error {
	fset := p.flagSet("receipt verify", "[--public-key KEY] FILE",
		"Check the signature of an erasure or anonymisation receipt: FILE holds the JSON that\n"+
			"DELETE /api/v1/people/{id} or POST /api/v1/people/{id}/anonymise answered with, or its \"note\"\n"+
			"alone. Prints what the receipt says. Exit status 0: valid; 1: not valid, and why.")
	cfg := newConfig(fset)
	var publicKey string
	fset.StringVar(&publicKey, "public-key", "", "the platform `key` to check the signature with (GET /api/v1/audit/key); default: the one of the data directory")
	files, err := p.parseConfigFiles(fset, cfg, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef(fset.Name(), "give exactly one receipt FILE; run 'tillit receipt verify -h' for help")
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return fmt.Errorf("receipt verify: %w", err)
	}
	vkey := strings.TrimSpace(publicKey)
	if vkey == "" {
		skey, err := os.ReadFile(cfg.AuditKeyPath())
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("receipt verify: the data directory %s has no audit.key; give the server's key with --public-key (GET /api/v1/audit/key)", cfg.Data)
		}
		if err != nil {
			return fmt.Errorf("receipt verify: %w", err)
		}
		signer, err := auditlog.NewSigner(string(skey))
		if err != nil {
			return fmt.Errorf("receipt verify: %s: %w", cfg.AuditKeyPath(), err)
		}
		vkey = signer.VerifierKey()
	}
	r, err := receipt.Verify(data, vkey)
	if err != nil {
		return fmt.Errorf("receipt verify: FAILED: %w", err)
	}
	_, err = fmt.Fprintf(p.stdout, "receipt verify: OK: %s of person %d of tenant %s at %s: %d attributes, %d records, %d keys, %d index entries\n",
		r.Kind, r.PersonID, r.Tenant, r.At.Format("2006-01-02T15:04:05.000000Z07:00"),
		r.Erased.Attributes, r.Erased.Records, r.Erased.Keys, r.Erased.IndexEntries)
	return err
}
