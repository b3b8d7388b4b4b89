package sqldb

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tillit"
	"tillit/ident"
	"tillit/keyring"
)

// PeopleService keeps tenants' registers: people, their records and the
// tenants' schemas. Values are sealed under each person's key from the
// keyring; lookups use blind indexes.
type PeopleService struct {
	db      *DB
	keys    *keyring.Keyring
	creates combiner[pendingCreate, error]
	erases  combiner[pendingErase, eraseResult]
	batch   int // people per transaction of an import
	// receipts signs the receipts of erasures and anonymisations (the
	// platform key); see WithReceipts.
	receipts tillit.ReceiptSigner
}

// NewPeopleService returns the register of db, sealing with keys.
func NewPeopleService(db *DB, keys *keyring.Keyring) *PeopleService {
	return &PeopleService{db: db, keys: keys, batch: importBatch}
}

var (
	_ tillit.PersonService = (*PeopleService)(nil)
	_ tillit.RecordService = (*PeopleService)(nil)
	_ tillit.SchemaService = (*PeopleService)(nil)
	_ tillit.ImportService = (*PeopleService)(nil)
	_ tillit.Register      = (*PeopleService)(nil)
)

// Ids of people and records are 53 bits (exact in a JavaScript number):
// 41 bits of milliseconds since 2025 and 12 bits that start at a random
// value each millisecond and count up. They are made before the key and
// the row, so that a person's key is stored before anything it seals; they
// grow with time, so new rows go to the end of every index on the id
// instead of to a random page (a third of the pages an import writes), and
// they never repeat within a process. Processes that share a database
// can meet within one millisecond; the unique id (and the key store's
// primary key) then refuses the second row, which gets a new id and key
// (sealRows, insertPeople).
var ids struct {
	mu   sync.Mutex
	last int64
}

// idEpoch is 2025-01-01 in Unix milliseconds.
const idEpoch = 1735689600000

func (db *DB) newID() int64 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	id := (db.clock.Now().UnixMilli()-idEpoch)<<12 | int64(binary.BigEndian.Uint16(b[:])&0xfff)
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if id <= ids.last {
		id = ids.last + 1
	}
	ids.last = id
	return id
}

func personTarget(id int64) string { return "person:" + strconv.FormatInt(id, 10) }

// personNotFound is the answer for a person who is not in the caller's
// tenant: never there, erased, or another tenant's.
func personNotFound() error {
	return tillit.Errorf(tillit.ENotFound, "no person with this id in your register")
}

// tenantContext returns the tenant's settings and schema, read together.
func (s *PeopleService) tenantContext(ctx context.Context, q querier, tenantID int64) (tillit.TenantSettings, *tillit.Schema, error) {
	var settings string
	var schema sql.NullString
	if q == querier(s.db.read) {
		q = hotReads{s.db}
	}
	err := q.QueryRowContext(ctx, `SELECT t.settings, s.schema FROM tenants t
		LEFT JOIN tenant_schemas s ON s.tenant_id = t.id WHERE t.id = $1`, tenantID).Scan(&settings, &schema)
	if err != nil {
		return tillit.TenantSettings{}, nil, translate(err)
	}
	var ts tillit.TenantSettings
	if err := json.Unmarshal([]byte(settings), &ts); err != nil {
		return ts, nil, tillit.Internal(err)
	}
	sc := &tillit.Schema{Categories: slices.Clone(tillit.DefaultCategories)}
	if schema.Valid {
		if err := json.Unmarshal([]byte(schema.String), sc); err != nil {
			return ts, nil, tillit.Internal(err)
		}
	}
	return ts, sc, nil
}

// indexes returns the blind indexes of a person's lookup values (nil for
// a value the person does not have).
func (s *PeopleService) indexes(ctx context.Context, tenantID int64, ix personIndexes) (email, phone, nid []byte, err error) {
	idx := func(attr, v string) []byte {
		if v == "" || err != nil {
			return nil
		}
		var b []byte
		b, err = s.keys.BlindIndex(ctx, tenantID, attr, v)
		return b
	}
	email = idx(tillit.AttrEmail, ix.email)
	phone = idx(tillit.AttrPhone, ix.phone)
	nid = idx(tillit.AttrNationalID, ix.nationalID)
	return email, phone, nid, err
}

