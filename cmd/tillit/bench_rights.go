package main

// The ops of people's rights in tillit bench: report and report-pdf (the
// register extract of one person with many records), erase, and retention
// (one run of the retention job erasing many due people), and what they
// make before they are timed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tillit"
)

// benchRights is what the ops of people's rights made.
type benchRights struct {
	reportID int64     // the person whose extract report reads; 0 before seedReport
	erase    benchPool // the people made for erase
}

// benchPool is the ids of people made for an op, which its workers take
// one at a time.
type benchPool struct {
	ids  []int64
	next atomic.Int64
}

// take returns the next id, or false when they are all taken.
func (p *benchPool) take() (int64, bool) {
	i := p.next.Add(1) - 1
	if i >= int64(len(p.ids)) {
		return 0, false
	}
	return p.ids[i], true
}

// left returns how many ids are not taken yet.
func (p *benchPool) left() int { return max(len(p.ids)-int(p.next.Load()), 0) }

// benchOpPermissions are the permissions the ops of people's rights need
// beyond reading and writing the register.
var benchOpPermissions = map[string][]tillit.Permission{
	"report":     {tillit.PermPersonReport},
	"report-pdf": {tillit.PermPersonReport},
	"erase":      {tillit.PermPersonErase},
	"retention":  {tillit.PermRetentionRead, tillit.PermRetentionWrite},
}

// benchRightsToken is how to make a token that may run every op.
const benchRightsToken = "tillit token create --tenant SLUG --role privacy --name bench --sensitive"

