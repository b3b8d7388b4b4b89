package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// tillitCLI runs subcommands the way the binary does, on one data directory
// and database, with the system clock.
type tillitCLI struct {
	t    *testing.T
	args []string // the common flags
}

func (c *tillitCLI) run(ctx context.Context, stdout io.Writer, args ...string) (int, string) {
	var errOut syncBuffer
	p := &proc{stdin: strings.NewReader(""), stdout: stdout, stderr: &errOut,
		getenv: func(string) string { return "" }, clock: tillit.SystemClock{}}
	code := p.exitCode(p.dispatch(ctx, "", commands(), append(args, c.args...)))
	return code, errOut.String()
}

// mustJSON runs a subcommand that prints JSON and decodes it into v.
func (c *tillitCLI) mustJSON(v any, args ...string) {
	c.t.Helper()
	var out bytes.Buffer
	if code, errOut := c.run(context.Background(), &out, args...); code != 0 {
		c.t.Fatalf("tillit %v: exit %d: %s", args, code, errOut)
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		c.t.Fatalf("tillit %v printed %q: %v", args, out.String(), err)
	}
}

// serve starts `tillit serve` on a free port and returns its base URL and a
// function that stops it (as SIGTERM does) and returns its exit status.
func (c *tillitCLI) serve() (string, func() int) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		code, errOut := c.run(ctx, out, "serve", "--listen", "127.0.0.1:0")
		if code != 0 {
			c.t.Errorf("serve: exit %d: %s", code, errOut)
		}
		done <- code
	}()
	re := regexp.MustCompile(`serving (https://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], func() int { cancel(); return <-done }
		}
		select {
		case code := <-done:
			c.t.Fatalf("serve exited with %d before it served", code)
		default:
		}
	}
	cancel()
	c.t.Fatal("serve did not print its address within 20 s")
	return "", nil
}

// httpsClient trusts the self-signed certificate of the data directory.
func httpsClient(t *testing.T, dataDir string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dataDir, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("self-signed certificate does not parse")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func call(t *testing.T, c *http.Client, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

// TestEndToEnd runs the binary's own wiring: the CLI makes a tenant and a
// token, serve answers over HTTPS with its self-signed certificate, stops
// gracefully, and audit verify passes until an event is tampered with.
func TestEndToEnd(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			url := sqldbtest.URL(t, dialect)
			cli := &tillitCLI{t: t, args: []string{"--data", dir, "--database-url", url}}
			if dialect == sqldb.Postgres {
				cli.args = append(cli.args, "--keystore-url", sqldbtest.URL(t, dialect))
			}
			if dialect == sqldb.SQLite {
				cli.args = []string{"--data", dir} // the default database in the data directory
				url = filepath.Join(dir, "tillit.db")
			}
			var tenant tillit.Tenant
			cli.mustJSON(&tenant, "tenant", "create", "--slug", "acme", "--name", "Acme AS")
			var tok struct {
				ID    int64  `json:"id"`
				Token string `json:"token"`
			}
			cli.mustJSON(&tok, "token", "create", "--tenant", "acme", "--role", "admin", "--name", "CRM sync", "--expires", "90d")
			if !strings.HasPrefix(tok.Token, tillit.TokenPrefix) {
				t.Fatalf("token create printed no secret: %+v", tok)
			}

			base, stop := cli.serve()
			client := httpsClient(t, dir)
			if code, _ := call(t, client, "GET", base+"/readyz", "", ""); code != 200 {
				t.Fatalf("readyz: %d", code)
			}
			code, me := call(t, client, "GET", base+"/api/v1/me", tok.Token, "")
			if code != 200 || me["role"] != "admin" {
				t.Fatalf("me: %d %v", code, me)
			}
			code, created := call(t, client, "POST", base+"/api/v1/tokens", tok.Token, `{"name":"reader","role":"reader","expires_in_days":30}`)
			if code != 201 || !strings.HasPrefix(created["token"].(string), tillit.TokenPrefix) {
				t.Fatalf("create token over the API: %d %v", code, created)
			}
			if code, _ := call(t, client, "GET", base+"/api/v1/tokens", created["token"].(string), ""); code != 403 {
				t.Fatalf("a reader listed tokens: %d", code)
			}
			if code, _ := call(t, client, "GET", base+"/api/v1/me", "tillit_nope", ""); code != 401 {
				t.Fatalf("a bad token: %d", code)
			}
			if code := stop(); code != 0 {
				t.Fatalf("serve stopped with %d", code)
			}

			// Shutdown signed a checkpoint over everything, so a later change
			// to any event is caught.
			var out bytes.Buffer
			if code, errOut := cli.run(context.Background(), &out, "audit", "verify"); code != 0 || !strings.Contains(out.String(), "OK") {
				t.Fatalf("audit verify: exit %d: %s %s", code, out.String(), errOut)
			}
			driver := map[string]string{sqldb.SQLite: "sqlite", sqldb.Postgres: "pgx"}[dialect]
			raw, err := sql.Open(driver, url)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(`UPDATE audit_events SET outcome = 'ok' WHERE log_id = $1 AND outcome = 'forbidden'`, tenant.ID); err != nil {
				t.Fatal(err)
			}
			code, errOut := cli.run(context.Background(), io.Discard, "audit", "verify", "--tenant", "acme")
			if code != 1 || !regexp.MustCompile(`audit log \d+: event \d+: the event was changed`).MatchString(errOut) {
				t.Fatalf("tampered log: exit %d: %s", code, errOut)
			}
		})
	}
}
