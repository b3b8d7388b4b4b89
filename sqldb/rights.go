package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"tillit"
	"tillit/keyring"
)

// WithReceipts sets the signer of erasure and anonymisation receipts (the
// platform key) and returns s. Without one, erasure and anonymisation are
// refused (EUnavailable) before anything is destroyed.
func (s *PeopleService) WithReceipts(signer tillit.ReceiptSigner) *PeopleService {
	s.receipts = signer
	return s
}

// eraseBatch is how many people one transaction of an erasure deletes.
const eraseBatch = 1000

// eraseIDs erases the people of tenantID with the given ids, in batches
// (see eraseBatch): people under an active legal hold are skipped (Held),
// unknown ids are NotFound. It signs a receipt per person and records an
// audit event per person. It does not authorize: ErasePeople,
// DecideRetention and the retention job do, each in its own way.
func (s *PeopleService) eraseIDs(ctx context.Context, tenantID int64, ids []int64, progress func(done int)) (*tillit.BulkErasure, error) {
	if s.receipts == nil {
		return nil, errNoReceipts
	}
	slug, err := s.tenantSlug(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := &tillit.BulkErasure{Receipts: []*tillit.Receipt{}, Held: []int64{}, NotFound: []int64{}}
	done := 0
	for batch := range slices.Chunk(ids, eraseBatch) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if err := s.eraseBatch(ctx, tenantID, slug, batch, out, nil); err != nil {
			return out, err
		}
		done += len(batch)
		if progress != nil {
			progress(done)
		}
	}
	return out, nil
}

// erasable is what erasure reads of a person before erasing them.
type erasable struct {
	id     int64
	counts tillit.ErasureCounts
	held   bool
	reason []byte // the hold's sealed reason
}

