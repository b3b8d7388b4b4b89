package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"tillit"
	"tillit/keyring"
	"tillit/password"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// runStdin runs tillit with args, the common flags of cli and stdin.
func (c *tillitCLI) runStdin(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	p := &proc{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" }, clock: tillit.SystemClock{}}
	code = p.exitCode(p.dispatch(context.Background(), "", commands(), append(args, c.args...)))
	return code, out.String(), errOut.String()
}

// TestAccountCommands creates an operator with a password and a tenant's
// first owner with an invitation, and signs in with both through the
// store the CLI wrote.
func TestAccountCommands(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			url := filepath.Join(dir, "tillit.db")
			cli := &tillitCLI{t: t, args: []string{"--data", dir}}
			if dialect == sqldb.Postgres {
				url = sqldbtest.URL(t, dialect)
				cli.args = append(cli.args, "--database-url", url, "--keystore-url", sqldbtest.URL(t, dialect))
			}
			var tenant tillit.Tenant
			cli.mustJSON(&tenant, "tenant", "create", "--slug", "acme", "--name", "Acme AS")
			const pw = "correct horse battery staple"

			code, out, errOut := cli.runStdin(pw+"\n", "operator", "create", "--email", "Ops@Vendor.example", "--password-stdin")
			var op createdAccount
			if code != 0 || json.Unmarshal([]byte(out), &op) != nil || op.Email != "ops@vendor.example" || op.Invitation != nil {
				t.Fatalf("operator create: exit %d, %s %s", code, out, errOut)
			}
			code, out, errOut = cli.runStdin("", "user", "create", "--tenant", "acme", "--email", "kari@acme.example", "--role", "owner")
			var owner createdAccount
			if code != 0 || json.Unmarshal([]byte(out), &owner) != nil || owner.Role != tillit.RoleOwner || owner.Tenant != "acme" ||
				owner.Invitation == nil || !strings.HasPrefix(owner.Invitation.URL, "https://localhost:8443/invite#") ||
				!strings.Contains(errOut, "no SMTP server is configured") {
				t.Fatalf("user create: exit %d, %s %s", code, out, errOut)
			}

			db := sqldbtest.OpenURL(t, url, nil)
			root, err := keyring.LoadOrCreateRootKey(filepath.Join(dir, "root.key"))
			if err != nil {
				t.Fatal(err)
			}
			auth, err := sqldb.NewAuthService(db, sqldb.AuthConfig{RootKey: root, Hasher: password.NewHasher(0),
				Mailer: noMailer{}, BaseURL: "https://127.0.0.1:8443"})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := auth.Login(context.Background(), "", "ops@vendor.example", pw); err != nil || res.Next != tillit.NextEnroll {
				t.Fatalf("operator sign-in: %+v, %v", res, err)
			}
			_, token, _ := strings.Cut(owner.Invitation.URL, "#")
			if res, err := auth.AcceptInvitation(context.Background(), token, pw); err != nil || res.Next != tillit.NextEnroll {
				t.Fatalf("accept the printed invitation: %+v, %v", res, err)
			}
		})
	}
}

func TestAccountCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cli := &tillitCLI{t: t, args: []string{"--data", dir}}
	var tenant tillit.Tenant
	cli.mustJSON(&tenant, "tenant", "create", "--slug", "acme", "--name", "Acme AS")
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"no email", "", []string{"operator", "create"}, 2, "--email is required"},
		{"empty stdin", "", []string{"operator", "create", "--email", "a@b.example", "--password-stdin"}, 2, "no password"},
		{"weak password", "password\n", []string{"operator", "create", "--email", "a@b.example", "--password-stdin"}, 1, "at least 12"},
		{"bad address", "", []string{"operator", "create", "--email", "nobody"}, 1, "e-mail address"},
		{"no role", "", []string{"user", "create", "--tenant", "acme", "--email", "a@b.example"}, 2, "--role is required"},
		{"bad role", "", []string{"user", "create", "--tenant", "acme", "--email", "a@b.example", "--role", "boss"}, 2, "--role: role must be"},
		{"unknown tenant", "", []string{"user", "create", "--tenant", "nope", "--email", "a@b.example", "--role", "owner"}, 1, "no tenant"},
		{"first", "", []string{"user", "create", "--tenant", "acme", "--email", "a@b.example", "--role", "owner"}, 0, "warning"},
		{"taken", "", []string{"user", "create", "--tenant", "acme", "--email", "A@b.example", "--role", "reader"}, 1, "exists already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli.runStdin(tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stderr with %q", code, out, errOut, tt.code, tt.stderr)
			}
		})
	}
}
