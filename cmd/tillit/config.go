package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"tillit/notify"
)

// Config is the configuration of the tillit binary. It is filled in layers,
// each overriding the one before: defaults, the TOML file named by --config
// (or TILLIT_CONFIG), TILLIT_* environment variables, and flags. It is
// validated once, in main, and passed down as plain fields.
type Config struct {
	File         string `toml:"-"`             // the TOML file it was read from, or ""
	Data         string `toml:"data"`          // the data directory
	DatabaseURL  string `toml:"database_url"`  // "" for SQLite in Data; postgres:// for PostgreSQL
	KeystoreURL  string `toml:"keystore_url"`  // "" for keys.db in Data; postgres:// for a PostgreSQL database of its own
	Listen       string `toml:"listen"`        // host:port of the HTTPS server
	TLSCert      string `toml:"tls_cert"`      // certificate file; "" for a self-signed one
	TLSKey       string `toml:"tls_key"`       // private key file of TLSCert
	InsecureHTTP bool   `toml:"insecure_http"` // plain HTTP, on loopback only
	LogLevel     string `toml:"log_level"`     // debug, info, warn or error
	BaseURL      string `toml:"base_url"`      // where people reach the console; "" for https://localhost:<port>

	SMTPAddr     string `toml:"smtp_addr"`     // host:port of the mail server; "" sends no e-mail
	SMTPUsername string `toml:"smtp_username"` // "" for a server that needs no sign-in
	SMTPPassword string `toml:"smtp_password"` // the password of SMTPUsername
	SMTPFrom     string `toml:"smtp_from"`     // the sender address
	SMTPTLS      string `toml:"smtp_tls"`      // starttls (default), tls, or none (loopback only)

	SMSAccount string `toml:"sms_account"` // Twilio Account SID; "" sends no SMS
	SMSToken   string `toml:"sms_token"`   // its Auth Token
	SMSFrom    string `toml:"sms_from"`    // sender number, ID or Messaging Service SID
	SMSURL     string `toml:"sms_url"`     // "" for Twilio's own API; another Twilio-compatible one
}

// DefaultConfig returns the configuration with which `tillit serve` just
// works on a fresh machine.
func DefaultConfig() Config {
	return Config{
		Data:     "./tillit-data",
		Listen:   "127.0.0.1:8443",
		LogLevel: "info",
	}
}

// setting ties one field of a Config to its flag and environment variable.
type setting struct {
	flag, env, usage string
	ptr              any // *string or *bool, into the Config
}

// settings lists the fields of c that are set by flags and environment
// variables, in the order of the help text.
func (c *Config) settings() []setting {
	return []setting{
		{"data", "TILLIT_DATA", "data `directory`: keys, certificate, SQLite database", &c.Data},
		{"database-url", "TILLIT_DATABASE_URL", "PostgreSQL `URL` (postgres://…); empty for SQLite in the data directory", &c.DatabaseURL},
		{"keystore-url", "TILLIT_KEYSTORE_URL", "PostgreSQL `URL` of the key store, a database apart from the data's; empty for keys.db in the data directory", &c.KeystoreURL},
		{"listen", "TILLIT_LISTEN", "`host:port` to serve on", &c.Listen},
		{"tls-cert", "TILLIT_TLS_CERT", "TLS certificate `file` (PEM); empty for a self-signed one for localhost", &c.TLSCert},
		{"tls-key", "TILLIT_TLS_KEY", "TLS private key `file` (PEM) of --tls-cert", &c.TLSKey},
		{"insecure-http", "TILLIT_INSECURE_HTTP", "serve plain HTTP, on a loopback address only (behind a TLS proxy)", &c.InsecureHTTP},
		{"log-level", "TILLIT_LOG_LEVEL", "log `level`: debug, info, warn or error", &c.LogLevel},
		{"base-url", "TILLIT_BASE_URL", "public `URL` of the console, for links in e-mails and passkeys; empty for https://localhost:<port>", &c.BaseURL},
		{"smtp-addr", "TILLIT_SMTP_ADDR", "mail server `host:port`; empty sends no e-mail (invitation links are printed by the CLI)", &c.SMTPAddr},
		{"smtp-username", "TILLIT_SMTP_USERNAME", "mail server user `name`", &c.SMTPUsername},
		{"smtp-password", "TILLIT_SMTP_PASSWORD", "mail server `password` (prefer the environment or the file to a flag)", &c.SMTPPassword},
		{"smtp-from", "TILLIT_SMTP_FROM", "sender `address` of e-mail", &c.SMTPFrom},
		{"smtp-tls", "TILLIT_SMTP_TLS", "`mode`: starttls, tls, or none (loopback only)", &c.SMTPTLS},
		{"sms-account", "TILLIT_SMS_ACCOUNT", "Twilio Account `SID`; empty sends no SMS", &c.SMSAccount},
		{"sms-token", "TILLIT_SMS_TOKEN", "Twilio Auth `token` (prefer the environment or the file)", &c.SMSToken},
		{"sms-from", "TILLIT_SMS_FROM", "SMS `sender`: E.164 number, sender ID or Messaging Service SID", &c.SMSFrom},
		{"sms-url", "TILLIT_SMS_URL", "base `URL` of a Twilio-compatible API; empty for Twilio", &c.SMSURL},
	}
}

