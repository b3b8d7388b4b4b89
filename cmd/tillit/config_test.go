package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadConfig parses args as a subcommand would and loads the configuration
// with env as the environment.
func loadConfig(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := newConfig(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return cfg, cfg.Load(fs, func(k string) string { return env[k] })
}

// writeFile writes text to name in a new temporary directory and returns
// its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigLayers(t *testing.T) {
	file := writeFile(t, "tillit.toml", `
data = "/from/file"
listen = "127.0.0.2:1001"
log_level = "warn"
database_url = "postgres://file@db/tillit"
keystore_url = "postgres://file@db/tillit_keys"
`)
	other := writeFile(t, "other.toml", `data = "/from/other"`)
	tests := []struct {
		name                       string
		args                       []string
		env                        map[string]string
		data, listen, logLevel     string
		wantPostgres, wantInsecure bool
	}{
		{"defaults", nil, nil, "./tillit-data", "127.0.0.1:8443", "info", false, false},
		{"file over defaults", []string{"--config", file}, nil, "/from/file", "127.0.0.2:1001", "warn", true, false},
		{"env over file", []string{"--config", file},
			map[string]string{"TILLIT_DATA": "/from/env", "TILLIT_INSECURE_HTTP": "true"},
			"/from/env", "127.0.0.2:1001", "warn", true, true},
		{"flag over env", []string{"--config", file, "--data", "/from/flag", "--log-level", "debug"},
			map[string]string{"TILLIT_DATA": "/from/env", "TILLIT_LOG_LEVEL": "error"},
			"/from/flag", "127.0.0.2:1001", "debug", true, false},
		{"flag equal to the default still wins", []string{"--listen", "127.0.0.1:8443"},
			map[string]string{"TILLIT_LISTEN": "127.0.0.3:9"},
			"./tillit-data", "127.0.0.1:8443", "info", false, false},
		{"false flag over true env", []string{"--insecure-http=false"},
			map[string]string{"TILLIT_INSECURE_HTTP": "1"},
			"./tillit-data", "127.0.0.1:8443", "info", false, false},
		{"empty env is unset", nil, map[string]string{"TILLIT_DATA": ""},
			"./tillit-data", "127.0.0.1:8443", "info", false, false},
		{"TILLIT_CONFIG names the file", nil, map[string]string{"TILLIT_CONFIG": file},
			"/from/file", "127.0.0.2:1001", "warn", true, false},
		{"--config over TILLIT_CONFIG", []string{"--config", other}, map[string]string{"TILLIT_CONFIG": file},
			"/from/other", "127.0.0.1:8443", "info", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Data != tt.data || cfg.Listen != tt.listen || cfg.LogLevel != tt.logLevel ||
				cfg.IsPostgres() != tt.wantPostgres || cfg.InsecureHTTP != tt.wantInsecure {
				t.Errorf("got %+v (postgres %v), want data %q listen %q log level %q postgres %v insecure %v",
					*cfg, cfg.IsPostgres(), tt.data, tt.listen, tt.logLevel, tt.wantPostgres, tt.wantInsecure)
			}
		})
	}
}

func TestConfigLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // TOML text; "" for no file
		env  map[string]string
		want []string
	}{
		{"unknown key", "data = \"d\"\nlissen = \"127.0.0.1:1\"\n", nil, []string{`unknown key "lissen"`, "listen"}},
		{"unknown table", "[server]\nport = 1\n", nil, []string{`unknown key "server`}},
		{"file is not a key", `file = "x"`, nil, []string{`unknown key "file"`}},
		{"wrong type", "listen = 8443\n", nil, []string{"tillit.toml", "listen"}},
		{"bad env boolean", "", map[string]string{"TILLIT_INSECURE_HTTP": "yes please"}, []string{"TILLIT_INSECURE_HTTP", "true or false"}},
		{"missing file", "", map[string]string{"TILLIT_CONFIG": "/no/such/tillit.toml"}, []string{"/no/such/tillit.toml"}},
		{"invalid result", `listen = "nonsense"`, nil, []string{`listen: "nonsense" is not host:port`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.file != "" {
				args = []string{"--config", writeFile(t, "tillit.toml", tt.file)}
			}
			_, err := loadConfig(t, args, tt.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigKeepsOtherFlags(t *testing.T) {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	cfg := newConfig(fs)
	slug := fs.String("slug", "", "")
	if err := fs.Parse([]string{"--slug", "acme", "--data", "/d"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Load(fs, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if *slug != "acme" || cfg.Data != "/d" {
		t.Errorf("slug %q data %q, want acme and /d", *slug, cfg.Data)
	}
}

func TestConfigPublicURL(t *testing.T) {
	cfg := DefaultConfig()
	if got := cfg.PublicURL(); got != "https://localhost:8443" {
		t.Errorf("default public URL %q", got)
	}
	cfg.BaseURL = "https://tillit.example.com/"
	if got := cfg.PublicURL(); got != "https://tillit.example.com" {
		t.Errorf("public URL %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid; else a part of the error
	}{
		{"defaults", func(*Config) {}, ""},
		{"empty data", func(c *Config) { c.Data = "" }, "data: empty"},
		{"postgres URL", func(c *Config) { c.DatabaseURL, c.KeystoreURL = "postgres://u:pw@db/tillit", "postgres://u:pw@db/keys" }, ""},
		{"postgresql URL", func(c *Config) { c.DatabaseURL, c.KeystoreURL = "postgresql://db/tillit", "postgresql://db/keys" }, ""},
		{"postgres without a key store", func(c *Config) { c.DatabaseURL = "postgres://db/tillit" }, "keystore-url: with PostgreSQL for the data"},
		{"key store in the data's database", func(c *Config) { c.DatabaseURL, c.KeystoreURL = "postgres://db/tillit", "postgres://db/tillit" }, "it is the same database as database-url"},
		{"key store not PostgreSQL", func(c *Config) { c.KeystoreURL = "mysql://db/keys" }, `keystore-url: scheme "mysql"`},
		{"key store on PostgreSQL, data on SQLite", func(c *Config) { c.KeystoreURL = "postgres://db/keys" }, ""},
		{"other database", func(c *Config) { c.DatabaseURL = "mysql://u:secret@db/x" }, `scheme "mysql" is not supported`},
		{"listen without port", func(c *Config) { c.Listen = "x" }, `listen: "x" is not host:port; use e.g. 127.0.0.1:8443`},
		{"listen port not a number", func(c *Config) { c.Listen = "localhost:https" }, "is not host:port"},
		{"listen port too big", func(c *Config) { c.Listen = ":70000" }, "is not host:port"},
		{"listen on every address", func(c *Config) { c.Listen = ":8443" }, ""},
		{"cert without key", func(c *Config) { c.TLSCert = "c.pem" }, "set both"},
		{"key without cert", func(c *Config) { c.TLSKey = "k.pem" }, "set both"},
		{"cert and key", func(c *Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }, ""},
		{"insecure with cert", func(c *Config) { c.InsecureHTTP, c.TLSCert, c.TLSKey = true, "c", "k" }, "drop one or the other"},
		{"bad log level", func(c *Config) { c.LogLevel = "verbose" }, `log-level: "verbose"`},
		{"base URL", func(c *Config) { c.BaseURL = "https://tillit.example.com" }, ""},
		{"base URL with a path", func(c *Config) { c.BaseURL = "https://example.com/app" }, "base-url"},
		{"base URL without scheme", func(c *Config) { c.BaseURL = "tillit.example.com" }, "base-url"},
		{"smtp", func(c *Config) { c.SMTPAddr, c.SMTPFrom = "smtp.example.com:587", "noreply@example.com" }, ""},
		{"smtp without port", func(c *Config) { c.SMTPAddr, c.SMTPFrom = "smtp.example.com", "noreply@example.com" }, "smtp-addr"},
		{"smtp without sender", func(c *Config) { c.SMTPAddr = "smtp.example.com:587" }, "smtp"},
		{"plain smtp off loopback", func(c *Config) {
			c.SMTPAddr, c.SMTPFrom, c.SMTPTLS = "smtp.example.com:25", "noreply@example.com", "none"
		}, "smtp"},
		{"sms without token", func(c *Config) { c.SMSAccount, c.SMSFrom = "AC0123456789abcdef0123456789abcdef", "+4799999999" }, "sms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			checkValidate(t, &cfg, tt.want)
		})
	}
}

func TestConfigInsecureHTTPLoopbackOnly(t *testing.T) {
	tests := []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:8080", true},
		{"127.9.8.7:8080", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LOCALHOST:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"10.0.0.1:8080", false},
		{"example.com:8080", false},
		{"localhost.example.com:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Listen, cfg.InsecureHTTP = tt.listen, true
			want := ""
			if !tt.ok {
				want = "insecure-http: plain HTTP is allowed only on a loopback address"
			}
			checkValidate(t, &cfg, want)
		})
	}
}

func checkValidate(t *testing.T, cfg *Config, want string) {
	t.Helper()
	err := cfg.Validate()
	switch {
	case want == "" && err != nil:
		t.Errorf("Validate() = %v, want nil", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("Validate() = %v, want an error containing %q", err, want)
	case err != nil && strings.Contains(err.Error(), "secret"):
		t.Errorf("Validate() = %v shows the database password", err)
	}
}

func TestConfigPaths(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Data = "/var/lib/tillit"
	checks := []struct{ name, got, want string }{
		{"SQLitePath", cfg.SQLitePath(), "/var/lib/tillit/tillit.db"},
		{"StoreURL for SQLite", cfg.StoreURL(), "/var/lib/tillit/tillit.db"},
		{"RootKeyPath", cfg.RootKeyPath(), "/var/lib/tillit/root.key"},
		{"AuditKeyPath", cfg.AuditKeyPath(), "/var/lib/tillit/audit.key"},
		{"TLSDir", cfg.TLSDir(), "/var/lib/tillit/tls"},
	}
	cfg.DatabaseURL = "postgres://db/tillit"
	checks = append(checks, struct{ name, got, want string }{"StoreURL for PostgreSQL", cfg.StoreURL(), "postgres://db/tillit"})
	for _, c := range checks {
		if filepath.ToSlash(c.got) != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}
