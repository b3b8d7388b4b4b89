package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The retention job (gallring). Whether a person is due is decided in SQL
// on plain columns (collected_at, last_activity_at, kept_until, flagged_at,
// held_at, hold_until), without opening anyone: the cutoffs are computed in
// Go, since month arithmetic differs between the engines.
//
// The cutoffs are tillit.AddMonths(now, -months), which clamps to the last
// day of the month: the job is never early against RetentionPolicy.DueAt
// (someone collected on 2 March is not due on 31 March under one month),
// but at a month's end it may be up to three days late (someone collected
// on 30 January is due on 28 February by DueAt, and flagged from 2 March,
// when the cutoff reaches 30 January). Going back a month from a day the
// month before does not have cannot be exact both ways.

// retentionErase is how many people one call of eraseIDs takes: the job
// reports progress and frees memory between batches.
const retentionErase = 5000

// idChunk is how many ids one statement names (inlined: they are integers).
const idChunk = 500

// idList is ids as an SQL list "1, 2, 3". Ids are integers, so they are
// inlined rather than bound: the engines differ in how many parameters they
// take and how fast they parse them.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// dueWhere is the condition of a person of tenant $1 past the policy's date
// at now: base <= cutoff ($2) and not kept beyond now ($3), not anonymised.
func dueWhere(p *tillit.RetentionPolicy) string {
	base := "collected_at"
	if p.From == tillit.RetentionFromLastActivity {
		base = "last_activity_at"
	}
	return `tenant_id = $1 AND anonymised_at IS NULL AND ` + base + ` <= $2 AND (kept_until IS NULL OR kept_until <= $3)`
}

// dueArgs are the arguments of dueWhere at now.
func dueArgs(tenantID int64, p *tillit.RetentionPolicy, now time.Time) []any {
	return []any{tenantID, micros(tillit.AddMonths(now, -p.Months)), micros(now)}
}

// heldWhere is the condition of a person under an active legal hold at
// the parameter now.
func heldWhere(now string) string {
	return `held_at IS NOT NULL AND (hold_until IS NULL OR hold_until > ` + now + `)`
}

func tenantTarget(id int64) string { return "tenant:" + strconv.FormatInt(id, 10) }

// RetentionPolicy implements tillit.RetentionService.
func (s *PeopleService) RetentionPolicy(ctx context.Context) (*tillit.RetentionPolicy, error) {
	tillit.Describe(ctx, "retention.policy.read", "")
	pr, err := tillit.Authorize(ctx, tillit.PermRetentionRead)
	if err != nil {
		return nil, err
	}
	tillit.Describe(ctx, "retention.policy.read", tenantTarget(pr.TenantID))
	return retentionPolicy(ctx, s.db.read, pr.TenantID)
}