// RegisterFlags registers --config and the flags of every setting on fs,
// with c's current values as their defaults. Register on DefaultConfig(),
// parse, then call Load.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.File, "config", c.File, "TOML configuration `file` (env TILLIT_CONFIG)")
	for _, s := range c.settings() {
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		switch p := s.ptr.(type) {
		case *string:
			fs.StringVar(p, s.flag, *p, usage)
		case *bool:
			fs.BoolVar(p, s.flag, *p, usage)
		}
	}
}

// Load completes c after fs, on which c registered its flags, has parsed the
// command line: it starts again from the defaults, applies the config file,
// then the environment read with getenv, then the flags given on the command
// line, and validates the result.
func (c *Config) Load(fs *flag.FlagSet, getenv func(string) string) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fromFlags := *c

	*c = DefaultConfig()
	c.File = getenv("TILLIT_CONFIG")
	if given["config"] {
		c.File = fromFlags.File
	}
	if c.File != "" {
		if err := c.decodeFile(c.File); err != nil {
			return err
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return err
	}
	flagged := fromFlags.settings()
	for i, s := range c.settings() {
		if given[s.flag] {
			copyValue(s.ptr, flagged[i].ptr)
		}
	}
	return c.Validate()
}

// decodeFile applies the TOML file at path; unknown keys are an error.
func (c *Config) decodeFile(path string) error {
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return fmt.Errorf("config file %s: unknown key %q; the keys are %s",
			path, keys[0].String(), strings.Join(c.fileKeys(), ", "))
	}
	return nil
}

// fileKeys returns the keys a config file may hold.
func (c *Config) fileKeys() []string {
	var keys []string
	for _, s := range c.settings() {
		keys = append(keys, strings.ReplaceAll(s.flag, "-", "_"))
	}
	return keys
}

// applyEnv applies the TILLIT_* variables that are set and not empty.
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, s := range c.settings() {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		switch p := s.ptr.(type) {
		case *string:
			*p = v
		case *bool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a boolean; use true or false", s.env, v)
			}
			*p = b
		}
	}
	return nil
}

// copyValue copies the *string or *bool src to dst of the same type.
func copyValue(dst, src any) {
	switch d := dst.(type) {
	case *string:
		*d = *src.(*string)
	case *bool:
		*d = *src.(*bool)
	}
}

// Validate reports every setting that is wrong, each with how to fix it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Data == "" {
		bad("data: empty; use e.g. --data ./tillit-data")
	}
	if u := c.DatabaseURL; u != "" && !c.IsPostgres() {
		// Only the scheme is shown: the URL may hold a password.
		scheme, _, _ := strings.Cut(u, ":")
		bad("database-url: scheme %q is not supported; use postgres://user@host/db for PostgreSQL, or leave it empty for SQLite in the data directory", scheme)
	}
	switch ku := strings.ToLower(c.KeystoreURL); {
	case ku != "" && !strings.HasPrefix(ku, "postgres://") && !strings.HasPrefix(ku, "postgresql://"):
		scheme, _, _ := strings.Cut(ku, ":")
		bad("keystore-url: scheme %q is not supported; use postgres://user@host/keys for a PostgreSQL database of its own, or leave it empty for keys.db in the data directory", scheme)
	case ku != "" && c.IsPostgres() && samePostgresDatabase(c.KeystoreURL, c.DatabaseURL):
		bad("keystore-url: it is the same database as database-url; person keys must live apart from the data (so that a copy of the data reveals nobody): create another database, e.g. tillit_keys")
	case ku == "" && c.IsPostgres():
		bad("keystore-url: with PostgreSQL for the data, give the key store a PostgreSQL database of its own (e.g. postgres://user@host/tillit_keys), so that every node shares it")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		bad("listen: %q is not host:port; use e.g. 127.0.0.1:8443", c.Listen)
	} else if c.InsecureHTTP && !isLoopback(host) {
		bad("insecure-http: plain HTTP is allowed only on a loopback address, and listen is %q; use e.g. --listen 127.0.0.1:8080 behind a TLS proxy, or drop --insecure-http", c.Listen)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert and tls-key: set both, or neither for a self-signed certificate for localhost")
	}
	if c.InsecureHTTP && c.TLSCert != "" {
		bad("insecure-http: it serves plain HTTP, so tls-cert and tls-key would be ignored; drop one or the other")
	}
	if _, ok := parseLogLevel(c.LogLevel); !ok {
		bad("log-level: %q is not a level; use debug, info, warn or error", c.LogLevel)
	}
	if u, err := url.Parse(c.BaseURL); c.BaseURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Path != "" && u.Path != "/") {
		bad("base-url: %q is not a base URL; use e.g. https://tillit.example.com", c.BaseURL)
	}
	if smtp, ok, err := c.SMTP(); ok && err == nil {
		if err := smtp.Validate(); err != nil {
			bad("smtp: %v", err)
		}
	} else if err != nil {
		bad("%v", err)
	}
	if sms, ok := c.SMS(); ok {
		if err := sms.Validate(); err != nil {
			bad("sms: %v", err)
		}
	}
	return errors.Join(errs...)
}