// conflictOf turns a unique violation of people into an error naming the
// attribute another person of the tenant has already.
func conflictOf(err error, ix personIndexes) error {
	if !isConflict(err) {
		return err
	}
	field := conflictField(err)
	if field == "" && ix.nationalID != "" && ix.email != "" {
		return &tillit.Error{Code: tillit.EConflict, Field: tillit.AttrNationalID,
			Message: "another person in your register has this national_id or email; look them up instead of adding them twice"}
	}
	if field == "" {
		field = tillit.AttrEmail
		if ix.nationalID != "" {
			field = tillit.AttrNationalID
		}
	}
	return &tillit.Error{Code: tillit.EConflict, Field: field,
		Message: fmt.Sprintf("another person in your register has this %s; look them up instead of adding them twice", field)}
}

// conflictField names the attribute whose unique index a translated unique
// violation is of (by column in SQLite's message, by index in
// PostgreSQL's), or "" if it does not say.
func conflictField(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "national_id_idx"), strings.Contains(msg, "people_national_id"):
		return tillit.AttrNationalID
	case strings.Contains(msg, "email_idx"), strings.Contains(msg, "people_email"):
		return tillit.AttrEmail
	}
	return ""
}

// CreatePerson implements tillit.PersonService. Errors: EInvalid,
// EConflict (national id or e-mail taken in the tenant), EForbidden.
func (s *PeopleService) CreatePerson(ctx context.Context, p *tillit.Person) error {
	tillit.Describe(ctx, "person.create", "")
	pr, err := tillit.Authorize(ctx, tillit.PermPersonWrite)
	if err != nil {
		return err
	}
	now := s.db.now()
	settings, schema, err := s.tenantContext(ctx, s.db.read, pr.TenantID)
	if err != nil {
		return err
	}
	if err := checkRegisterSet(p); err != nil {
		return err
	}
	ix, err := normalizePerson(p, schema, settings, now)
	if err != nil {
		return err
	}
	p.Source = tillit.SourceAPI
	values, plain, err := valuesOf(p, schema)
	if err != nil {
		return tillit.Internal(err)
	}
	plainJSON, err := json.Marshal(plain)
	if err != nil {
		return tillit.Internal(err)
	}
	row := &importRow{p: p, ix: ix, values: values, plain: plainJSON, fields: places(values, plain)}
	if row.emailIdx, row.phoneIdx, row.nidIdx, err = s.indexes(ctx, pr.TenantID, ix); err != nil {
		return keyError(err)
	}
	tillit.Describe(ctx, "person.create", "", row.fields...) // the id comes with the key (sealRows)
	if p.CollectedAt.IsZero() {
		p.CollectedAt = now
	}
	p.CollectedAt = p.CollectedAt.UTC().Truncate(time.Microsecond)
	return s.create(ctx, pr.TenantID, row)
}

const insertPersonPrefix = `INSERT INTO people (id, tenant_id, sealed, plain, email_idx, phone_idx, national_id_idx,
	collected_at, updated_at, last_activity_at, source) VALUES `

// insertPersonCols is the number of columns of insertPersonPrefix.
const insertPersonCols = 11

// keyError is the answer when the key store fails: the data cannot be
// sealed or opened without it.
func keyError(err error) error {
	var te *tillit.Error
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, keyring.ErrRootKeyMissing) {
		return &tillit.Error{Code: tillit.EUnavailable, Message: "the keys cannot be opened: a version of the root key is missing on this server; the operator must restore the root key file", Err: err}
	}
	return &tillit.Error{Code: tillit.EUnavailable, Message: "the key store cannot be reached; try again later", Err: err}
}

// personRow is a person as stored.
type personRow struct {
	id                               int64
	sealed                           []byte
	plain                            string
	collected, updated, lastActivity int64
	register                         registerColumns
}

const personColumns = `id, sealed, plain, collected_at, updated_at, last_activity_at, ` + registerColumnNames

func scanPersonRow(sc interface{ Scan(...any) error }) (personRow, error) {
	var r personRow
	err := sc.Scan(append([]any{&r.id, &r.sealed, &r.plain, &r.collected, &r.updated, &r.lastActivity}, r.register.dest()...)...)
	return r, err
}