// SetRetentionPolicy implements tillit.RetentionService.
func (s *PeopleService) SetRetentionPolicy(ctx context.Context, p *tillit.RetentionPolicy, dryRun bool) (*tillit.RetentionPreview, error) {
	tillit.Describe(ctx, "retention.policy", "")
	pr, err := tillit.Authorize(ctx, tillit.PermRetentionWrite)
	if err != nil {
		return nil, err
	}
	target := tenantTarget(pr.TenantID)
	tillit.Describe(ctx, "retention.policy", target)
	if p == nil {
		return nil, tillit.FieldErrorf("months", "send a policy: months, from, mode and grace_days")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// An automatic policy erases people by itself: saving one is an
	// erasure, and needs what erasing needs (a step-up). A dry run only
	// counts.
	if !dryRun && p.Mode == tillit.RetentionAutomatic {
		if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
			return nil, err
		}
	}
	if len(p.Categories) > 0 {
		_, schema, err := s.tenantContext(ctx, s.db.read, pr.TenantID)
		if err != nil {
			return nil, err
		}
		for _, c := range slices.Sorted(maps.Keys(p.Categories)) {
			if !schema.HasCategory(c) {
				return nil, tillit.FieldErrorf("categories", "%q is not one of this tenant's record categories: %s", c, strings.Join(schema.Categories, ", "))
			}
		}
	}
	now := s.db.now()
	preview := &tillit.RetentionPreview{Policy: p}
	count := func(q querier) error {
		var err error
		if preview.WouldFlag, err = countFlaggable(ctx, q, pr.TenantID, p, now); err != nil {
			return err
		}
		preview.WouldDelete, err = s.countRecordsDue(ctx, q, pr.TenantID, p, now)
		return err
	}
	if dryRun {
		tillit.Describe(ctx, "retention.policy", target, "dry_run") // a read: the web layer records it
		if err := count(s.db.read); err != nil {
			return nil, err
		}
		return preview, nil
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		old, err := retentionPolicy(ctx, tx, pr.TenantID)
		if err != nil {
			return err
		}
		p.UpdatedAt = tx.now
		raw, err := json.Marshal(p)
		if err != nil {
			return tillit.Internal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retention_policies (tenant_id, policy, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
			pr.TenantID, string(raw), micros(tx.now)); err != nil {
			return err
		}
		fields := []string{"months", "from", "mode", "grace_days", "categories"}
		if p.Mode == tillit.RetentionAutomatic && (old == nil || old.Mode != tillit.RetentionAutomatic) {
			// The people flagged for review so far were never told to
			// expect an erasure by itself: their grace period starts now,
			// or the next run would erase the whole review queue at once.
			res, err := tx.ExecContext(ctx, `UPDATE people SET flagged_at = $1 WHERE tenant_id = $2 AND flagged_at IS NOT NULL
				AND anonymised_at IS NULL`, micros(tx.now), pr.TenantID)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			fields = append(fields, fmt.Sprintf("grace_restarted:%d", n))
		}
		if err := count(tx); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "retention.policy", target, fields...))
	})
	if err != nil {
		return nil, err
	}
	preview.Saved = true
	return preview, nil
}

// countFlaggable counts the people of the tenant p would flag at now.
func countFlaggable(ctx context.Context, q querier, tenantID int64, p *tillit.RetentionPolicy, now time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM people WHERE `+dueWhere(p)+` AND flagged_at IS NULL`,
		dueArgs(tenantID, p, now)...).Scan(&n)
	return n, translate(err)
}

// recordsDueWhere selects the records of tenant $1 in category $2 that
// occurred at or before $3, leaving out those of people under a legal hold
// at $4.
const recordsDueWhere = `tenant_id = $1 AND category = $2 AND occurred_at <= $3 AND person_id NOT IN
	(SELECT id FROM people WHERE tenant_id = $1 AND held_at IS NOT NULL AND (hold_until IS NULL OR hold_until > $4))`

// countRecordsDue counts the records past their category's months.
func (s *PeopleService) countRecordsDue(ctx context.Context, q querier, tenantID int64, p *tillit.RetentionPolicy, now time.Time) (int, error) {
	total := 0
	for c, m := range p.Categories {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE `+recordsDueWhere,
			tenantID, c, micros(tillit.AddMonths(now, -m)), micros(now)).Scan(&n); err != nil {
			return 0, translate(err)
		}
		total += n
	}
	return total, nil
}

// flaggedCursor is "flagged_at micros.id" of the last person of a page.
func flaggedCursor(at, id int64) string {
	return strconv.FormatInt(at, 10) + "." + strconv.FormatInt(id, 10)
}

