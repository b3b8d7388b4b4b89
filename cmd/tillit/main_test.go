package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// runTest runs tillit with args and an empty environment, and returns the
// exit status and what it wrote.
func runTest(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	p := &proc{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" }, clock: &fixedClock{start}}
	code = p.exitCode(p.dispatch(context.Background(), "", commands(), args))
	return code, out.String(), errOut.String()
}

func TestRunVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"version"}, strings.NewReader(""), &out, &errOut)
	want := "tillit dev " + runtime.Version() + "\n"
	if code != 0 || out.String() != want {
		t.Errorf("version: exit %d, stdout %q, stderr %q; want 0 and %q", code, out.String(), errOut.String(), want)
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a part of it, or ""
		stderr string // a part of it, or ""
	}{
		{"no command", nil, 2, "", "usage: tillit <command>"},
		{"help", []string{"help"}, 0, "token", ""},
		{"--help", []string{"--help"}, 0, "audit", ""},
		{"help of a group", []string{"help", "tenant"}, 0, "create", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"unknown group command", []string{"token", "mint"}, 2, "", `tillit token: unknown command "mint"`},
		{"group without command", []string{"audit"}, 2, "", "verify"},
		{"command help", []string{"tenant", "create", "-h"}, 0, "--slug SLUG", ""},
		{"unknown flag", []string{"version", "--verbose"}, 2, "", "-verbose"},
		{"bad flag value", []string{"token", "revoke", "--tenant", "acme", "--id", "x"}, 2, "", "flag -id"},
		{"positional argument", []string{"migrate", "now"}, 2, "", `unexpected argument "now"`},
		{"missing slug", []string{"tenant", "create", "--name", "Acme AS"}, 2, "", "--slug is required"},
		{"bad slug", []string{"tenant", "create", "--slug", "Acme", "--name", "Acme AS"}, 2, "", "--slug: slug must be"},
		{"missing tenant", []string{"token", "list"}, 2, "", "--tenant is required"},
		{"bad role", []string{"token", "create", "--tenant", "acme", "--role", "boss", "--name", "CRM"}, 2, "", "--role: role must be one of"},
		{"bad expiry", []string{"token", "create", "--tenant", "acme", "--role", "admin", "--name", "CRM", "--expires", "36h"}, 2, "", "--expires"},
		{"missing id", []string{"token", "revoke", "--tenant", "acme"}, 2, "", "--id is required"},
		{"bad audit tenant", []string{"audit", "verify", "--tenant", "-x-"}, 2, "", "--tenant"},
		{"bad configuration", []string{"serve", "--insecure-http", "--listen", "0.0.0.0:80"}, 2, "", "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTest(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	tests := []struct {
		in      string
		days    int
		wantErr bool
	}{
		{"", 0, false},
		{"90d", 90, false},
		{"1d", 1, false},
		{"3650d", 3650, false},
		{"2160h", 90, false},
		{"24h0m0s", 1, false},
		{"0d", 0, true},
		{"3651d", 0, true},
		{"-5d", 0, true},
		{"36h", 0, true},
		{"90", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"ninety", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			days, err := parseExpiry(tt.in)
			if (err != nil) != tt.wantErr || days != tt.days {
				t.Errorf("parseExpiry(%q) = %d, %v; want %d, error %v", tt.in, days, err, tt.days, tt.wantErr)
			}
		})
	}
}

func TestPrepareData(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*Config)
		wantCert string // "self-signed", "given" or ""
	}{
		{"fresh", func(*Config) {}, "self-signed"},
		{"plain HTTP", func(c *Config) { c.InsecureHTTP = true }, ""},
		{"given certificate", func(c *Config) { c.TLSCert, c.TLSKey = "/etc/c.pem", "/etc/k.pem" }, "given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Data = filepath.Join(t.TempDir(), "a", "tillit-data")
			tt.change(&cfg)
			d, err := prepareData(&cfg, &fixedClock{start})
			if err != nil {
				t.Fatal(err)
			}
			checkPrivate(t, cfg.Data, 0o700)
			checkPrivate(t, cfg.RootKeyPath(), 0o600)
			if !d.RootKeyCreated || d.RootKey == nil {
				t.Errorf("RootKeyCreated %v, key %v; want a new key", d.RootKeyCreated, d.RootKey)
			}
			switch tt.wantCert {
			case "self-signed":
				if d.CertFile != filepath.Join(cfg.TLSDir(), "cert.pem") {
					t.Errorf("CertFile = %q, want one in %s", d.CertFile, cfg.TLSDir())
				}
				checkPrivate(t, d.KeyFile, 0o600)
			case "given":
				if d.CertFile != cfg.TLSCert || d.KeyFile != cfg.TLSKey {
					t.Errorf("files %q %q, want the configured ones", d.CertFile, d.KeyFile)
				}
			default:
				if d.CertFile != "" || d.KeyFile != "" {
					t.Errorf("files %q %q, want none", d.CertFile, d.KeyFile)
				}
			}
			again, err := prepareData(&cfg, &fixedClock{start})
			if err != nil || again.RootKeyCreated || *again.RootKey != *d.RootKey {
				t.Errorf("second start: %v, created %v; want the same key, not created", err, again.RootKeyCreated)
			}
		})
	}
}

// checkPrivate checks the permission bits of the file at path.
func checkPrivate(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
}
