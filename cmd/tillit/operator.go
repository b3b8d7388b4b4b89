package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"tillit"
	"tillit/sqldb"
)

// runOperator runs an operator subcommand: create.
func runOperator(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "operator", []command{
		{"create", "create an operator account and print it as JSON", runOperatorCreate},
	}, args)
}

// runOperatorCreate creates an operator account with a password read from
// standard input, or with an invitation whose link it prints.
func runOperatorCreate(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("operator create", "--email EMAIL [--password-stdin] [flags]",
		`Create an account of the vendor's staff and print it as JSON. With
--password-stdin the password is the first line of standard input;
without, the JSON holds a one-time invitation link (valid 72 hours) where
the person sets a password and enrols a second factor. For example
  tillit operator create --email ops@vendor.example`)
	cfg := newConfig(fs)
	var email string
	var fromStdin bool
	fs.StringVar(&email, "email", "", "the operator's e-mail `address`")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "email", email); err != nil {
		return err
	}
	pw, err := p.readPassword(fs, fromStdin)
	if err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		return s.createAccount(ctx, p, cfg, "", tillit.AccountCreate{Kind: tillit.KindOperator, Email: email, Password: pw})
	})
}

// readPassword returns the first line of standard input if fromStdin is
// set, else "".
func (p *proc) readPassword(fs *flag.FlagSet, fromStdin bool) (string, error) {
	if !fromStdin {
		return "", nil
	}
	line, err := bufio.NewReader(p.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef(fs.Name(), "--password-stdin: standard input held no password; pipe it in, e.g. from a password manager")
	}
	return line, nil
}

// createdAccount is what `operator create` and `user create` print.
type createdAccount struct {
	*tillit.Account
	Tenant     string             `json:"tenant,omitempty"`
	Invitation *tillit.Invitation `json:"invitation,omitempty"`
}

// createAccount creates the account as the operator CLI and prints it. An
// invitation that cannot be e-mailed is only a warning: the printed link
// is enough.
func (s *store) createAccount(ctx context.Context, p *proc, cfg *Config, slug string, c tillit.AccountCreate) error {
	ac, err := s.authConfig(cfg, p)
	if err != nil {
		return err
	}
	svc, err := sqldb.NewAccountService(s.db, ac)
	if err != nil {
		return err
	}
	acc, inv, err := svc.CreateAccount(systemContext(ctx), c)
	if err != nil && (acc == nil || tillit.ErrorCode(err) != tillit.EUnavailable) {
		return err
	}
	if err != nil {
		fmt.Fprintf(p.stderr, "tillit: warning: the invitation was not e-mailed (%s); give the person the invitation URL below\n",
			tillit.ErrorMessage(errors.Unwrap(err)))
	}
	return printJSON(p.stdout, createdAccount{Account: acc, Tenant: slug, Invitation: inv})
}
