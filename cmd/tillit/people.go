package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"tillit"
	"tillit/peoplefile"
)

// runPeople runs a people subcommand: import, erase.
func runPeople(ctx context.Context, p *proc, args []string) error {
	return p.dispatch(ctx, "people", []command{
		{"import", "import people from a CSV or NDJSON file, with a progress bar", runPeopleImport},
		{"erase", "erase people of a tenant by id (a file of ids), with a progress bar", runPeopleErase},
	}, args)
}

// runPeopleImport imports a file of people into a tenant's register.
func runPeopleImport(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("people import", "--tenant SLUG [--all-or-nothing] [--format csv|ndjson] FILE",
		"Import the people of FILE into the tenant's register: CSV with a header row (columns named as the\n"+
			"API's attributes: given_name, family_name, national_id, national_id_country, birth_date, email,\n"+
			"phone, street, postal_code, city, country, language, collected_at, and the tenant's own attributes;\n"+
			"',' or ';' between cells), or NDJSON (one person per line, as the API takes them). The format is\n"+
			"guessed from the first character unless --format says it. Prints the result as JSON: how many\n"+
			"were created and, for each refused line, its number and why. A line whose national id or e-mail\n"+
			"another person has is refused as a duplicate, never merged.")
	cfg := newConfig(fs)
	var slug, format string
	var allOrNothing bool
	fs.StringVar(&slug, "tenant", "", "`slug` of the tenant")
	fs.StringVar(&format, "format", "", "csv or ndjson; empty to guess from the file")
	fs.BoolVar(&allOrNothing, "all-or-nothing", false, "refuse the whole file if any line is refused")
	files, err := p.parseConfigFiles(fs, cfg, args)
	if err != nil {
		return err
	}
	if err := requireFlags(fs, "tenant", slug); err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef(fs.Name(), "give exactly one FILE to import; run 'tillit people import -h' for help")
	}
	if format != "" && format != "csv" && format != "ndjson" {
		return usagef(fs.Name(), "--format must be csv or ndjson")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, slug)
		if err != nil {
			return err
		}
		// The operator acts inside the tenant, as its system user.
		ctx := tillit.NewContextWithPrincipal(ctx, &tillit.Principal{Kind: tillit.KindSystem, Name: "cli",
			TenantID: t.ID, Role: tillit.RoleAdmin})
		svc := s.people()
		schema, err := svc.FindSchema(ctx)
		if err != nil {
			return err
		}
		bar := newProgress(p.stderr, "importing "+info.Name(), info.Size(), "bytes")
		br := bufio.NewReaderSize(bar.Reader(f), 1<<16)
		fm := peoplefile.Format(format)
		if fm == "" {
			if fm, err = peoplefile.Sniff(br); err != nil {
				return fmt.Errorf("import: %w", err)
			}
		}
		src, err := peoplefile.NewReader(br, fm, schema)
		if err != nil {
			return err
		}
		res, err := svc.ImportPeople(ctx, src, tillit.ImportOptions{AllOrNothing: allOrNothing}, nil)
		bar.Done()
		if res != nil {
			if perr := printJSON(p.stdout, res); err == nil {
				err = perr
			}
		}
		switch {
		case err != nil:
		case !res.Imported:
			err = fmt.Errorf("import refused: %s refused and --all-or-nothing was given; no person was imported", plural(res.RefusedTotal, "line"))
		case res.Created == 0 && res.RefusedTotal > 0:
			err = fmt.Errorf("no person was imported: every line was refused (see \"refused\")")
		}
		if err == nil && res.RefusedTotal > 0 {
			fmt.Fprintf(p.stderr, "%d people created; %s refused (see \"refused\")\n", res.Created, plural(res.RefusedTotal, "line"))
		}
		return err
	})
}

// parseConfigFiles is p.parseConfig for a command that takes FILE
// arguments, which it returns: flags may come before and after them, and
// everything after "--" is a file.
func (p *proc) parseConfigFiles(fs *flag.FlagSet, cfg *Config, args []string) ([]string, error) {
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(p.stdout)
				fs.Usage()
				return nil, err
			}
			return nil, usagef(fs.Name(), "%v; run 'tillit %s -h' for the flags", err, fs.Name())
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if n := len(rest) - len(left); n > 0 && rest[n-1] == "--" {
			files = append(files, left...)
			break
		}
		files, rest = append(files, left[0]), left[1:]
	}
	if err := cfg.Load(fs, p.getenv); err != nil {
		return nil, usagef(fs.Name(), "configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return files, nil
}

// plural returns "1 line" or "n lines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %s", n, strings.TrimSuffix(noun, "s")+"s")
}