// PublicURL returns the base URL people reach the console at: BaseURL, or
// https://localhost:<port> (localhost, not an IP address, so that passkeys
// work and the self-signed certificate's name matches).
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimSuffix(c.BaseURL, "/")
	}
	scheme := "https"
	if c.InsecureHTTP {
		scheme = "http"
	}
	_, port, _ := net.SplitHostPort(c.Listen)
	return scheme + "://localhost:" + port
}

// SMTP returns the mail server settings, and whether one is configured.
func (c *Config) SMTP() (notify.SMTPConfig, bool, error) {
	if c.SMTPAddr == "" {
		return notify.SMTPConfig{}, false, nil
	}
	host, port, err := net.SplitHostPort(c.SMTPAddr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		return notify.SMTPConfig{}, true, fmt.Errorf("smtp-addr: %q is not host:port; use e.g. smtp.example.com:587", c.SMTPAddr)
	}
	return notify.SMTPConfig{Host: host, Port: p, Username: c.SMTPUsername, Password: c.SMTPPassword,
		From: c.SMTPFrom, TLS: c.SMTPTLS}, true, nil
}

// SMS returns the SMS operator settings, and whether one is configured.
func (c *Config) SMS() (notify.SMSConfig, bool) {
	if c.SMSAccount == "" {
		return notify.SMSConfig{}, false
	}
	return notify.SMSConfig{Provider: notify.ProviderTwilio, BaseURL: c.SMSURL, AccountID: c.SMSAccount,
		Token: c.SMSToken, From: c.SMSFrom}, true
}

// isLoopback reports whether host is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// parseLogLevel returns the slog level named s, one of debug, info, warn
// and error.
func parseLogLevel(s string) (slog.Level, bool) {
	switch s {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// SlogLevel returns the level of LogLevel, info if it is not valid.
func (c *Config) SlogLevel() slog.Level {
	level, _ := parseLogLevel(c.LogLevel)
	return level
}

// IsPostgres reports whether DatabaseURL selects PostgreSQL.
func (c *Config) IsPostgres() bool {
	u := strings.ToLower(c.DatabaseURL)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// samePostgresDatabase reports whether two PostgreSQL URLs name the same
// database: the same host, port (5432 when not given) and database name,
// however the scheme is spelt and whatever the user or the other
// parameters. URLs that do not parse are compared as text.
func samePostgresDatabase(a, b string) bool {
	da, okA := postgresDatabase(a)
	db, okB := postgresDatabase(b)
	if !okA || !okB {
		return strings.EqualFold(a, b)
	}
	return da == db
}

// postgresDatabase returns "host:port/name" of the database a PostgreSQL
// URL names, with libpq's defaults and its host, port, dbname and user
// parameters.
func postgresDatabase(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "postgres") && !strings.EqualFold(u.Scheme, "postgresql") {
		return "", false
	}
	q := u.Query()
	or := func(vs ...string) string {
		for _, v := range vs {
			if v != "" {
				return v
			}
		}
		return ""
	}
	user := q.Get("user")
	if user == "" && u.User != nil {
		user = u.User.Username()
	}
	host := strings.ToLower(or(q.Get("host"), u.Hostname(), "localhost"))
	port := or(q.Get("port"), u.Port(), "5432")
	name := or(q.Get("dbname"), strings.TrimPrefix(u.Path, "/"), user)
	return host + ":" + port + "/" + name, true
}

// StoreURL returns what sqldb.Config.URL wants: the PostgreSQL URL, or the
// path of the SQLite file.
func (c *Config) StoreURL() string {
	if c.IsPostgres() {
		return c.DatabaseURL
	}
	return c.SQLitePath()
}

// SQLitePath returns the path of the SQLite database in the data directory.
func (c *Config) SQLitePath() string { return filepath.Join(c.Data, "tillit.db") }

// KeystoreStoreURL returns what sqldb.Config.URL wants for the key store:
// its PostgreSQL URL, or the path of keys.db in the data directory.
func (c *Config) KeystoreStoreURL() string {
	if c.KeystoreURL != "" {
		return c.KeystoreURL
	}
	return filepath.Join(c.Data, "keys.db")
}

// RootKeyPath returns the path of the root key file.
func (c *Config) RootKeyPath() string { return filepath.Join(c.Data, "root.key") }

// AuditKeyPath returns the path of the audit log's signing key file.
func (c *Config) AuditKeyPath() string { return filepath.Join(c.Data, "audit.key") }

// TLSDir returns the directory of the self-signed certificate and its key.
func (c *Config) TLSDir() string { return filepath.Join(c.Data, "tls") }
