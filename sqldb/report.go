package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"tillit"
	"tillit/keyring"
)

var _ tillit.ReportService = (*PeopleService)(nil)

// Limits of a purpose.
const (
	maxPurposeName        = 200  // bytes
	maxPurposeDescription = 2000 // bytes
	maxPurposeCategories  = 100
	maxPurposeCategory    = 64 // bytes
)

// Purposes implements tillit.ReportService. Errors: EForbidden.
func (s *PeopleService) Purposes(ctx context.Context) ([]tillit.Purpose, error) {
	tillit.Describe(ctx, "purpose.read", "")
	pr, err := tillit.Authorize(ctx, tillit.PermTenantRead)
	if err != nil {
		return nil, err
	}
	return purposes(ctx, s.db.read, pr.TenantID)
}

// purposes reads a tenant's purposes: empty, not nil, when it has none.
func purposes(ctx context.Context, q querier, tenantID int64) ([]tillit.Purpose, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT purposes FROM purposes WHERE tenant_id = $1`, tenantID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return []tillit.Purpose{}, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	list := []tillit.Purpose{}
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, tillit.Internal(fmt.Errorf("purposes of tenant %d: %w", tenantID, err))
	}
	return list, nil
}

// SetPurposes implements tillit.ReportService: it replaces the tenant's
// list of purposes. Errors: EInvalid (naming the field), EForbidden.
func (s *PeopleService) SetPurposes(ctx context.Context, list []tillit.Purpose) ([]tillit.Purpose, error) {
	tillit.Describe(ctx, "purpose.update", "", "purposes")
	pr, err := tillit.Authorize(ctx, tillit.PermPurposeWrite)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []tillit.Purpose{}
	}
	if err := checkPurposes(list); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return nil, tillit.Internal(err)
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO purposes (tenant_id, purposes, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET purposes = excluded.purposes, updated_at = excluded.updated_at`,
			pr.TenantID, string(raw), micros(tx.now)); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "purpose.update", "", "purposes"))
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// checkPurposes validates a list of purposes in place (trimming the
// text), naming the field of the first that is wrong.
func checkPurposes(list []tillit.Purpose) error {
	if len(list) > tillit.MaxPurposes {
		return tillit.FieldErrorf("purposes", "at most %d purposes; you sent %d", tillit.MaxPurposes, len(list))
	}
	seen := map[string]bool{}
	for i := range list {
		p := &list[i]
		field := func(name string) string { return fmt.Sprintf("purposes[%d].%s", i, name) }
		p.Name, p.Description = strings.TrimSpace(p.Name), strings.TrimSpace(p.Description)
		switch {
		case p.Name == "" || len(p.Name) > maxPurposeName:
			return tillit.FieldErrorf(field("name"), "the name of purpose %d must have 1 to %d bytes", i+1, maxPurposeName)
		case !utf8.ValidString(p.Name) || strings.ContainsAny(p.Name, "\r\n\x00"):
			return tillit.FieldErrorf(field("name"), "the name of purpose %d must be one line of text", i+1)
		case seen[strings.ToLower(p.Name)]:
			return tillit.FieldErrorf(field("name"), "purpose %d has the same name as an earlier one; names must differ", i+1)
		case !slices.Contains(tillit.LegalBases, p.LegalBasis):
			return tillit.FieldErrorf(field("legal_basis"), "the legal basis of purpose %d must be one of %s",
				i+1, strings.Join(tillit.LegalBases, ", "))
		case len(p.Description) > maxPurposeDescription:
			return tillit.FieldErrorf(field("description"), "the description of purpose %d has %d bytes; at most %d",
				i+1, len(p.Description), maxPurposeDescription)
		case !utf8.ValidString(p.Description) || strings.ContainsRune(p.Description, 0):
			return tillit.FieldErrorf(field("description"), "the description of purpose %d is not valid text", i+1)
		case len(p.Categories) > maxPurposeCategories:
			return tillit.FieldErrorf(field("categories"), "purpose %d names more than %d categories", i+1, maxPurposeCategories)
		}
		seen[strings.ToLower(p.Name)] = true
		cats := map[string]bool{}
		for j, c := range p.Categories {
			c = strings.TrimSpace(c)
			if c == "" || len(c) > maxPurposeCategory || !utf8.ValidString(c) || strings.ContainsAny(c, "\r\n\x00") {
				return tillit.FieldErrorf(field("categories"), "category %d of purpose %d must be an attribute name or record category of 1 to %d bytes",
					j+1, i+1, maxPurposeCategory)
			}
			if cats[c] {
				return tillit.FieldErrorf(field("categories"), "purpose %d names category %q twice", i+1, c)
			}
			cats[c] = true
			p.Categories[j] = c
		}
	}
	return nil
}