// scanPersonRows reads the rows of a query of people.
func scanPersonRows(rows *sql.Rows, err error) ([]personRow, error) {
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var list []personRow
	for rows.Next() {
		r, err := scanPersonRow(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, r)
	}
	return list, translate(rows.Err())
}

// open opens a stored person with its key, returning the person and its
// plain-text values by place.
func openPerson(pk *keyring.PersonKey, r personRow) (*tillit.Person, personValues, map[string][]byte, error) {
	sealed, err := decodeSealed(r.sealed)
	if err != nil {
		return nil, nil, nil, err
	}
	values, err := openValues(pk, sealed)
	if err != nil {
		return nil, nil, nil, err
	}
	var plain map[string]any
	if err := json.Unmarshal([]byte(r.plain), &plain); err != nil {
		return nil, nil, nil, err
	}
	p := &tillit.Person{ID: r.id, CollectedAt: fromMicros(r.collected), UpdatedAt: fromMicros(r.updated), LastActivityAt: fromMicros(r.lastActivity)}
	if err := personFrom(p, values, plain); err != nil {
		return nil, nil, nil, err
	}
	if err := r.register.fill(p, pk); err != nil {
		return nil, nil, nil, err
	}
	return p, values, sealed, nil
}

// readPerson reads and opens a person of the tenant. A person without a
// row or without a key is ENotFound.
func (s *PeopleService) readPerson(ctx context.Context, q querier, tenantID, id int64) (*tillit.Person, personValues, map[string][]byte, error) {
	if q == querier(s.db.read) {
		q = hotReads{s.db}
	}
	r, err := scanPersonRow(q.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1 AND tenant_id = $2`, id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, personNotFound()
	}
	if err != nil {
		return nil, nil, nil, translate(err)
	}
	if r.register.erasingAt.Valid && !r.register.anonymisedAt.Valid {
		return nil, nil, nil, personNotFound() // being erased or anonymised: gone
	}
	if r.register.anonymisedAt.Valid {
		p, err := remnantOf(r)
		if err != nil {
			return nil, nil, nil, tillit.Internal(err)
		}
		return p, personValues{}, map[string][]byte{}, nil
	}
	pk, err := s.keys.PersonKey(ctx, tenantID, id)
	if errors.Is(err, keyring.ErrNoKey) {
		return nil, nil, nil, personNotFound()
	}
	if err != nil {
		return nil, nil, nil, keyError(err)
	}
	p, values, sealed, err := openPerson(pk, r)
	if err != nil {
		return nil, nil, nil, tillit.Internal(err)
	}
	return p, values, sealed, nil
}

// readFields are the fields of a read's event: the places the person has.
func readFields(p *tillit.Person, values personValues) []string {
	fields := slices.Collect(func(yield func(string) bool) {
		for place := range values {
			if !yield(place) {
				return
			}
		}
	})
	for name := range p.Attributes {
		if _, sealed := values[attrPrefix+name]; !sealed {
			fields = append(fields, attrPrefix+name)
		}
	}
	slices.Sort(fields)
	return fields
}

// FindPersonByID implements tillit.PersonService. Errors: ENotFound.
func (s *PeopleService) FindPersonByID(ctx context.Context, id int64) (*tillit.Person, error) {
	tillit.Describe(ctx, "person.read", personTarget(id))
	pr, err := tillit.Authorize(ctx, tillit.PermPersonRead)
	if err != nil {
		return nil, err
	}
	p, values, _, err := s.readPerson(ctx, s.db.read, pr.TenantID, id)
	if err != nil {
		return nil, err
	}
	tillit.Describe(ctx, "person.read", personTarget(id), readFields(p, values)...)
	return p, nil
}

// UpdatePerson implements tillit.PersonService: a JSON merge patch (RFC
// 7386) of the person's API form. Only changed values are sealed again.
// Errors: EInvalid, ENotFound, EConflict.
func (s *PeopleService) UpdatePerson(ctx context.Context, id int64, patch json.RawMessage) (*tillit.Person, error) {
	tillit.Describe(ctx, "person.update", personTarget(id))
	pr, err := tillit.Authorize(ctx, tillit.PermPersonWrite)
	if err != nil {
		return nil, err
	}
	var patchDoc map[string]any
	if err := json.Unmarshal(patch, &patchDoc); err != nil || patchDoc == nil {
		return nil, tillit.Errorf(tillit.EInvalid, "the body must be a JSON object: a merge patch of the person")
	}
	for _, k := range []string{"id", "updated_at", "last_activity_at"} {
		if _, ok := patchDoc[k]; ok {
			return nil, tillit.FieldErrorf(k, "%s cannot be changed", k)
		}
	}
	for _, k := range registerSetFields {
		if _, ok := patchDoc[k]; ok {
			return nil, registerSetError(k)
		}
	}
	if v, ok := patchDoc["collected_at"]; ok {
		at, _ := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, tillit.FieldErrorf("collected_at", "collected_at must be a time such as 2024-05-06T07:08:09Z; it cannot be removed")
		}
	}
	var out *tillit.Person
	var ix personIndexes
	anonymised := false
	err = s.db.withTx(ctx, func(tx *Tx) error {
		settings, schema, err := s.tenantContext(ctx, tx, pr.TenantID)
		if err != nil {
			return err
		}
		if err := tx.lockRow(ctx, "people", "id = $1 AND tenant_id = $2", id, pr.TenantID); err != nil {
			return err
		}
		old, oldValues, oldSealed, err := s.readPerson(ctx, tx, pr.TenantID, id)
		if err != nil {
			return err
		}
		if old.AnonymisedAt != nil {
			anonymised = true
			return errAnonymised()
		}
		p, err := mergePerson(old, patchDoc)
		if err != nil {
			return err
		}
		p.CollectedAt = p.CollectedAt.UTC().Truncate(time.Microsecond)
		// Values of attributes the schema no longer has are dropped when
		// the person is written, unless the patch sets them (refused below).
		patchAttrs, _ := patchDoc["attributes"].(map[string]any)
		for name := range p.Attributes {
			if _, ok := schema.Attribute(name); !ok {
				if _, set := patchAttrs[name]; !set {
					delete(p.Attributes, name)
				}
			}
		}
		// A new national id brings its own country and birth date unless
		// the patch gives them; removing one keeps the birth date.
		if v, ok := patchDoc[tillit.AttrNationalID]; ok && v != nil {
			if _, ok := patchDoc[tillit.AttrNationalIDCountry]; !ok {
				p.NationalIDCountry = ""
			}
			if _, ok := patchDoc[tillit.AttrBirthDate]; !ok {
				p.BirthDate = ""
			}
		}
		if ix, err = normalizePerson(p, schema, settings, tx.now); err != nil {
			return err
		}
		values, plain, err := valuesOf(p, schema)
		if err != nil {
			return err
		}
		changed := changedPlaces(oldValues, old.Attributes, values, plain)
		if !p.CollectedAt.Equal(old.CollectedAt) {
			changed = append(changed, "collected_at")
			slices.Sort(changed)
		}
		tillit.Describe(ctx, "person.update", personTarget(id), changed...)
		pk, err := s.keys.PersonKey(ctx, pr.TenantID, id)
		if err != nil {
			return keyError(err)
		}
		emailIdx, phoneIdx, nidIdx, err := s.indexes(ctx, pr.TenantID, ix)
		if err != nil {
			return keyError(err)
		}
		plainJSON, err := json.Marshal(plain)
		if err != nil {
			return err
		}
		sealed := encodeSealed(sealValues(pk, values, oldValues, oldSealed))
		p.UpdatedAt, p.LastActivityAt = tx.now, tx.now
		if _, err := tx.ExecContext(ctx, `UPDATE people SET sealed = $1, plain = $2, email_idx = $3, phone_idx = $4,
			national_id_idx = $5, collected_at = $6, updated_at = $7, last_activity_at = $7 WHERE id = $8 AND tenant_id = $9`,
			sealed, string(plainJSON), emailIdx, phoneIdx, nidIdx, micros(p.CollectedAt), micros(tx.now), id, pr.TenantID); err != nil {
			return err
		}
		out = p
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "person.update", personTarget(id), changed...))
	})
	if anonymised {
		return nil, errAnonymised()
	}
	if err != nil {
		return nil, conflictOf(err, ix)
	}
	return out, nil
}

// lockRow locks the rows of table that match where until tx ends, so that
// concurrent read-modify-writes of them apply one after the other: on
// PostgreSQL (SQLite has one writer at a time already).
func (tx *Tx) lockRow(ctx context.Context, table, where string, args ...any) error {
	if tx.db.dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT 1 FROM `+table+` WHERE `+where+` FOR UPDATE`, args...)
	return err
}

