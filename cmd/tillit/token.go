package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tillit"
	"tillit/sqldb"
)

// runToken runs a token subcommand: create, list or revoke.
func runToken(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "token", []command{
		{"create", "create an API token and print it, with its secret, as JSON", runTokenCreate},
		{"list", "list the API tokens of a tenant as JSON", runTokenList},
		{"revoke", "revoke an API token", runTokenRevoke},
	}, args)
}

// tokenCreateArgs are the flags of `tillit token create`.
type tokenCreateArgs struct {
	Tenant, Role, Name, Expires string
	Sensitive                   bool
}

// runTokenCreate creates an API token and prints it as JSON, with its
// secret: the only time the secret is shown.
func runTokenCreate(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("token create", "--tenant SLUG --role ROLE --name NAME [--expires 90d] [--sensitive] [flags]",
		"Create an API token and print it as JSON with its secret, which is shown only this once.\n"+
			"A --sensitive token may do what a person must step up for (erase, anonymise).")
	cfg := newConfig(fs)
	var a tokenCreateArgs
	fs.StringVar(&a.Tenant, "tenant", "", "`slug` of the tenant")
	fs.StringVar(&a.Role, "role", "", "`role` of the token: "+roleNames())
	fs.StringVar(&a.Name, "name", "", "what the token is for, e.g. \"CRM sync\"")
	fs.StringVar(&a.Expires, "expires", "", "`lifetime` in days, e.g. 90d or 2160h; empty for a token that never expires")
	fs.BoolVar(&a.Sensitive, "sensitive", false, "allow sensitive actions without a step-up, such as erasing people")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	c, err := a.tokenCreate(fs)
	if err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, a.Tenant)
		if err != nil {
			return err
		}
		c.TenantID = t.ID
		tok, secret, err := sqldb.NewTokenService(s.db).CreateToken(systemContext(ctx), c)
		if err != nil {
			return err
		}
		return printJSON(p.stdout, createdToken{Token: tok, Secret: secret, Tenant: t.Slug})
	})
}

// createdToken is what `token create` prints: the token with its secret.
type createdToken struct {
	*tillit.Token
	Tenant string `json:"tenant"`
	Secret string `json:"token"`
}

// tokenCreate checks the flags, naming the one at fault, and returns the
// request they make; TenantID is left for the caller to look up.
func (a *tokenCreateArgs) tokenCreate(fs *flag.FlagSet) (tillit.TokenCreate, error) {
	var c tillit.TokenCreate
	if err := requireFlags(fs, "tenant", a.Tenant, "role", a.Role, "name", a.Name); err != nil {
		return c, err
	}
	if err := tillit.ValidateSlug(a.Tenant); err != nil {
		return c, flagError(fs, "tenant", err)
	}
	role, err := tillit.ParseRole("role", a.Role)
	if err != nil {
		return c, flagError(fs, "role", err)
	}
	if err := tillit.ValidateName("name", a.Name); err != nil {
		return c, flagError(fs, "name", err)
	}
	days, err := parseExpiry(a.Expires)
	if err != nil {
		return c, usagef(fs.Name(), "--expires: %v", err)
	}
	return tillit.TokenCreate{Name: a.Name, Role: role, ExpiresInDays: days, Sensitive: a.Sensitive}, nil
}

// parseExpiry returns the number of days of a token lifetime written as Nd
// ("90d") or as a Go duration of whole days ("2160h"); "" is 0, never.
func parseExpiry(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	const day = 24 * time.Hour
	var days int64
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days; use e.g. 90d", s)
		}
		days = d
	} else {
		d, err := time.ParseDuration(s)
		if err != nil || d%day != 0 {
			return 0, fmt.Errorf("%q is not a whole number of days; use e.g. 90d or 2160h", s)
		}
		days = int64(d / day)
	}
	if days < 1 || days > tillit.MaxTokenDays {
		return 0, fmt.Errorf("%q is out of range; a token lives 1 to %d days, or leave --expires out for no expiry", s, tillit.MaxTokenDays)
	}
	return int(days), nil
}

// roleNames lists the roles for help texts.
func roleNames() string {
	names := make([]string, len(tillit.Roles))
	for i, r := range tillit.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// runTokenList prints the API tokens of a tenant as JSON, without secrets.
func runTokenList(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("token list", "--tenant SLUG [flags]", "List the API tokens of a tenant as JSON.")
	cfg := newConfig(fs)
	var tenant string
	fs.StringVar(&tenant, "tenant", "", "`slug` of the tenant")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "tenant", tenant); err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, tenant)
		if err != nil {
			return err
		}
		tokens, err := sqldb.NewTokenService(s.db).FindTokens(systemContext(ctx), t.ID)
		if err != nil {
			return err
		}
		return printJSON(p.stdout, tokens)
	})
}

// runTokenRevoke revokes an API token of a tenant.
func runTokenRevoke(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("token revoke", "--tenant SLUG --id N [flags]",
		"Revoke an API token of a tenant. Revoking twice is not an error.")
	cfg := newConfig(fs)
	var tenant string
	var id int64
	fs.StringVar(&tenant, "tenant", "", "`slug` of the tenant the token belongs to")
	fs.Int64Var(&id, "id", 0, "`id` of the token")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "tenant", tenant); err != nil {
		return err
	}
	if id < 1 {
		return usagef(fs.Name(), "--id is required and must be a positive token id; see 'tillit token list --tenant %s'", tenant)
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, tenant)
		if err != nil {
			return err
		}
		if err := sqldb.NewTokenService(s.db).RevokeToken(systemContext(ctx), t.ID, id); err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.stdout, "token %d of %s revoked\n", id, t.Slug)
		return err
	})
}