// PersonReport implements tillit.ReportService: the register extract of a
// person (GDPR Art. 15). It is one event, "person.report", naming every
// attribute of the person and "records". Errors: ENotFound, EForbidden.
func (s *PeopleService) PersonReport(ctx context.Context, id int64) (*tillit.PersonReport, error) {
	target := personTarget(id)
	tillit.Describe(ctx, "person.report", target)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonReport)
	if err != nil {
		return nil, err
	}
	settings, schema, err := s.tenantContext(ctx, s.db.read, pr.TenantID)
	if err != nil {
		return nil, err
	}
	p, values, err := s.reportPerson(ctx, pr.TenantID, id)
	if err != nil {
		return nil, err
	}
	records, err := s.allRecords(ctx, pr.TenantID, id)
	if err != nil {
		return nil, err
	}
	rep := &tillit.PersonReport{
		GeneratedAt:   s.db.now(),
		Language:      settings.Locale,
		Person:        p,
		Records:       records,
		Categories:    categoriesOf(p, schema, records),
		Sources:       []string{cmp.Or(p.Source, tillit.SourceAPI)},
		Recipients:    []tillit.Recipient{},
		SubProcessors: []tillit.Recipient{},
	}
	if !slices.Contains(tillit.Locales, rep.Language) {
		rep.Language = tillit.DefaultTenantSettings().Locale
	}
	if err := s.db.read.QueryRowContext(ctx, `SELECT name FROM tenants WHERE id = $1`, pr.TenantID).Scan(&rep.Tenant); err != nil {
		return nil, translate(err)
	}
	if rep.Purposes, err = purposes(ctx, s.db.read, pr.TenantID); err != nil {
		return nil, err
	}
	if rep.Retention, err = s.reportRetention(ctx, pr.TenantID, p); err != nil {
		return nil, err
	}
	if rep.AccessHistory, err = s.accessHistory(ctx, pr.TenantID, target); err != nil {
		return nil, err
	}
	tillit.Describe(ctx, "person.report", target, append(readFields(p, values), "records")...)
	return rep, nil
}

// ExportPerson implements tillit.ReportService: the person and every
// record, for portability (GDPR Art. 20). It is one event,
// "person.export". Errors: ENotFound, EForbidden.
func (s *PeopleService) ExportPerson(ctx context.Context, id int64) (*tillit.PersonExport, error) {
	target := personTarget(id)
	tillit.Describe(ctx, "person.export", target)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonReport)
	if err != nil {
		return nil, err
	}
	p, values, err := s.reportPerson(ctx, pr.TenantID, id)
	if err != nil {
		return nil, err
	}
	records, err := s.allRecords(ctx, pr.TenantID, id)
	if err != nil {
		return nil, err
	}
	tillit.Describe(ctx, "person.export", target, append(readFields(p, values), "records")...)
	return &tillit.PersonExport{Person: p, Records: records}, nil
}