// preflightRights checks that the token may do the ops of people's rights
// asked for, before anything is made: its role has their permissions, and
// for erase it may erase without a step-up (one person is made and erased
// to find out).
func (b *bench) preflightRights(ctx context.Context, me *benchMe) error {
	for _, op := range b.ops {
		for _, perm := range benchOpPermissions[op] {
			if !slices.Contains(me.Permissions, perm) {
				return fmt.Errorf("bench: %s needs the permission %s, which the token's role %s has not (roles %s have it);\n"+
					"make a token with: %s", op, perm, me.Role, benchRolesWith(perm), benchRightsToken)
			}
		}
	}
	if !slices.Contains(b.ops, "erase") {
		return nil
	}
	id, err := b.newPerson(ctx)
	if err != nil {
		return fmt.Errorf("bench: erase: creating a person to erase first: %w", err)
	}
	_, err = b.client.do(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/people/%d", id), "", nil, http.StatusOK, nil)
	if f := (*benchFailure)(nil); errors.As(err, &f) && f.status == http.StatusForbidden {
		return fmt.Errorf("bench: erase: the server refused to erase a person the bench made (%v);\n"+
			"erasing needs a token created with --sensitive (a person steps up instead): %s", err, benchRightsToken)
	}
	if err != nil {
		return fmt.Errorf("bench: erase: erasing a person the bench made: %w", err)
	}
	return nil
}

// benchRolesWith lists the roles that have perm.
func benchRolesWith(perm tillit.Permission) string {
	var names []string
	for _, r := range tillit.Roles {
		if r.Can(perm) {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

// newPerson creates a person for an op of people's rights, outside the
// people that get, update, record and lookup use.
func (b *bench) newPerson(ctx context.Context) (int64, error) {
	body, _ := json.Marshal(benchPersonAt(b.people.run, b.people.claim(1))) // cannot fail: strings only
	var created struct {
		ID int64 `json:"id"`
	}
	_, err := b.client.do(ctx, http.MethodPost, "/api/v1/people", "application/json", body, http.StatusCreated, &created)
	return created.ID, err
}

// fill makes n unmeasured requests with the clients in parallel, one(ctx,
// i) for i from 0 to n-1, printing the progress as "step: done/n things"
// and the time it took. It stops at the first error and returns it, and
// returns nil when the parent is done (the caller reports it).
func (b *bench) fill(parent context.Context, step, things string, n int, one func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	var next, done atomic.Int64
	start := time.Now()
	stop := b.progress(step, things, int64(n), &done)
	var wg sync.WaitGroup
	for range min(b.Clients, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := one(ctx, int(i)); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stop()
	if parent.Err() != nil {
		return nil
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	fmt.Fprintf(b.p.stderr, "%s: %d %s in %.1fs\n", step, n, things, time.Since(start).Seconds())
	return nil
}

// seedReport makes, once, the person whose extract report and report-pdf
// read: one person with b.ReportRecords records.
func (b *bench) seedReport(ctx context.Context) error {
	if b.rights.reportID != 0 {
		return nil
	}
	id, err := b.newPerson(ctx)
	if err != nil {
		return fmt.Errorf("bench: report: creating the person to report: %w", err)
	}
	fmt.Fprintf(b.p.stderr, "bench: report: adding %d records to one person first (not measured)\n", b.ReportRecords)
	path := fmt.Sprintf("/api/v1/people/%d/records", id)
	err = b.fill(ctx, "report", "records", b.ReportRecords, func(ctx context.Context, i int) error {
		body, _ := json.Marshal(map[string]string{"category": "note", "title": fmt.Sprintf("Bench note %d", i+1),
			"body":        "Called about the invoice; will call back next week.",
			"occurred_at": b.p.clock.Now().Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)})
		_, err := b.client.do(ctx, http.MethodPost, path, "application/json", body, http.StatusCreated, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("bench: report: adding records: POST %s: %w", path, err)
	}
	b.rights.reportID = id
	return nil
}

// reportOne reads the register extract of the person of seedReport in
// format (json or pdf). The first answer of each worker is checked: the
// person with all their records, or a PDF.
func (b *bench) reportOne(format string) benchOpFunc {
	accept := map[string]string{"json": "application/json", "pdf": "application/pdf"}[format]
	return func(ctx context.Context, w *benchWorker) (int, time.Duration, error) {
		path := fmt.Sprintf("/api/v1/people/%d/report?format=%s", b.rights.reportID, format)
		took, data, err := b.client.doRaw(ctx, http.MethodGet, path, accept, "", nil, http.StatusOK)
		if err == nil && !w.checked {
			w.checked = true
			err = b.checkReport(format, data)
		}
		return 1, took, err
	}
}

// checkReport checks an answer of reportOne.
func (b *bench) checkReport(format string, data []byte) error {
	if format == "pdf" {
		if !bytes.HasPrefix(data, []byte("%PDF-")) {
			return &benchFailure{status: http.StatusOK, msg: "200 with a body that is not a PDF"}
		}
		return nil
	}
	var rep struct {
		Person *struct {
			ID int64 `json:"id"`
		} `json:"person"`
		Records []json.RawMessage `json:"records"`
	}
	switch err := json.Unmarshal(data, &rep); {
	case err != nil:
		return &benchFailure{status: http.StatusOK, msg: fmt.Sprintf("200 with an unreadable report: %v", err)}
	case rep.Person == nil || rep.Person.ID != b.rights.reportID || len(rep.Records) != b.ReportRecords:
		return &benchFailure{status: http.StatusOK, msg: fmt.Sprintf("200 with a report of another person or of %d records, not %d",
			len(rep.Records), b.ReportRecords)}
	}
	return nil
}

// seedErase makes the b.EraseSize people erase erases.
func (b *bench) seedErase(ctx context.Context) error {
	fmt.Fprintf(b.p.stderr, "bench: erase: creating %d people to erase first (not measured)\n", b.EraseSize)
	ids := make([]int64, b.EraseSize)
	err := b.fill(ctx, "erase", "people", b.EraseSize, func(ctx context.Context, i int) (err error) {
		ids[i], err = b.newPerson(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("bench: erase: creating people: POST /api/v1/people: %w", err)
	}
	b.rights.erase.ids = ids
	return nil
}

// eraseOne erases a person made for erase and checks that the answer is
// the person's erasure receipt.
func (b *bench) eraseOne(ctx context.Context, _ *benchWorker) (int, time.Duration, error) {
	id, ok := b.rights.erase.take()
	if !ok {
		return 0, 0, errBenchDone
	}
	var receipt struct {
		Kind     string `json:"kind"`
		PersonID int64  `json:"person_id"`
		Note     string `json:"note"`
	}
	took, err := b.client.do(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/people/%d", id), "", nil, http.StatusOK, &receipt)
	if err == nil && (receipt.Kind != tillit.ReceiptErasure || receipt.PersonID != id || receipt.Note == "") {
		err = &benchFailure{status: http.StatusOK, msg: "200 with an answer that is not the person's signed erasure receipt"}
	}
	return 1, took, err
}
