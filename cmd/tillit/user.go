package main

import (
	"context"

	"tillit"
)

// runUser runs a user subcommand: create.
func runUser(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "user", []command{
		{"create", "create a user account of a tenant and print it as JSON", runUserCreate},
	}, args)
}

// userCreateArgs are the flags of `tillit user create`.
type userCreateArgs struct {
	Tenant, Email, Role string
	PasswordStdin       bool
}

// runUserCreate creates a user of a tenant, such as a customer's first
// owner, with a password read from standard input or with an invitation
// whose link it prints.
func runUserCreate(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("user create", "--tenant SLUG --email EMAIL --role ROLE [--password-stdin] [flags]",
		`Create a user of a tenant and print it as JSON, e.g. a customer's first
owner. With --password-stdin the password is the first line of standard
input; without, the JSON holds a one-time invitation link (valid 72
hours) where the person sets a password and enrols a second factor. E.g.
  tillit user create --tenant acme --email kari@acme.example --role owner`)
	cfg := newConfig(fs)
	var a userCreateArgs
	fs.StringVar(&a.Tenant, "tenant", "", "`slug` of the tenant")
	fs.StringVar(&a.Email, "email", "", "the user's e-mail `address`")
	fs.StringVar(&a.Role, "role", "", "`role` of the user: "+roleNames())
	fs.BoolVar(&a.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "tenant", a.Tenant, "email", a.Email, "role", a.Role); err != nil {
		return err
	}
	if err := tillit.ValidateSlug(a.Tenant); err != nil {
		return flagError(fs, "tenant", err)
	}
	role, err := tillit.ParseRole("role", a.Role)
	if err != nil {
		return flagError(fs, "role", err)
	}
	pw, err := p.readPassword(fs, a.PasswordStdin)
	if err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, a.Tenant)
		if err != nil {
			return err
		}
		c := tillit.AccountCreate{Kind: tillit.KindUser, TenantID: t.ID, Email: a.Email, Role: role, Password: pw}
		return s.createAccount(ctx, p, cfg, t.Slug, c)
	})
}