// reportPerson reads the person of a report or export: an anonymised
// remnant has nothing personal left to give.
func (s *PeopleService) reportPerson(ctx context.Context, tenantID, id int64) (*tillit.Person, personValues, error) {
	p, values, _, err := s.readPerson(ctx, s.db.read, tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	if p.AnonymisedAt != nil {
		return nil, nil, tillit.Errorf(tillit.ENotFound, "this person was anonymised: nothing personal is left to report or export")
	}
	return p, values, nil
}

// reportPage is how many records or events a report reads per query (a
// variable for tests, which cross pages with a few).
var reportPage = 1000

// allRecords returns every record of a person, newest first, reading them
// a page at a time.
func (s *PeopleService) allRecords(ctx context.Context, tenantID, personID int64) ([]*tillit.Record, error) {
	pk, err := s.personKeyOf(ctx, s.db.read, tenantID, personID)
	if err != nil {
		return nil, err
	}
	out := []*tillit.Record{}
	beforeAt, beforeID := int64(1<<62), int64(1<<62)
	for {
		page, err := s.recordPage(ctx, pk, tenantID, personID, beforeAt, beforeID)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < reportPage {
			return out, nil
		}
		last := page[len(page)-1]
		beforeAt, beforeID = micros(last.OccurredAt), last.ID
	}
}

func (s *PeopleService) recordPage(ctx context.Context, pk *keyring.PersonKey, tenantID, personID, beforeAt, beforeID int64) ([]*tillit.Record, error) {
	rows, err := s.db.query(ctx, `SELECT `+recordColumns+` FROM records
		WHERE tenant_id = $1 AND person_id = $2 AND (occurred_at < $3 OR (occurred_at = $3 AND id < $4))
		ORDER BY occurred_at DESC, id DESC LIMIT $5`, tenantID, personID, beforeAt, beforeID, reportPage)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var page []*tillit.Record
	for rows.Next() {
		r, err := scanRecord(rows, pk)
		if err != nil {
			return nil, tillit.Internal(err)
		}
		page = append(page, r)
	}
	return page, translate(rows.Err())
}

// categoriesOf lists the kinds of data held about a person: the attributes
// they have, with their classification, then the categories of their
// records.
func categoriesOf(p *tillit.Person, schema *tillit.Schema, records []*tillit.Record) []tillit.DataCategory {
	out := []tillit.DataCategory{}
	for _, name := range personFields(p) {
		c := tillit.DataCategory{Name: name, Kind: "attribute", Classification: tillit.ClassPersonal}
		if attr, ok := strings.CutPrefix(name, attrPrefix); ok {
			c.Name = attr
			if def, ok := schema.Attribute(attr); ok {
				c.Classification = def.Classification
			}
		}
		out = append(out, c)
	}
	seen := map[string]bool{}
	var cats []string
	for _, r := range records {
		if !seen[r.Category] {
			seen[r.Category] = true
			cats = append(cats, r.Category)
		}
	}
	slices.Sort(cats)
	for _, c := range cats {
		out = append(out, tillit.DataCategory{Name: c, Kind: "record", Classification: tillit.ClassPersonal})
	}
	return out
}

// reportRetention says how long the person is kept under the tenant's
// policy: the date they are due, or, once flagged, the flag; in automatic
// mode the grace period after it.
func (s *PeopleService) reportRetention(ctx context.Context, tenantID int64, p *tillit.Person) (tillit.ReportRetention, error) {
	rr := tillit.ReportRetention{}
	if p.Hold.Active(s.db.now()) {
		rr.Hold = p.Hold
	}
	policy, err := retentionPolicy(ctx, s.db.read, tenantID)
	if err != nil || policy == nil {
		return rr, err
	}
	rr.Policy = policy
	at := policy.DueAt(p)
	if p.FlaggedAt != nil && p.FlaggedAt.After(at) {
		at = *p.FlaggedAt
	}
	if policy.Mode == tillit.RetentionAutomatic {
		at = at.AddDate(0, 0, policy.GraceDays)
	}
	rr.DeleteAt = &at
	return rr, nil
}

// accessHistory returns the successful events of the tenant's log about
// the target, oldest first, with the names and roles of the tenant's
// tokens and the roles of its users. A user is named only by id: the
// register keeps no display names of staff, and their e-mail addresses
// are theirs, not the data subject's.
func (s *PeopleService) accessHistory(ctx context.Context, tenantID int64, target string) ([]tillit.Access, error) {
	out := []tillit.Access{}
	after := int64(-1)
	for {
		rows, err := s.db.query(ctx, `SELECT idx, at, actor, action, fields FROM `+s.db.eventsOfTarget()+`
			WHERE log_id = $1 AND target = $2 AND idx > $3 AND outcome = $4 ORDER BY idx LIMIT $5`,
			tenantID, target, after, tillit.OutcomeOK, reportPage)
		if err != nil {
			return nil, translate(err)
		}
		n := 0
		for rows.Next() {
			var a tillit.Access
			var at int64
			var fields string
			if err := rows.Scan(&after, &at, &a.Actor, &a.Action, &fields); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			a.At = fromMicros(at)
			if fields != "" {
				a.Attributes = strings.Split(fields, ",")
			}
			out = append(out, a)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
		if n < reportPage {
			break
		}
	}
	return out, s.nameActors(ctx, tenantID, out)
}

// nameActors fills in the names and roles of the tenant's tokens and the
// roles of its users among the actors of history.
func (s *PeopleService) nameActors(ctx context.Context, tenantID int64, history []tillit.Access) error {
	ids := map[string][]any{}
	for _, a := range history {
		kind, id, ok := strings.Cut(a.Actor, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || (kind != string(tillit.KindUser) && kind != string(tillit.KindToken)) {
			continue
		}
		if !slices.Contains(ids[kind], any(n)) {
			ids[kind] = append(ids[kind], n)
		}
	}
	type who struct {
		name string
		role tillit.Role
	}
	known := map[string]who{}
	load := func(kind, q string) error {
		list := ids[kind]
		for start := 0; start < len(list); start += 500 {
			part := list[start:min(start+500, len(list))]
			rows, err := s.db.read.QueryContext(ctx, fmt.Sprintf(q, placeholders(2, len(part))), append([]any{tenantID}, part...)...)
			if err != nil {
				return translate(err)
			}
			for rows.Next() {
				var id int64
				var w who
				if err := rows.Scan(&id, &w.name, &w.role); err != nil {
					rows.Close()
					return translate(err)
				}
				known[kind+":"+strconv.FormatInt(id, 10)] = w
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return translate(err)
			}
		}
		return nil
	}
	if err := load(string(tillit.KindToken), `SELECT id, name, role FROM tokens WHERE tenant_id = $1 AND id IN (%s)`); err != nil {
		return err
	}
	if err := load(string(tillit.KindUser), `SELECT id, '', role FROM accounts WHERE kind = 'user' AND tenant_id = $1 AND id IN (%s)`); err != nil {
		return err
	}
	for i := range history {
		if w, ok := known[history[i].Actor]; ok {
			history[i].Name, history[i].Role = w.name, w.role
		}
	}
	return nil
}
