package main

import (
	"context"
	"flag"
	"tillit"
	"tillit/sqldb"
)

// runTenant runs a tenant subcommand: create or list.
func runTenant(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "tenant", []command{
		{"create", "create a tenant and print it as JSON", runTenantCreate},
		{"list", "list the tenants as JSON", runTenantList},
	}, args)
}

// tenantCreateArgs are the flags of `tillit tenant create`.
type tenantCreateArgs struct {
	Slug, Name string
}

// runTenantCreate creates a tenant with default settings and prints it as
// JSON.
func runTenantCreate(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("tenant create", "--slug SLUG --name NAME [flags]",
		`Create a tenant with default settings and print it as JSON, e.g.
  tillit tenant create --slug acme --name "Acme AS"`)
	cfg := newConfig(fs)
	var a tenantCreateArgs
	fs.StringVar(&a.Slug, "slug", "", "the tenant's `slug`: 2–63 lowercase letters, digits and dashes")
	fs.StringVar(&a.Name, "name", "", "the tenant's display `name`")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := a.validate(fs); err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t := &tillit.Tenant{Slug: a.Slug, Name: a.Name}
		if err := sqldb.NewTenantService(s.db).CreateTenant(systemContext(ctx), t); err != nil {
			return err
		}
		return printJSON(p.stdout, t)
	})
}

// validate checks the flags, naming the one at fault.
func (a *tenantCreateArgs) validate(fs *flag.FlagSet) error {
	if err := requireFlags(fs, "slug", a.Slug, "name", a.Name); err != nil {
		return err
	}
	if err := tillit.ValidateSlug(a.Slug); err != nil {
		return flagError(fs, "slug", err)
	}
	return flagError(fs, "name", tillit.ValidateName("name", a.Name))
}

// runTenantList prints every tenant as JSON, by slug.
func runTenantList(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("tenant list", "[flags]", "List the tenants as JSON, by slug.")
	cfg := newConfig(fs)
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		tenants, err := sqldb.NewTenantService(s.db).FindTenants(systemContext(ctx))
		if err != nil {
			return err
		}
		if tenants == nil {
			tenants = []*tillit.Tenant{}
		}
		return printJSON(p.stdout, tenants)
	})
}

// requireFlags returns a usage error naming the first of the (name, value)
// pairs whose value is empty.
func requireFlags(fs *flag.FlagSet, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return usagef(fs.Name(), "--%s is required; run 'tillit %s -h' for help", pairs[i], fs.Name())
		}
	}
	return nil
}

// flagError turns err, a validation error of the value of flag name, into
// a usage error naming the flag; nil stays nil.
func flagError(fs *flag.FlagSet, name string, err error) error {
	if err == nil {
		return nil
	}
	return usagef(fs.Name(), "--%s: %s", name, tillit.ErrorMessage(err))
}