func parseFlaggedCursor(c string) (at, id int64, err error) {
	a, b, ok := strings.Cut(c, ".")
	if ok {
		at, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			id, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil || id <= 0 {
		return 0, 0, tillit.FieldErrorf("cursor", "cursor is not one this server gave; start again without it")
	}
	return at, id, nil
}

// FlaggedPeople implements tillit.RetentionService: the review list, with
// each person's name opened under their key. Each person listed is an
// event of its own, as in FindPeople.
func (s *PeopleService) FlaggedPeople(ctx context.Context, cursor string, limit int) ([]*tillit.FlaggedPerson, string, error) {
	tillit.Describe(ctx, "retention.flagged", "")
	pr, err := tillit.Authorize(ctx, tillit.PermRetentionRead)
	if err != nil {
		return nil, "", err
	}
	if limit, err = pageLimit(limit); err != nil {
		return nil, "", err
	}
	afterAt, afterID := int64(-1<<62), int64(0)
	if cursor != "" {
		if afterAt, afterID, err = parseFlaggedCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	policy, err := retentionPolicy(ctx, s.db.read, pr.TenantID)
	if err != nil {
		return nil, "", err
	}
	list, err := scanPersonRows(s.db.read.QueryContext(ctx, `SELECT `+personColumns+`
		FROM people WHERE tenant_id = $1 AND flagged_at IS NOT NULL AND anonymised_at IS NULL
		AND (flagged_at > $2 OR (flagged_at = $2 AND id > $3)) ORDER BY flagged_at, id LIMIT $4`,
		pr.TenantID, afterAt, afterID, limit+1))
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = flaggedCursor(last.register.flaggedAt.Int64, last.id)
	}
	ids := make([]int64, len(list))
	for i, r := range list {
		ids[i] = r.id
	}
	keys, err := s.keys.PersonKeys(ctx, pr.TenantID, ids)
	if err != nil {
		return nil, "", keyError(err)
	}
	out := make([]*tillit.FlaggedPerson, 0, len(list))
	for _, r := range list {
		pk := keys[r.id]
		if pk == nil {
			continue // erased: its key is gone
		}
		p, _, _, err := openPerson(pk, r)
		if err != nil {
			return nil, "", tillit.Internal(err)
		}
		f := &tillit.FlaggedPerson{ID: r.id, Name: strings.TrimSpace(p.GivenName + " " + p.FamilyName),
			FlaggedAt: fromMicros(r.register.flaggedAt.Int64), Hold: p.Hold}
		if policy != nil {
			f.DueAt = policy.DueAt(p)
			if policy.Mode == tillit.RetentionAutomatic {
				at := f.FlaggedAt.AddDate(0, 0, policy.GraceDays)
				f.EraseAt = &at
			}
		}
		fields := []string{"flagged_at"}
		if p.GivenName != "" {
			fields = append(fields, tillit.AttrGivenName)
		}
		if p.FamilyName != "" {
			fields = append(fields, tillit.AttrFamilyName)
		}
		if p.Hold != nil {
			fields = append(fields, "hold")
		}
		out = append(out, f)
		tillit.AlsoTouched(ctx, personTarget(r.id), fields...)
	}
	return out, next, nil
}

// DecideRetention implements tillit.RetentionService.
func (s *PeopleService) DecideRetention(ctx context.Context, d tillit.RetentionDecision) (*tillit.RetentionDecisionResult, error) {
	tillit.Describe(ctx, "retention.decide", "")
	var perm tillit.Permission
	switch d.Action {
	case "erase":
		perm = tillit.PermPersonErase
	case "keep":
		perm = tillit.PermRetentionWrite
	default:
		if _, err := tillit.Authorize(ctx, tillit.PermRetentionRead); err != nil {
			return nil, err
		}
		return nil, tillit.FieldErrorf("action", "action must be erase or keep")
	}
	pr, err := tillit.Authorize(ctx, perm)
	if err != nil {
		return nil, err
	}
	target := tenantTarget(pr.TenantID)
	tillit.Describe(ctx, "retention.decide", target, "action:"+d.Action)
	if d.Reason, err = checkReason("reason", &d.Reason, "the people are erased or kept"); err != nil {
		return nil, err
	}
	switch {
	case len(d.IDs) == 0:
		return nil, tillit.FieldErrorf("ids", "ids must list at least one flagged person")
	case len(d.IDs) > tillit.MaxBulkErasure:
		return nil, tillit.FieldErrorf("ids", "ids lists %d people; at most %d are decided at once", len(d.IDs), tillit.MaxBulkErasure)
	}
	ids := slices.Clone(d.IDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if id <= 0 {
			return nil, tillit.FieldErrorf("ids", "ids must be the ids of people, positive whole numbers")
		}
	}
	if d.Action == "erase" {
		if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
			return nil, err
		}
	}
	res := &tillit.RetentionDecisionResult{Erased: []*tillit.Receipt{}, Kept: []int64{}, Held: []int64{}, NotFlagged: []int64{}}
	flagged, err := s.flaggedAmong(ctx, pr.TenantID, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := slices.BinarySearch(flagged, id); !ok {
			res.NotFlagged = append(res.NotFlagged, id)
		}
	}
	if d.Action == "erase" {
		if len(flagged) > 0 {
			b, err := s.eraseIDs(ctx, pr.TenantID, flagged, nil)
			if err != nil {
				return nil, err
			}
			res.Erased = append(res.Erased, b.Receipts...)
			res.Held = append(res.Held, b.Held...)
			res.NotFlagged = append(res.NotFlagged, b.NotFound...)
			slices.Sort(res.NotFlagged)
		}
		err = s.db.withTx(ctx, func(tx *Tx) error {
			return tx.record(ctx, tx.event(ctx, pr.TenantID, "retention.decide", target, "action:erase",
				fmt.Sprintf("erased:%d", len(res.Erased)), fmt.Sprintf("held:%d", len(res.Held)),
				fmt.Sprintf("not_flagged:%d", len(res.NotFlagged))))
		})
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	policy, err := retentionPolicy(ctx, s.db.read, pr.TenantID)
	if err != nil {
		return nil, err
	}
	if policy == nil {
		return nil, tillit.Errorf(tillit.EConflict, "your tenant has no retention policy; set one before deciding on people")
	}
	// The reason is the decision's evidence and may name someone: it is
	// sealed under each person's key.
	keys, err := s.keys.PersonKeys(ctx, pr.TenantID, flagged)
	if err != nil {
		return nil, keyError(err)
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		res.Kept = res.Kept[:0]
		keptUntil := micros(tillit.AddMonths(tx.now, policy.Months))
		var events []*tillit.Event
		for _, id := range flagged {
			pk := keys[id]
			if pk == nil { // erased meanwhile
				continue
			}
			n, err := tx.ExecContext(ctx, `UPDATE people SET flagged_at = NULL, kept_until = $1, kept_reason = $2
				WHERE tenant_id = $3 AND id = $4 AND flagged_at IS NOT NULL AND anonymised_at IS NULL`,
				keptUntil, pk.Seal(placeKeptReason, []byte(d.Reason)), pr.TenantID, id)
			if err != nil {
				return err
			}
			if k, err := n.RowsAffected(); err != nil {
				return err
			} else if k == 1 {
				res.Kept = append(res.Kept, id)
			}
		}
		slices.Sort(res.Kept)
		for _, id := range res.Kept {
			events = append(events, tx.event(ctx, pr.TenantID, "retention.keep", personTarget(id), "flagged_at", "kept_until", "kept_reason"))
		}
		return tx.recordWith(ctx, tx.event(ctx, pr.TenantID, "retention.decide", target, "action:keep",
			fmt.Sprintf("kept:%d", len(res.Kept)), fmt.Sprintf("not_flagged:%d", len(res.NotFlagged))), events...)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// flaggedAmong returns, sorted, the ids among ids (sorted) of flagged
// people of the tenant.
func (s *PeopleService) flaggedAmong(ctx context.Context, tenantID int64, ids []int64) ([]int64, error) {
	var out []int64
	for chunk := range slices.Chunk(ids, idChunk) {
		rows, err := s.db.read.QueryContext(ctx, `SELECT id FROM people WHERE tenant_id = $1 AND flagged_at IS NOT NULL
			AND anonymised_at IS NULL AND id IN (`+idList(chunk)+`)`, tenantID)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			out = append(out, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
	}
	slices.Sort(out)
	return out, nil
}

// RunRetention implements tillit.RetentionService. The system and
// operators run it for any tenant ("" for every tenant with a policy); a
// tenant's staff with PermRetentionWrite for their own tenant only.
func (s *PeopleService) RunRetention(ctx context.Context, tenant string, progress func(tenant string, erased int)) ([]*tillit.RetentionRun, error) {
	tillit.Describe(ctx, "retention.run", "")
	type target struct {
		id   int64
		slug string
	}
	var targets []target
	if _, err := tillit.AuthorizeOperator(ctx); err == nil {
		// The tenants with a policy, and those with a removal a process
		// left half done.
		q := `SELECT t.id, t.slug FROM tenants t WHERE EXISTS (SELECT 1 FROM retention_policies r WHERE r.tenant_id = t.id)
			OR EXISTS (SELECT 1 FROM people p WHERE p.tenant_id = t.id AND p.erasing_at IS NOT NULL) ORDER BY t.id`
		var args []any
		if tenant != "" {
			q, args = `SELECT id, slug FROM tenants WHERE slug = $1`, []any{tenant}
		}
		rows, err := s.db.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var t target
			if err := rows.Scan(&t.id, &t.slug); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			targets = append(targets, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
		if tenant != "" && len(targets) == 0 {
			return nil, tillit.Errorf(tillit.ENotFound, "no tenant with the slug %q", tenant)
		}
	} else {
		pr, err := tillit.Authorize(ctx, tillit.PermRetentionWrite)
		if err != nil {
			return nil, err
		}
		var t target
		t.id = pr.TenantID
		if err := s.db.read.QueryRowContext(ctx, `SELECT slug FROM tenants WHERE id = $1`, pr.TenantID).Scan(&t.slug); err != nil {
			return nil, translate(err)
		}
		if tenant != "" && tenant != t.slug {
			return nil, tillit.Errorf(tillit.EForbidden, "you may run the retention job for your own tenant only")
		}
		// In automatic mode the run erases people: the tenant's staff
		// need what erasing needs, the permission and a step-up.
		policy, err := retentionPolicy(ctx, s.db.read, pr.TenantID)
		if err != nil {
			return nil, err
		}
		if policy != nil && policy.Mode == tillit.RetentionAutomatic {
			if _, err := tillit.Authorize(ctx, tillit.PermPersonErase); err != nil {
				return nil, err
			}
			if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
				return nil, err
			}
		}
		targets = append(targets, t)
	}
	runs := make([]*tillit.RetentionRun, 0, len(targets))
	var errs []error
	for _, t := range targets {
		tillit.Describe(ctx, "retention.run", tenantTarget(t.id))
		var p func(int)
		if progress != nil {
			slug := t.slug
			p = func(n int) { progress(slug, n) }
		}
		run, err := s.runTenant(ctx, t.id, t.slug, p)
		if err != nil {
			// One tenant's failure does not keep the others' people
			// beyond their date.
			errs = append(errs, fmt.Errorf("retention of tenant %s: %w", t.slug, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		runs = append(runs, run)
	}
	if len(errs) == 1 && len(targets) == 1 {
		return runs, errs[0]
	}
	return runs, errors.Join(errs...)
}

// runTenant runs the retention job over one tenant: it finishes the
// erasures and anonymisations a process left half done, unflags people no
// longer due (new activity, a longer policy), flags the people now due,
// erases in automatic mode those flagged GraceDays ago or more (people
// under a legal hold are skipped and listed), deletes in automatic mode the
// records past their category's months (review mode only counts them), and
// writes the summary event.
func (s *PeopleService) runTenant(ctx context.Context, tenantID int64, slug string, progress func(erased int)) (*tillit.RetentionRun, error) {
	policy, err := retentionPolicy(ctx, s.db.read, tenantID)
	if err != nil {
		return nil, err
	}
	run := &tillit.RetentionRun{Tenant: slug, At: s.db.now(), Held: []int64{}}
	if run.Finished, err = s.finishRemovals(ctx, tenantID, run.At); err != nil {
		return nil, err
	}
	if policy == nil {
		return run, nil
	}
	run.Policy = true
	auto := policy.Mode == tillit.RetentionAutomatic
	err = s.db.withTx(ctx, func(tx *Tx) error {
		run.At = tx.now
		args := dueArgs(tenantID, policy, tx.now)
		res, err := tx.ExecContext(ctx, `UPDATE people SET flagged_at = NULL WHERE tenant_id = $1 AND flagged_at IS NOT NULL
			AND NOT (`+dueWhere(policy)+`)`, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		run.Unflagged = int(n)
		res, err = tx.ExecContext(ctx, `UPDATE people SET flagged_at = $4 WHERE `+dueWhere(policy)+` AND flagged_at IS NULL`,
			append(args, micros(tx.now))...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		run.Flagged = int(n)
		if !auto {
			run.RecordsDue, err = s.countRecordsDue(ctx, tx, tenantID, policy, tx.now)
			return err
		}
		return s.deleteRecordsDue(ctx, tx, tenantID, policy, run)
	})
	if err != nil {
		return nil, err
	}
	if auto {
		if err := s.eraseDue(ctx, tenantID, policy, run, progress); err != nil {
			return nil, err
		}
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		return tx.record(ctx, tx.event(ctx, tenantID, "retention.run", tenantTarget(tenantID),
			"mode:"+policy.Mode, fmt.Sprintf("flagged:%d", run.Flagged), fmt.Sprintf("unflagged:%d", run.Unflagged),
			fmt.Sprintf("erased:%d", run.Erased), fmt.Sprintf("held:%d", len(run.Held)),
			fmt.Sprintf("records_deleted:%d", run.RecordsDeleted), fmt.Sprintf("records_due:%d", run.RecordsDue)))
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// deleteRecordsDue deletes the records past their category's months, with
// a record.delete event per person naming the records.
func (s *PeopleService) deleteRecordsDue(ctx context.Context, tx *Tx, tenantID int64, policy *tillit.RetentionPolicy, run *tillit.RetentionRun) error {
	byPerson := map[int64][]int64{}
	var ids []int64
	for _, c := range slices.Sorted(maps.Keys(policy.Categories)) {
		rows, err := tx.QueryContext(ctx, `SELECT id, person_id FROM records WHERE `+recordsDueWhere,
			tenantID, c, micros(tillit.AddMonths(tx.now, -policy.Categories[c])), micros(tx.now))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, person int64
			if err := rows.Scan(&id, &person); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			byPerson[person] = append(byPerson[person], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	for chunk := range slices.Chunk(ids, idChunk) {
		res, err := tx.ExecContext(ctx, `DELETE FROM records WHERE tenant_id = $1 AND id IN (`+idList(chunk)+`)`, tenantID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		run.RecordsDeleted += int(n)
	}
	events := make([]*tillit.Event, 0, len(byPerson))
	for _, person := range slices.Sorted(func(yield func(int64) bool) {
		for k := range byPerson {
			if !yield(k) {
				return
			}
		}
	}) {
		var fields []string
		for _, id := range byPerson[person] {
			fields = append(fields, "record:"+strconv.FormatInt(id, 10))
		}
		events = append(events, tx.event(ctx, tenantID, "record.delete", personTarget(person), fields...))
	}
	return tx.appendEvents(ctx, events)
}

// eraseDue erases, in batches, the flagged people whose grace period is
// over; people under a legal hold are listed in run.Held.
func (s *PeopleService) eraseDue(ctx context.Context, tenantID int64, policy *tillit.RetentionPolicy, run *tillit.RetentionRun, progress func(int)) error {
	now := s.db.now()
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, CASE WHEN `+heldWhere("$3")+` THEN 1 ELSE 0 END FROM people
		WHERE tenant_id = $1 AND flagged_at IS NOT NULL AND flagged_at <= $2 AND anonymised_at IS NULL ORDER BY id`,
		tenantID, micros(now.AddDate(0, 0, -policy.GraceDays)), micros(now))
	if err != nil {
		return translate(err)
	}
	var due []int64
	for rows.Next() {
		var id int64
		var held int
		if err := rows.Scan(&id, &held); err != nil {
			rows.Close()
			return translate(err)
		}
		if held == 1 {
			run.Held = append(run.Held, id)
		} else {
			due = append(due, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	for batch := range slices.Chunk(due, retentionErase) {
		done := run.Erased
		var p func(int)
		if progress != nil {
			p = func(n int) { progress(done + n) }
		}
		b, err := s.eraseIDs(ctx, tenantID, batch, p)
		if err != nil {
			return err
		}
		run.Erased += len(b.Receipts)
		run.Held = append(run.Held, b.Held...) // held since the query
		if progress != nil {
			progress(run.Erased)
		}
	}
	slices.Sort(run.Held)
	return nil
}

// retentionJob is the name of the retention job in the jobs table.
const retentionJob = "retention"

// JobClaim is a claimed run of a job (see ClaimJob).
type JobClaim struct {
	db       *DB
	name     string
	prev, at int64 // ran_at before the claim, and as the claim set it
}

// ClaimJob claims a run of the job name for this node: it moves the job's
// ran_at to now if the last run was at least every ago, and returns the
// claim, or nil when the job is not due or another node claimed it. Of
// several nodes claiming at once, only one succeeds: the update sets ran_at
// only if it is still the value read (a compare-and-set, which PostgreSQL
// checks again on the row a concurrent claimer committed). A run that fails
// gives the claim back with Release, so that the job is tried again at the
// next check rather than the next day.
func (db *DB) ClaimJob(ctx context.Context, name string, every time.Duration) (*JobClaim, error) {
	now := db.now()
	if _, err := db.write.ExecContext(ctx, `INSERT INTO jobs (name, ran_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, int64(0)); err != nil {
		return nil, translate(err)
	}
	var prev int64
	if err := db.write.QueryRowContext(ctx, `SELECT ran_at FROM jobs WHERE name = $1`, name).Scan(&prev); err != nil {
		return nil, translate(err)
	}
	at := micros(now)
	if prev > micros(now.Add(-every)) || prev >= at {
		return nil, nil
	}
	res, err := db.write.ExecContext(ctx, `UPDATE jobs SET ran_at = $1 WHERE name = $2 AND ran_at = $3`, at, name, prev)
	if err != nil {
		return nil, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, translate(err)
	}
	if n != 1 {
		return nil, nil
	}
	return &JobClaim{db: db, name: name, prev: prev, at: at}, nil
}

// Release gives a claim back after a failed run: ran_at is what it was
// before, unless another claim moved it since.
func (c *JobClaim) Release(ctx context.Context) error {
	_, err := c.db.write.ExecContext(ctx, `UPDATE jobs SET ran_at = $1 WHERE name = $2 AND ran_at = $3`, c.prev, c.name, c.at)
	return translate(err)
}

// ClaimRetention claims today's run of the retention job (see ClaimJob):
// at most one successful run per 23 hours over every node.
func (db *DB) ClaimRetention(ctx context.Context) (*JobClaim, error) {
	return db.ClaimJob(ctx, retentionJob, 23*time.Hour)
}