// mergePerson applies a merge patch to a person's API form.
func mergePerson(old *tillit.Person, patch map[string]any) (*tillit.Person, error) {
	b, err := json.Marshal(old)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	merged, _ := mergePatch(doc, patch).(map[string]any)
	b, err = json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	var p tillit.Person
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, patchError(err)
	}
	return &p, nil
}

// mergePatch is RFC 7386: objects merge, null removes, anything else
// replaces.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = mergePatch(tm[k], v)
		}
	}
	return tm
}

// patchError explains why a patched person is not a person.
func patchError(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return tillit.FieldErrorf(ute.Field, "%s has the wrong type: %s expected", ute.Field, ute.Type)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return tillit.FieldErrorf(name, "%s is not an attribute of a person; tenant attributes go in \"attributes\"", name)
	}
	return tillit.Errorf(tillit.EInvalid, "the patched person is not valid: %v", err)
}

// changedPlaces lists the places whose values differ between old and new.
func changedPlaces(oldValues personValues, oldAttrs map[string]any, values personValues, plain map[string]any) []string {
	var out []string
	for place, v := range values {
		if prev, ok := oldValues[place]; !ok || string(prev) != string(v) {
			out = append(out, place)
		}
	}
	for place := range oldValues {
		if _, ok := values[place]; !ok {
			if name, isAttr := strings.CutPrefix(place, attrPrefix); !isAttr || plain[name] == nil {
				out = append(out, place)
			}
		}
	}
	for name, v := range plain {
		if prev, ok := oldAttrs[name]; !ok || fmt.Sprint(prev) != fmt.Sprint(v) || oldValues[attrPrefix+name] != nil {
			out = append(out, attrPrefix+name)
		}
	}
	for name := range oldAttrs {
		if _, ok := plain[name]; !ok && values[attrPrefix+name] == nil && oldValues[attrPrefix+name] == nil {
			out = append(out, attrPrefix+name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Limits of a page.
const (
	defaultPage = 100
	maxPage     = 1000
	// maxSortByName is the largest register that may be listed by family
	// name: names are sealed, so sorting them means opening them all.
	maxSortByName = 50000
)

func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return defaultPage, nil
	case n < 1 || n > maxPage:
		return 0, tillit.FieldErrorf("limit", "limit must be between 1 and %d", maxPage)
	}
	return n, nil
}

// FindPeople implements tillit.PersonService: a page of the register by id
// or by family name. Each person on the page is an event of its own.
func (s *PeopleService) FindPeople(ctx context.Context, f tillit.PersonFilter) (*tillit.PersonPage, error) {
	tillit.Describe(ctx, "person.list", "")
	pr, err := tillit.Authorize(ctx, tillit.PermPersonRead)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var after int64
	if f.Cursor != "" {
		if after, err = strconv.ParseInt(f.Cursor, 10, 64); err != nil || after <= 0 {
			return nil, tillit.FieldErrorf("cursor", "cursor is not one this server gave; start again without it")
		}
	}
	var page *tillit.PersonPage
	hide := hiddenPeople(pr)
	switch f.Sort {
	case "", tillit.SortByID:
		page, err = s.pageByID(ctx, pr.TenantID, hide, after, limit)
	case tillit.SortByFamilyName:
		page, err = s.pageByName(ctx, pr.TenantID, hide, after, limit)
	default:
		return nil, tillit.FieldErrorf("sort", "sort must be id or family_name")
	}
	if err != nil {
		return nil, err
	}
	for _, p := range page.People {
		tillit.AlsoTouched(ctx, personTarget(p.ID), personFields(p)...)
	}
	return page, nil
}

// personFields are the attributes an answer holds, for the audit log.
func personFields(p *tillit.Person) []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{tillit.AttrGivenName, p.GivenName != ""}, {tillit.AttrFamilyName, p.FamilyName != ""},
		{tillit.AttrNationalID, p.NationalID != ""}, {tillit.AttrNationalIDCountry, p.NationalIDCountry != ""},
		{tillit.AttrBirthDate, p.BirthDate != ""}, {tillit.AttrEmail, p.Email != ""}, {tillit.AttrPhone, p.Phone != ""},
		{tillit.AttrAddress, p.Address != nil}, {tillit.AttrLanguage, p.Language != ""}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range p.Attributes {
			if !yield(k) {
				return
			}
		}
	}) {
		out = append(out, attrPrefix+name)
	}
	return out
}

