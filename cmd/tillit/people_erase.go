package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"tillit"
)

// runPeopleErase erases the people of a file of ids from a tenant's
// register: for each, the key first, then the rows, with a signed receipt.
func runPeopleErase(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("people erase", "--tenant SLUG --ids-file FILE",
		"Erase people of the tenant's register: FILE holds their ids, one a line (blank lines and lines\n"+
			"starting with # are skipped), at most "+strconv.Itoa(tillit.MaxBulkErasure)+". Each person's key is\n"+
			"destroyed first, then their rows and records; people under a legal hold are skipped. Prints the\n"+
			"result as JSON: a signed receipt for each person erased (check one with 'tillit receipt verify'),\n"+
			"the ids held and the ids not found. Irreversible.")
	cfg := newConfig(fs)
	var slug, idsFile string
	fs.StringVar(&slug, "tenant", "", "`slug` of the tenant")
	fs.StringVar(&idsFile, "ids-file", "", "`file` of the ids of the people to erase, one a line")
	if err := p.parseConfig(fs, cfg, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "tenant", slug, "ids-file", idsFile); err != nil {
		return err
	}
	ids, err := readIDs(idsFile)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return usagef(fs.Name(), "%s holds no ids", idsFile)
	}
	if len(ids) > tillit.MaxBulkErasure {
		return usagef(fs.Name(), "%s holds %d ids; at most %d are erased at once", idsFile, len(ids), tillit.MaxBulkErasure)
	}
	return withStore(ctx, p, cfg, func(s *store) error {
		t, err := s.tenantBySlug(ctx, slug)
		if err != nil {
			return err
		}
		ctx := tillit.NewContextWithPrincipal(ctx, &tillit.Principal{Kind: tillit.KindSystem, Name: "cli",
			TenantID: t.ID, Role: tillit.RoleAdmin})
		bar := newProgress(p.stderr, "erasing", int64(len(ids)), "people")
		res, err := s.people().ErasePeople(ctx, ids, func(done int) { bar.Set(int64(done)) })
		bar.Done()
		if res != nil {
			if perr := printJSON(p.stdout, res); err == nil {
				err = perr
			}
			fmt.Fprintf(p.stderr, "%d erased, %d held, %d not found\n", len(res.Receipts), len(res.Held), len(res.NotFound))
		}
		return err
	})
}

// readIDs reads a file of ids, one a line.
func readIDs(path string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	defer f.Close()
	var ids []int64
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := strconv.ParseInt(line, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("erase: %s line %d is not the id of a person (a positive number)", path, n)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("erase: %s: %w", path, err)
	}
	return ids, nil
}
