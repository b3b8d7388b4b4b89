package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"tillit"
	"tillit/keyring"
	"tillit/sqldb"
	"tillit/web"
)

// serveGCPercent is the garbage collector's target of a server (GOGC).
const serveGCPercent = 400

// runServe serves the API and the console until ctx is done (SIGINT or
// SIGTERM), then shuts down gracefully.
func runServe(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("serve", "[flags]",
		"Serve the API and the console over HTTPS. With no flags it creates ./tillit-data\n"+
			"(root key, self-signed certificate for localhost, SQLite database) and\n"+
			"listens on 127.0.0.1:8443.")
	cfg := newConfig(fs)
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	logger := p.newLogger(cfg)
	if _, set := os.LookupEnv("GOGC"); !set {
		// A request allocates little that lives: let the heap grow to five
		// times what is live before collecting, for a third less collector
		// work under load (measured with tillit bench). GOGC overrides it.
		debug.SetGCPercent(serveGCPercent)
	}
	data, err := prepareData(cfg, p.clock)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if data.RootKeyCreated {
		logger.Warn("created a new root key; back it up apart from the database: without it the data cannot be read",
			"path", cfg.RootKeyPath())
	}
	s, err := openStore(ctx, p, cfg, logger)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer s.close(context.WithoutCancel(ctx))
	ac, err := s.authConfig(cfg, p)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	auth, err := sqldb.NewAuthService(s.db, ac)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer auth.Wait() // mails still being sent
	accounts, err := sqldb.NewAccountService(s.db, ac)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	passkeys, err := newPasskeys(cfg, auth)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv, err := newHTTPServer(s, logger, p.clock, auth, accounts, passkeys)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", cfg.Listen, err)
	}
	scheme := "https"
	if cfg.InsecureHTTP {
		scheme = "http"
	}
	logger.Info("serving", "address", scheme+"://"+ln.Addr().String(), "database", s.db.Dialect())
	fmt.Fprintf(p.stdout, "tillit %s: serving %s://%s\n", tillit.Version, scheme, ln.Addr())

	go s.checkpointEvery(ctx, checkpointInterval)
	go s.purgeEvery(ctx, purgeInterval)
	go s.retentionDaily(ctx)
	errc := make(chan error, 1)
	go func() {
		if cfg.InsecureHTTP {
			errc <- srv.Serve(ln)
		} else {
			errc <- srv.ServeTLS(ln, data.CertFile, data.KeyFile)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

// checkpointInterval is how often the server signs checkpoints of the logs
// that grew.
const checkpointInterval = 10 * time.Second

// newHTTPServer returns the HTTP server of the API on the store.
func newHTTPServer(s *store, logger *slog.Logger, clock tillit.Clock, auth tillit.AuthService, accounts tillit.AccountService, passkeys tillit.PasskeyService) (*http.Server, error) {
	api, err := web.New(web.Config{
		Logger:           logger,
		Clock:            clock,
		Tenants:          sqldb.NewTenantService(s.db),
		Tokens:           sqldb.NewTokenService(s.db),
		Audit:            sqldb.NewAuditService(s.db),
		Recorder:         s.db,
		Ready:            s.ready,
		People:           s.people(),
		Auth:             auth,
		Accounts:         accounts,
		Passkeys:         passkeys,
		Limiter:          s.db,
		AuditVerifierKey: s.signer.VerifierKey(),
	})
	if err != nil {
		return nil, err
	}
	return &http.Server{
		Handler:           api.Handler(),
		TLSConfig:         web.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, nil
}

// newPasskeys returns the passkey service of the console's public URL: a
// passkey is bound to the host people reach the console at. WebAuthn needs
// a host name, so a base URL with an IP address serves no passkeys (nil).
func newPasskeys(cfg *Config, auth *sqldb.AuthService) (tillit.PasskeyService, error) {
	u, err := url.Parse(cfg.PublicURL())
	if err != nil {
		return nil, err
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, nil
	}
	return sqldb.NewPasskeyService(auth, sqldb.PasskeyConfig{
		RPID: u.Hostname(), RPDisplayName: "tillit", RPOrigins: []string{cfg.PublicURL()},
	})
}

// purgeInterval is how often expired sessions, one-time tokens and rate
// counters are deleted.
const purgeInterval = 5 * time.Minute

// purgeEvery deletes expired sign-in state every interval until ctx is
// done.
func (s *store) purgeEvery(ctx context.Context, interval time.Duration) {
	s.every(ctx, interval, "expired sign-in state not purged", func() error {
		_, err := s.db.PurgeExpired(ctx)
		return err
	})
}

// checkpointEvery signs checkpoints of the logs that grew, every interval,
// until ctx is done; close signs the last ones at shutdown.
func (s *store) checkpointEvery(ctx context.Context, interval time.Duration) {
	s.every(ctx, interval, "audit checkpoints not written", func() error {
		_, err := s.db.WriteCheckpoints(ctx, s.signer)
		return err
	})
}

// every runs job every interval until ctx is done, logging its failures
// (but not those of a shutdown) with msg.
func (s *store) every(ctx context.Context, interval time.Duration, msg string, job func() error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := job(); err != nil && ctx.Err() == nil {
				s.logger.Error(msg, "err", err)
			}
		}
	}
}

// dataFiles is what prepareData found or created in the data directory.
type dataFiles struct {
	RootKey        *[keyring.RootKeySize]byte
	RootKeyCreated bool
	CertFile       string // "" with InsecureHTTP
	KeyFile        string // "" with InsecureHTTP
}

// prepareData makes the data directory ready to serve from: it creates the
// directory (mode 0700) and the root key if they are missing, and, unless
// the configuration names a certificate or asks for plain HTTP, a
// self-signed certificate for localhost.
func prepareData(cfg *Config, clock tillit.Clock) (*dataFiles, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	_, statErr := os.Stat(cfg.RootKeyPath()) // only for the log line: a race is harmless
	key, err := keyring.LoadOrCreateRootKey(cfg.RootKeyPath())
	if err != nil {
		return nil, err
	}
	d := &dataFiles{RootKey: key, RootKeyCreated: errors.Is(statErr, os.ErrNotExist)}
	switch {
	case cfg.InsecureHTTP:
	case cfg.TLSCert != "":
		d.CertFile, d.KeyFile = cfg.TLSCert, cfg.TLSKey
	default:
		d.CertFile, d.KeyFile, err = ensureSelfSigned(cfg.TLSDir(), clock)
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}