func (s *PeopleService) pageByID(ctx context.Context, tenantID int64, hide string, after int64, limit int) (*tillit.PersonPage, error) {
	list, err := scanPersonRows(s.db.read.QueryContext(ctx, `SELECT `+personColumns+` FROM people
		WHERE tenant_id = $1 AND id > $2`+hide+` ORDER BY id LIMIT $3`, tenantID, after, limit+1))
	if err != nil {
		return nil, err
	}
	page := &tillit.PersonPage{People: []*tillit.Person{}}
	if len(list) > limit {
		list = list[:limit]
		page.NextCursor = strconv.FormatInt(list[limit-1].id, 10)
	}
	people, err := s.openRows(ctx, tenantID, list)
	if err != nil {
		return nil, err
	}
	page.People = people
	return page, nil
}

// openRows opens stored people, fetching their keys in one go. People
// whose key is gone (erased) are left out.
func (s *PeopleService) openRows(ctx context.Context, tenantID int64, list []personRow) ([]*tillit.Person, error) {
	ids := make([]int64, len(list))
	for i, r := range list {
		ids[i] = r.id
	}
	keys, err := s.keys.PersonKeys(ctx, tenantID, ids)
	if err != nil {
		return nil, keyError(err)
	}
	out := make([]*tillit.Person, 0, len(list))
	for _, r := range list {
		pk := keys[r.id]
		if pk == nil {
			continue
		}
		p, _, _, err := openPerson(pk, r)
		if err != nil {
			return nil, tillit.Internal(err)
		}
		out = append(out, p)
	}
	return out, nil
}

