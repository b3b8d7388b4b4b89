package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"tillit"
	"tillit/auditlog"
	"tillit/keyring"
	"tillit/notify"
	"tillit/password"
	"tillit/receipt"
	"tillit/sqldb"
)

// tenantKeysTTL is how long a process keeps a tenant's unwrapped keys
// before it reads them again: a server goes on wrapping new person keys with
// the tenant key version it read for up to this long after a rotation by
// another process (see runKeysRotate).
const tenantKeysTTL = 30 * time.Second

// store is the opened database with the audit signing key and the root
// key, as every subcommand that touches data uses them.
type store struct {
	db       *sqldb.DB
	keystore *sqldb.KeyStore
	keys     *keyring.Keyring
	signer   *auditlog.Signer
	receipts *receipt.Signer            // the same key as signer, for erasure receipts
	rootKey  *[keyring.RootKeySize]byte // version 1: account secrets are derived from it
	logger   *slog.Logger
	clock    tillit.Clock
}

// openStore creates the data directory (it holds the SQLite files and the
// keys), loads or creates the root key and the audit signing key, opens the
// database and the key store and applies the migrations they lack.
func openStore(ctx context.Context, p *proc, cfg *Config, logger *slog.Logger) (*store, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	roots, err := keyring.LoadRootKeys(cfg.RootKeyPath())
	if err != nil {
		return nil, err
	}
	signer, err := loadAuditSigner(cfg.AuditKeyPath())
	if err != nil {
		return nil, err
	}
	receipts, err := loadReceiptSigner(cfg.AuditKeyPath())
	if err != nil {
		return nil, err
	}
	db, err := sqldb.Open(ctx, sqldb.Config{URL: cfg.StoreURL(), Clock: p.clock, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate the database: %w", err)
	}
	for _, m := range applied {
		logger.Info("migration applied", "migration", m)
	}
	ks, err := sqldb.OpenKeyStore(ctx, sqldb.Config{URL: cfg.KeystoreStoreURL(), Clock: p.clock, Logger: logger})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open the key store: %w", err)
	}
	applied, err = ks.Migrate(ctx)
	if err != nil {
		db.Close()
		ks.Close()
		return nil, fmt.Errorf("migrate the key store: %w", err)
	}
	for _, m := range applied {
		logger.Info("key store migration applied", "migration", m)
	}
	keys, err := keyring.New(keyring.Config{
		Roots: func() (*keyring.RootKeys, error) { return keyring.LoadRootKeys(cfg.RootKeyPath()) },
		Store: ks, Clock: p.clock, TenantTTL: tenantKeysTTL,
	})
	if err != nil {
		db.Close()
		ks.Close()
		return nil, err
	}
	return &store{db: db, keystore: ks, keys: keys, signer: signer, receipts: receipts, rootKey: roots.First(), logger: logger, clock: p.clock}, nil
}

// ready reports whether the database and the key store answer and are
// migrated.
func (s *store) ready(ctx context.Context) error {
	if err := s.db.Ready(ctx); err != nil {
		return err
	}
	return s.keystore.Ready(ctx)
}

// loadAuditSigner loads the Ed25519 key that signs audit checkpoints,
// creating it (mode 0600) on first use.
func loadAuditSigner(path string) (*auditlog.Signer, error) {
	skey, _, err := keyring.LoadOrCreateKeyFile(path, func() ([]byte, error) {
		skey, _, err := auditlog.GenerateKey()
		return []byte(skey + "\n"), err
	})
	if err != nil {
		return nil, err
	}
	s, err := auditlog.NewSigner(string(skey))
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return s, nil
}

// close signs a checkpoint for every log that grew, so that what a command
// wrote is covered even when no server runs, and closes the database.
func (s *store) close(ctx context.Context) error {
	_, err := s.db.WriteCheckpoints(ctx, s.signer)
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	if cerr := s.keystore.Close(); err == nil {
		err = cerr
	}
	return err
}

// tenantBySlug returns the tenant with the slug, as the operator CLI.
func (s *store) tenantBySlug(ctx context.Context, slug string) (*tillit.Tenant, error) {
	return sqldb.NewTenantService(s.db).FindTenantBySlug(systemContext(ctx), slug)
}

// withStore opens the store, runs fn and closes the store, keeping the
// first error.
func withStore(ctx context.Context, p *proc, cfg *Config, fn func(s *store) error) (err error) {
	logger := p.newLogger(cfg)
	s, err := openStore(ctx, p, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.close(ctx); err == nil {
			err = cerr
		}
	}()
	return fn(s)
}

// authConfig returns the configuration of the account and sign-in
// services on this store: the configured mail server and SMS operator, or
// senders that refuse when none is configured.
func (s *store) authConfig(cfg *Config, p *proc) (sqldb.AuthConfig, error) {
	c := sqldb.AuthConfig{RootKey: s.rootKey, Hasher: password.NewHasher(0), Mailer: noMailer{}, BaseURL: cfg.PublicURL()}
	if smtp, ok, _ := cfg.SMTP(); ok {
		smtp.Clock = p.clock
		m, err := notify.NewSMTPMailer(smtp, s.logger)
		if err != nil {
			return c, err
		}
		c.Mailer = m
	}
	if sms, ok := cfg.SMS(); ok {
		sender, err := notify.NewSMSSender(sms, s.logger)
		if err != nil {
			return c, err
		}
		c.SMS = sender
	}
	return c, nil
}

// noMailer is the mailer while no SMTP server is configured: every mail
// fails with EUnavailable.
type noMailer struct{}

// Send refuses the mail. Errors: EUnavailable.
func (noMailer) Send(context.Context, tillit.Mail) error {
	return tillit.Errorf(tillit.EUnavailable, "no SMTP server is configured")
}