// readErasable reads the rows of ids of the tenant: what each holds (as
// counts) and whether a hold protects it at now.
func (s *PeopleService) readErasable(ctx context.Context, q querier, tenantID int64, ids []int64, now time.Time) (map[int64]*erasable, error) {
	found := map[int64]*erasable{}
	for chunk := range slices.Chunk(ids, keyChunk) {
		args := []any{tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		in := s.db.params(2, len(chunk))
		rows, err := q.QueryContext(ctx, `SELECT id, sealed, email_idx IS NOT NULL, phone_idx IS NOT NULL,
			national_id_idx IS NOT NULL, held_at, hold_until, hold_reason FROM people WHERE tenant_id = $1 AND id IN (`+in+`)`, args...)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var e erasable
			var sealed []byte
			var ix [3]bool
			var heldAt, holdUntil sql.NullInt64
			if err := rows.Scan(&e.id, &sealed, &ix[0], &ix[1], &ix[2], &heldAt, &holdUntil, &e.reason); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			if m, err := decodeSealed(sealed); err == nil {
				e.counts.Attributes = len(m)
			}
			for _, b := range ix {
				if b {
					e.counts.IndexEntries++
				}
			}
			if heldAt.Valid {
				h := tillit.Hold{Until: optTime(holdUntil)}
				e.held = h.Active(now)
			}
			found[e.id] = &e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
		rows, err = q.QueryContext(ctx, `SELECT person_id, COUNT(*) FROM records WHERE tenant_id = $1 AND person_id IN (`+in+`)
			GROUP BY person_id`, args...)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			if e := found[id]; e != nil {
				e.counts.Records = n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
	}
	return found, nil
}

// errNoReceipts refuses erasure on a server without the platform key.
var errNoReceipts = tillit.Errorf(tillit.EUnavailable, "receipts cannot be signed on this server (no platform key is configured): nothing was erased")

// eraseBatch erases up to eraseBatch people, adding to out. The event of a
// person in reqs is the event of that request (ErasePerson, combined);
// the others' events are ctx's.
//
// First, in one transaction of the data, it reads what the people hold and
// marks those no legal hold protects (erasing_at), dropping their
// blind-index entries: from then on they are gone for every read and a
// hold can no longer be set on them (setMark refuses), so a hold and an
// erasure never both win. Then it destroys their keys, then deletes their
// rows and records and blanks the notes of their requests, with the
// receipts and events, in a second transaction. A process that dies on
// the way leaves marked rows no key may open; the retention job finishes
// them (finishRemovals).
func (s *PeopleService) eraseBatch(ctx context.Context, tenantID int64, slug string, ids []int64, out *tillit.BulkErasure, reqs map[int64]context.Context) error {
	var todo []*erasable
	var held, notFound []int64
	err := s.db.withTx(ctx, func(tx *Tx) error {
		todo, held, notFound = todo[:0], held[:0], notFound[:0]
		found, err := s.readErasable(ctx, tx, tenantID, ids, tx.now)
		if err != nil {
			return err
		}
		byID := map[int64]*erasable{}
		var want []int64
		for _, id := range ids {
			switch e := found[id]; {
			case e == nil:
				notFound = append(notFound, id)
			case e.held:
				held = append(held, id)
			default:
				byID[id] = e
				want = append(want, id)
			}
		}
		marked, err := tx.markRemoval(ctx, tenantID, want, "erase", tx.now)
		if err != nil {
			return err
		}
		for _, id := range want {
			if marked[id] {
				todo = append(todo, byID[id])
			} else {
				held = append(held, id) // a hold committed between the read and the mark
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	out.NotFound = append(out.NotFound, notFound...)
	out.Held = append(out.Held, held...)
	if len(todo) == 0 {
		return nil
	}
	erase := make([]int64, len(todo))
	for i, e := range todo {
		erase[i] = e.id
	}
	// The rows are marked: what follows is done even if the caller goes away.
	ctx = context.WithoutCancel(ctx)
	// Which have a key still: their receipts say keys 1.
	keys, err := s.keys.PersonKeys(ctx, tenantID, erase)
	if err != nil && !errors.Is(err, keyring.ErrNoKey) {
		return keyError(err)
	}
	if _, err := s.keys.DestroyPersonKeys(ctx, tenantID, erase); err != nil {
		return keyError(err)
	}
	receipts := make([]*tillit.Receipt, len(todo))
	for i, e := range todo {
		if keys[e.id] != nil {
			e.counts.Keys = 1
		}
		receipts[i] = &tillit.Receipt{Kind: tillit.ReceiptErasure, Tenant: slug, PersonID: e.id, Erased: e.counts}
	}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		var events []*tillit.Event
		var args []any
		for i, e := range todo {
			r := receipts[i]
			r.At = tx.now
			if err := s.receipts.SignReceipt(r); err != nil {
				return tillit.Internal(err)
			}
			args = append(args, s.db.newID(), tenantID, e.id, r.Kind, r.Note, micros(r.At))
			ectx := ctx
			if rc := reqs[e.id]; rc != nil {
				ectx = rc
			}
			ev := tx.event(ectx, tenantID, "person.erase", personTarget(e.id), countFields(r.Erased)...)
			events = append(events, ev)
			if r := tillit.RequestFromContext(ectx); r != nil && reqs[e.id] != nil {
				tx.onCommit = append(tx.onCommit, func() { r.Event, r.Recorded = *ev, true })
			}
		}
		for chunk := range slices.Chunk(erase, keyChunk) {
			args := []any{tenantID}
			for _, id := range chunk {
				args = append(args, id)
			}
			in := s.db.params(2, len(chunk))
			if _, err := tx.ExecContext(ctx, `DELETE FROM records WHERE tenant_id = $1 AND person_id IN (`+in+`)`, args...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM people WHERE tenant_id = $1 AND id IN (`+in+`)`, args...); err != nil {
				return err
			}
			if err := tx.blankRequests(ctx, tenantID, chunk); err != nil {
				return err
			}
		}
		if err := tx.insertRows(ctx, insertReceipt, 6, args); err != nil {
			return err
		}
		return tx.appendEvents(ctx, events)
	})
	if err != nil {
		return err
	}
	out.Receipts = append(out.Receipts, receipts...)
	return nil
}

// markRemoval marks the people of ids that no legal hold protects at now
// as being erased or anonymised (what), and drops their blind-index
// entries, in tx; it returns those it marked. A row marked before (a
// removal cut short) is marked again.
func (tx *Tx) markRemoval(ctx context.Context, tenantID int64, ids []int64, what string, now time.Time) (map[int64]bool, error) {
	marked := map[int64]bool{}
	for chunk := range slices.Chunk(ids, keyChunk) {
		args := []any{micros(now), what, tenantID}
		for _, id := range chunk {
			args = append(args, id)
		}
		cond := "" // an anonymised remnant may be erased
		if what == "anonymise" {
			cond = " AND anonymised_at IS NULL"
		}
		rows, err := tx.QueryContext(ctx, `UPDATE people SET erasing_at = COALESCE(erasing_at, $1), erasing = $2,
			email_idx = NULL, phone_idx = NULL, national_id_idx = NULL
			WHERE tenant_id = $3 AND id IN (`+tx.db.params(4, len(chunk))+`)`+cond+`
			AND (held_at IS NULL OR (hold_until IS NOT NULL AND hold_until <= $1)) RETURNING id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			marked[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return marked, nil
}

// blankRequests removes the sealed notes and reasons and the attached
// reports of the requests of people being erased or anonymised: they may
// name them. Type, dates and status stay, as evidence the request was
// handled.
func (tx *Tx) blankRequests(ctx context.Context, tenantID int64, people []int64) error {
	args := []any{[]byte{}, tenantID}
	for _, id := range people {
		args = append(args, id)
	}
	_, err := tx.ExecContext(ctx, `UPDATE requests SET sealed = $1, report = NULL
		WHERE tenant_id = $2 AND person_id IN (`+tx.db.params(3, len(people))+`)`, args...)
	return err
}

// insertReceipt stores receipts (ids from newID: no personal data, and
// PostgreSQL's table has no sequence).
const insertReceipt = `INSERT INTO receipts (id, tenant_id, person_id, kind, note, at) VALUES `

// countFields names the counts of an erasure for its audit event: numbers
// of things, never values.
func countFields(c tillit.ErasureCounts) []string {
	return []string{"attributes:" + strconv.Itoa(c.Attributes), "records:" + strconv.Itoa(c.Records),
		"keys:" + strconv.Itoa(c.Keys), "index_entries:" + strconv.Itoa(c.IndexEntries)}
}

// tenantSlug returns the slug of a tenant, for its receipts.
func (s *PeopleService) tenantSlug(ctx context.Context, tenantID int64) (string, error) {
	var slug string
	if err := s.db.read.QueryRowContext(ctx, `SELECT slug FROM tenants WHERE id = $1`, tenantID).Scan(&slug); err != nil {
		return "", translate(err)
	}
	return slug, nil
}

// authorizeErasure checks what erasure and anonymisation need:
// PermPersonErase and a step-up (a token: created sensitive).
func (s *PeopleService) authorizeErasure(ctx context.Context) (*tillit.Principal, error) {
	pr, err := tillit.Authorize(ctx, tillit.PermPersonErase)
	if err != nil {
		return nil, err
	}
	if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
		return nil, err
	}
	return pr, nil
}

// heldError is the answer to erasing or anonymising a person under a
// legal hold: it gives the hold's reason (readable while the person's key
// is there) and how long it lasts.
func (s *PeopleService) heldError(ctx context.Context, tenantID, id int64, sealedReason []byte, what string) error {
	reason := ""
	if pk, err := s.keys.PersonKey(ctx, tenantID, id); err == nil && len(sealedReason) > 0 {
		if b, err := pk.Open(placeHoldReason, sealedReason); err == nil {
			reason = string(b)
		}
	}
	msg := fmt.Sprintf("this person is under a legal hold and cannot be %s until it is released", what)
	if reason != "" {
		msg += ": " + reason
	}
	return tillit.Errorf(tillit.EConflict, "%s", msg)
}

// ErasePerson implements tillit.RightsService.
func (s *PeopleService) ErasePerson(ctx context.Context, id int64) (*tillit.Receipt, error) {
	tillit.Describe(ctx, "person.erase", personTarget(id))
	pr, err := s.authorizeErasure(ctx)
	if err != nil {
		return nil, err
	}
	if s.receipts == nil {
		return nil, errNoReceipts
	}
	res := s.eraseOne(ctx, pr.TenantID, id)
	switch {
	case res.err != nil:
		return nil, res.err
	case res.receipt != nil:
		return res.receipt, nil
	case res.held:
		found, err := s.readErasable(ctx, s.db.read, pr.TenantID, []int64{id}, s.db.now())
		if err != nil {
			return nil, err
		}
		var reason []byte
		if e := found[id]; e != nil {
			reason = e.reason
		}
		return nil, s.heldError(ctx, pr.TenantID, id, reason, "erased")
	}
	return nil, personNotFound()
}

// ErasePeople implements tillit.RightsService.
func (s *PeopleService) ErasePeople(ctx context.Context, ids []int64, progress func(done int)) (*tillit.BulkErasure, error) {
	tillit.Describe(ctx, "person.erase_bulk", "")
	pr, err := s.authorizeErasure(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ids) == 0:
		return nil, tillit.FieldErrorf("ids", "ids must name at least one person")
	case len(ids) > tillit.MaxBulkErasure:
		return nil, tillit.FieldErrorf("ids", "ids names %d people; at most %d are erased at once", len(ids), tillit.MaxBulkErasure)
	}
	for _, id := range ids {
		if id <= 0 {
			return nil, tillit.FieldErrorf("ids", "ids must be ids of people (positive numbers)")
		}
	}
	res, err := s.eraseIDs(ctx, pr.TenantID, ids, progress)
	if res != nil {
		tillit.Describe(ctx, "person.erase_bulk", "", "erased:"+strconv.Itoa(len(res.Receipts)),
			"held:"+strconv.Itoa(len(res.Held)), "not_found:"+strconv.Itoa(len(res.NotFound)))
	}
	return res, err
}

// AnonymisePerson implements tillit.RightsService.
func (s *PeopleService) AnonymisePerson(ctx context.Context, id int64) (*tillit.Receipt, error) {
	tillit.Describe(ctx, "person.anonymise", personTarget(id))
	pr, err := s.authorizeErasure(ctx)
	if err != nil {
		return nil, err
	}
	return s.anonymise(ctx, pr.TenantID, id, true)
}

// anonymise reduces a person to the statistical remnant. First, in one
// transaction that checks the legal hold, it stores the remnant (birth
// year, postal area), marks the person as being anonymised and drops the
// blind-index entries; then it destroys the key; then it removes the
// sealed values, reasons and record titles and bodies and blanks the notes
// of their requests, with the receipt and the event. A process that dies on
// the way leaves a marked row no read shows; anonymising again, or the
// retention job, finishes it. record says the request's own event is the
// anonymisation's.
func (s *PeopleService) anonymise(ctx context.Context, tenantID, id int64, record bool) (*tillit.Receipt, error) {
	if s.receipts == nil {
		return nil, tillit.Errorf(tillit.EUnavailable, "receipts cannot be signed on this server (no platform key is configured): nothing was anonymised")
	}
	slug, err := s.tenantSlug(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	// The remnant, while the key still opens the values (none when an
	// anonymisation was cut short after the key was destroyed: the
	// remnant is stored already).
	var year sql.NullInt64
	var area sql.NullString
	hadKey := false
	if _, err := s.keys.PersonKey(ctx, tenantID, id); err == nil {
		hadKey = true
		if p, _, _, err := s.readPerson(ctx, s.db.read, tenantID, id); err == nil {
			year, area = remnantValues(p)
		} else if tillit.ErrorCode(err) != tillit.ENotFound {
			return nil, err
		}
	} else if !errors.Is(err, keyring.ErrNoKey) {
		return nil, keyError(err)
	}
	var e *erasable
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if err := tx.lockRow(ctx, "people", "id = $1 AND tenant_id = $2", id, tenantID); err != nil {
			return err
		}
		found, err := s.readErasable(ctx, tx, tenantID, []int64{id}, tx.now)
		if err != nil {
			return err
		}
		if e = found[id]; e == nil {
			return personNotFound()
		}
		var anonymised sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT anonymised_at FROM people WHERE id = $1 AND tenant_id = $2`, id, tenantID).Scan(&anonymised); err != nil {
			return err
		}
		if anonymised.Valid {
			return tillit.Errorf(tillit.EConflict, "this person was anonymised already")
		}
		if e.held {
			return errHeld
		}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET birth_year = COALESCE($1, birth_year), postal_area = COALESCE($2, postal_area)
			WHERE id = $3 AND tenant_id = $4`, year, area, id, tenantID); err != nil {
			return err
		}
		_, err = tx.markRemoval(ctx, tenantID, []int64{id}, "anonymise", tx.now)
		return err
	})
	if errors.Is(err, errHeld) {
		return nil, s.heldError(ctx, tenantID, id, e.reason, "anonymised")
	}
	if err != nil {
		return nil, err
	}
	if hadKey {
		e.counts.Keys = 1
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := s.keys.DestroyPersonKeys(ctx, tenantID, []int64{id}); err != nil {
		return nil, keyError(err)
	}
	r := &tillit.Receipt{Kind: tillit.ReceiptAnonymisation, Tenant: slug, PersonID: id, Erased: e.counts}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		r.At = tx.now
		if err := s.receipts.SignReceipt(r); err != nil {
			return tillit.Internal(err)
		}
		empty := []byte{}
		if _, err := tx.ExecContext(ctx, `UPDATE records SET title = $1, body = $1, updated_at = $2 WHERE tenant_id = $3 AND person_id = $4`,
			empty, micros(tx.now), tenantID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE people SET sealed = $1, email_idx = NULL, phone_idx = NULL, national_id_idx = NULL,
			restricted_at = NULL, restricted_by = NULL, restriction_reason = NULL, held_at = NULL, held_by = NULL, hold_until = NULL,
			hold_reason = NULL, flagged_at = NULL, kept_until = NULL, kept_reason = NULL, erasing_at = NULL, erasing = NULL,
			anonymised_at = $2, updated_at = $2
			WHERE id = $3 AND tenant_id = $4 AND anonymised_at IS NULL AND erasing = 'anonymise'`, empty, micros(tx.now), id, tenantID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			// Erased or anonymised by another request meanwhile.
			return tillit.Errorf(tillit.EConflict, "this person was erased or anonymised by another request meanwhile")
		}
		if err := tx.blankRequests(ctx, tenantID, []int64{id}); err != nil {
			return err
		}
		if err := tx.insertRows(ctx, insertReceipt, 6, []any{s.db.newID(), tenantID, id, r.Kind, r.Note, micros(r.At)}); err != nil {
			return err
		}
		ev := tx.event(ctx, tenantID, "person.anonymise", personTarget(id), countFields(r.Erased)...)
		if record {
			return tx.record(ctx, ev)
		}
		return tx.appendEvents(ctx, []*tillit.Event{ev})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// errHeld stops the transaction of an anonymisation that a hold protects.
var errHeld = errors.New("sqldb: under a legal hold")

// remnantValues returns what anonymisation keeps of a person: the birth
// year and the first two digits of the postal code.
func remnantValues(p *tillit.Person) (sql.NullInt64, sql.NullString) {
	var year sql.NullInt64
	if len(p.BirthDate) >= 4 {
		if y, err := strconv.Atoi(p.BirthDate[:4]); err == nil {
			year = sql.NullInt64{Int64: int64(y), Valid: true}
		}
	}
	var area sql.NullString
	if p.Address != nil {
		var digits []rune
		for _, r := range p.Address.PostalCode {
			if r >= '0' && r <= '9' {
				digits = append(digits, r)
			}
		}
		if len(digits) >= 2 {
			area = sql.NullString{String: string(digits[:2]), Valid: true}
		}
	}
	return year, area
}

// finishRemovals finishes the erasures and anonymisations of a tenant that
// a process left half done (marked more than a minute before now), as the
// principal of ctx (the retention job). It returns how many it finished.
func (s *PeopleService) finishRemovals(ctx context.Context, tenantID int64, now time.Time) (int, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, erasing FROM people WHERE tenant_id = $1 AND erasing_at IS NOT NULL
		AND erasing_at < $2 ORDER BY id`, tenantID, micros(now.Add(-time.Minute)))
	if err != nil {
		return 0, translate(err)
	}
	var erase, anonymise []int64
	for rows.Next() {
		var id int64
		var what string
		if err := rows.Scan(&id, &what); err != nil {
			rows.Close()
			return 0, translate(err)
		}
		if what == "anonymise" {
			anonymise = append(anonymise, id)
		} else {
			erase = append(erase, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	n := 0
	if len(erase) > 0 {
		res, err := s.eraseIDs(ctx, tenantID, erase, nil)
		if res != nil {
			n += len(res.Receipts)
		}
		if err != nil {
			return n, err
		}
	}
	for _, id := range anonymise {
		if _, err := s.anonymise(ctx, tenantID, id, false); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// setMark writes a hold or restriction (or, with nil sets, clears it) on a
// person of the principal's tenant in one transaction with its event.
func (s *PeopleService) setMark(ctx context.Context, id int64, action string, fields []string,
	write func(tx *Tx, pr *tillit.Principal, pk *keyring.PersonKey) error, needKey bool) error {
	pr, err := tillit.Authorize(ctx, tillit.PermPersonRestrict)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		if err := tx.lockRow(ctx, "people", "id = $1 AND tenant_id = $2", id, pr.TenantID); err != nil {
			return err
		}
		var anonymised, erasing sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT anonymised_at, erasing_at FROM people WHERE id = $1 AND tenant_id = $2`,
			id, pr.TenantID).Scan(&anonymised, &erasing)
		if errors.Is(err, sql.ErrNoRows) {
			return personNotFound()
		}
		if err != nil {
			return err
		}
		if erasing.Valid && !anonymised.Valid {
			return personNotFound() // being erased or anonymised: gone
		}
		var pk *keyring.PersonKey
		if needKey {
			if anonymised.Valid {
				return errAnonymised()
			}
			if pk, err = s.personKeyOf(ctx, tx, pr.TenantID, id); err != nil {
				return err
			}
		}
		if err := write(tx, pr, pk); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, pr.TenantID, action, personTarget(id), fields...))
	})
}

// SetHold implements tillit.RightsService.
func (s *PeopleService) SetHold(ctx context.Context, id int64, reason string, until *time.Time) (*tillit.Hold, error) {
	fields := []string{"reason"}
	if until != nil {
		fields = append(fields, "until")
	}
	tillit.Describe(ctx, "person.hold", personTarget(id), fields...)
	if _, err := tillit.Authorize(ctx, tillit.PermPersonRestrict); err != nil {
		return nil, err
	}
	reason, err := checkReason("reason", &reason, "the person is held, such as the law or the dispute")
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	if until != nil {
		u := until.UTC().Truncate(time.Microsecond)
		if !u.After(now) {
			return nil, tillit.FieldErrorf("until", "until must be in the future; leave it out for a hold until it is released")
		}
		until = &u
	}
	var h *tillit.Hold
	err = s.setMark(ctx, id, "person.hold", fields, func(tx *Tx, pr *tillit.Principal, pk *keyring.PersonKey) error {
		h = &tillit.Hold{Reason: reason, Until: until, SetAt: tx.now, SetBy: pr.Actor()}
		var u sql.NullInt64
		if until != nil {
			u = sql.NullInt64{Int64: micros(*until), Valid: true}
		}
		_, err := tx.ExecContext(ctx, `UPDATE people SET held_at = $1, held_by = $2, hold_until = $3, hold_reason = $4
			WHERE id = $5 AND tenant_id = $6`, micros(tx.now), h.SetBy, u, pk.Seal(placeHoldReason, []byte(reason)), id, pr.TenantID)
		return err
	}, true)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ReleaseHold implements tillit.RightsService.
func (s *PeopleService) ReleaseHold(ctx context.Context, id int64) error {
	tillit.Describe(ctx, "person.hold_release", personTarget(id))
	return s.setMark(ctx, id, "person.hold_release", nil, func(tx *Tx, pr *tillit.Principal, _ *keyring.PersonKey) error {
		_, err := tx.ExecContext(ctx, `UPDATE people SET held_at = NULL, held_by = NULL, hold_until = NULL, hold_reason = NULL
			WHERE id = $1 AND tenant_id = $2`, id, pr.TenantID)
		return err
	}, false)
}

// Restrict implements tillit.RightsService.
func (s *PeopleService) Restrict(ctx context.Context, id int64, reason string) (*tillit.Restriction, error) {
	tillit.Describe(ctx, "person.restrict", personTarget(id), "reason")
	if _, err := tillit.Authorize(ctx, tillit.PermPersonRestrict); err != nil {
		return nil, err
	}
	reason, err := checkReason("reason", &reason, "processing is restricted, such as the dispute")
	if err != nil {
		return nil, err
	}
	var r *tillit.Restriction
	err = s.setMark(ctx, id, "person.restrict", []string{"reason"}, func(tx *Tx, pr *tillit.Principal, pk *keyring.PersonKey) error {
		r = &tillit.Restriction{Reason: reason, SetAt: tx.now, SetBy: pr.Actor()}
		_, err := tx.ExecContext(ctx, `UPDATE people SET restricted_at = $1, restricted_by = $2, restriction_reason = $3
			WHERE id = $4 AND tenant_id = $5`, micros(tx.now), r.SetBy, pk.Seal(placeRestrictionReason, []byte(reason)), id, pr.TenantID)
		return err
	}, true)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// LiftRestriction implements tillit.RightsService.
func (s *PeopleService) LiftRestriction(ctx context.Context, id int64) error {
	tillit.Describe(ctx, "person.restriction_lift", personTarget(id))
	return s.setMark(ctx, id, "person.restriction_lift", nil, func(tx *Tx, pr *tillit.Principal, _ *keyring.PersonKey) error {
		_, err := tx.ExecContext(ctx, `UPDATE people SET restricted_at = NULL, restricted_by = NULL, restriction_reason = NULL
			WHERE id = $1 AND tenant_id = $2`, id, pr.TenantID)
		return err
	}, false)
}