// pageByName lists by family name, given name and id. The names are
// sealed, so it opens every person of the tenant and sorts in memory; the
// cursor is the id of the last person of the previous page.
func (s *PeopleService) pageByName(ctx context.Context, tenantID int64, hide string, after int64, limit int) (*tillit.PersonPage, error) {
	var n int
	if err := s.db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM people WHERE tenant_id = $1`+hide, tenantID).Scan(&n); err != nil {
		return nil, translate(err)
	}
	if n > maxSortByName {
		return nil, tillit.FieldErrorf("sort", "sorting by family_name is available for registers of up to %d people (yours has %d): names are sealed, so sorting opens them all; list by id or look people up", maxSortByName, n)
	}
	var all []*tillit.Person
	var last int64
	for {
		page, err := s.pageByID(ctx, tenantID, hide, last, maxPage)
		if err != nil {
			return nil, err
		}
		all = append(all, page.People...)
		if page.NextCursor == "" {
			break
		}
		last, _ = strconv.ParseInt(page.NextCursor, 10, 64)
	}
	slices.SortFunc(all, func(a, b *tillit.Person) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.FamilyName), strings.ToLower(b.FamilyName)),
			strings.Compare(strings.ToLower(a.GivenName), strings.ToLower(b.GivenName)), cmp.Compare(a.ID, b.ID))
	})
	start := 0
	if after != 0 {
		i := slices.IndexFunc(all, func(p *tillit.Person) bool { return p.ID == after })
		if i < 0 {
			return nil, tillit.FieldErrorf("cursor", "the person the cursor points at is gone; start again without it")
		}
		start = i + 1
	}
	end := min(start+limit, len(all))
	page := &tillit.PersonPage{People: all[start:end]}
	if end < len(all) {
		page.NextCursor = strconv.FormatInt(all[end-1].ID, 10)
	}
	return page, nil
}

// LookupPeople implements tillit.PersonService: exact match on e-mail,
// phone or national id after normalisation, through the blind index; the
// candidates are opened and any whose value does not match is dropped.
func (s *PeopleService) LookupPeople(ctx context.Context, l tillit.PersonLookup) ([]*tillit.Person, error) {
	tillit.Describe(ctx, "person.lookup", "")
	pr, err := tillit.Authorize(ctx, tillit.PermPersonRead)
	if err != nil {
		return nil, err
	}
	l.Email, l.Phone, l.NationalID = strings.TrimSpace(l.Email), strings.TrimSpace(l.Phone), strings.TrimSpace(l.NationalID)
	set := 0
	for _, v := range []string{l.Email, l.Phone, l.NationalID} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return nil, tillit.Errorf(tillit.EInvalid, "give exactly one of email, phone or national_id")
	}
	now := s.db.now()
	var column, attr string
	var wanted []string // normalised values, any of which matches
	var match func(p *tillit.Person) bool
	switch {
	case l.Email != "":
		tillit.Describe(ctx, "person.lookup", "", tillit.AttrEmail)
		_, key, err := ident.Email(tillit.AttrEmail, l.Email)
		if err != nil {
			return nil, err
		}
		column, attr, wanted = "email_idx", tillit.AttrEmail, []string{key}
		match = func(p *tillit.Person) bool { return strings.ToLower(p.Email) == key } // the index's own normalisation
	case l.Phone != "":
		tillit.Describe(ctx, "person.lookup", "", tillit.AttrPhone)
		settings, _, err := s.tenantContext(ctx, s.db.read, pr.TenantID)
		if err != nil {
			return nil, err
		}
		e164, err := ident.Phone(tillit.AttrPhone, l.Phone, settings.Country)
		if err != nil {
			return nil, err
		}
		column, attr, wanted = "phone_idx", tillit.AttrPhone, []string{e164}
		match = func(p *tillit.Person) bool { return p.Phone == e164 }
	default:
		tillit.Describe(ctx, "person.lookup", "", tillit.AttrNationalID)
		var cands []ident.Candidate
		if c := strings.ToUpper(strings.TrimSpace(l.NationalIDCountry)); c != "" {
			norm, _, err := ident.NationalID(tillit.AttrNationalID, c, l.NationalID, now)
			if err != nil {
				return nil, err
			}
			cands = []ident.Candidate{{Country: c, Normalized: norm}}
		} else if cands = ident.NationalIDCandidates(l.NationalID, now); len(cands) == 0 {
			return nil, tillit.FieldErrorf(tillit.AttrNationalID, "national_id is not a valid Swedish, Norwegian, Danish or Finnish identity number")
		}
		for _, c := range cands {
			wanted = append(wanted, c.Country+":"+c.Normalized)
		}
		column, attr = "national_id_idx", tillit.AttrNationalID
		match = func(p *tillit.Person) bool {
			return slices.Contains(wanted, p.NationalIDCountry+":"+p.NationalID)
		}
	}
	args := []any{pr.TenantID}
	for _, w := range wanted {
		b, err := s.keys.BlindIndex(ctx, pr.TenantID, attr, w)
		if err != nil {
			return nil, keyError(err)
		}
		args = append(args, b)
	}
	cond := column + ` = $2` // one value: the plain form, which every planner takes to the index
	if len(wanted) > 1 {
		cond = column + ` IN (` + s.db.params(2, len(wanted)) + `)`
	}
	list, err := scanPersonRows(s.db.query(ctx, `SELECT `+personColumns+` FROM people WHERE tenant_id = $1 AND `+cond+hiddenPeople(pr)+` ORDER BY id LIMIT 1000`, args...))
	if err != nil {
		return nil, err
	}
	people, err := s.openRows(ctx, pr.TenantID, list)
	if err != nil {
		return nil, err
	}
	out := people[:0]
	for _, p := range people {
		if match(p) {
			out = append(out, p)
		}
	}
	if len(out) == 1 {
		// The common case: the request's own event names the person.
		tillit.Describe(ctx, "person.lookup", personTarget(out[0].ID), personFields(out[0])...)
		return out, nil
	}
	for _, p := range out {
		tillit.AlsoTouched(ctx, personTarget(p.ID), personFields(p)...)
	}
	return out, nil
}
