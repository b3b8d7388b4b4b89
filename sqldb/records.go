package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tillit"
	"tillit/keyring"
)

const maxTitleLen = 500 // characters

func recordPlace(id int64, field string) string {
	return "record:" + strconv.FormatInt(id, 10) + ":" + field
}

func recordNotFound() error {
	return tillit.Errorf(tillit.ENotFound, "no record with this id for this person")
}

// checkRecord validates a record against the tenant's categories.
func checkRecord(r *tillit.Record, schema *tillit.Schema, now time.Time) error {
	r.Category = strings.TrimSpace(r.Category)
	if !schema.HasCategory(r.Category) {
		return tillit.FieldErrorf("category", "category must be one of this tenant's record categories: %s", strings.Join(schema.Categories, ", "))
	}
	r.Title = strings.TrimSpace(r.Title)
	if r.Title == "" {
		return tillit.FieldErrorf("title", "title is required")
	}
	if err := checkText("title", r.Title, maxTitleLen); err != nil {
		return err
	}
	if len(r.Body) > tillit.MaxRecordBody {
		return tillit.FieldErrorf("body", "body has %d bytes; at most %d (1 MiB) are allowed", len(r.Body), tillit.MaxRecordBody)
	}
	if !utf8.ValidString(r.Body) {
		return tillit.FieldErrorf("body", "body is not valid UTF-8 text")
	}
	if r.OccurredAt.IsZero() {
		r.OccurredAt = now
	}
	r.OccurredAt = r.OccurredAt.UTC().Truncate(time.Microsecond)
	return nil
}

// personKeyOf returns the key of a person of the tenant who has a row:
// ENotFound otherwise.
func (s *PeopleService) personKeyOf(ctx context.Context, q querier, tenantID, personID int64) (*keyring.PersonKey, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM people WHERE id = $1 AND tenant_id = $2`, personID, tenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, personNotFound()
	}
	if err != nil {
		return nil, translate(err)
	}
	pk, err := s.keys.PersonKey(ctx, tenantID, personID)
	if errors.Is(err, keyring.ErrNoKey) {
		return nil, personNotFound()
	}
	if err != nil {
		return nil, keyError(err)
	}
	return pk, nil
}

// CreateRecord implements tillit.RecordService. Errors: EInvalid,
// ENotFound (the person), EForbidden.
func (s *PeopleService) CreateRecord(ctx context.Context, r *tillit.Record) error {
	target := personTarget(r.PersonID)
	tillit.Describe(ctx, "record.create", target)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonWrite)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		_, schema, err := s.tenantContext(ctx, tx, pr.TenantID)
		if err != nil {
			return err
		}
		if err := checkRecord(r, schema, tx.now); err != nil {
			return err
		}
		pk, err := s.personKeyOf(ctx, tx, pr.TenantID, r.PersonID)
		if err != nil {
			return err
		}
		r.ID = s.db.newID()
		r.CreatedAt, r.UpdatedAt = tx.now, tx.now
		fields := recordFields(r.ID, "category", "title", "body", "occurred_at")
		tillit.Describe(ctx, "record.create", target, fields...)
		if _, err := tx.ExecContext(ctx, `INSERT INTO records (id, tenant_id, person_id, category, title, body,
			occurred_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			r.ID, pr.TenantID, r.PersonID, r.Category, pk.Seal(recordPlace(r.ID, "title"), []byte(r.Title)),
			pk.Seal(recordPlace(r.ID, "body"), []byte(r.Body)), micros(r.OccurredAt), micros(tx.now)); err != nil {
			return err
		}
		if err := s.touchPerson(ctx, tx, pr.TenantID, r.PersonID); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "record.create", target, fields...))
	})
}

// recordFields names a record's fields for the audit log: "record:12"
// then the fields touched.
func recordFields(id int64, fields ...string) []string {
	return append([]string{"record:" + strconv.FormatInt(id, 10)}, fields...)
}

// touchPerson marks activity about a person (retention counts from it).
func (s *PeopleService) touchPerson(ctx context.Context, tx *Tx, tenantID, personID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE people SET last_activity_at = $1 WHERE id = $2 AND tenant_id = $3`,
		micros(tx.now), personID, tenantID)
	return err
}

const recordColumns = `id, person_id, category, title, body, occurred_at, created_at, updated_at`

// scanRecord reads and opens a record with its person's key.
func scanRecord(sc interface{ Scan(...any) error }, pk *keyring.PersonKey) (*tillit.Record, error) {
	var r tillit.Record
	var title, body []byte
	var occurred, created, updated int64
	if err := sc.Scan(&r.ID, &r.PersonID, &r.Category, &title, &body, &occurred, &created, &updated); err != nil {
		return nil, err
	}
	t, err := pk.Open(recordPlace(r.ID, "title"), title)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", r.ID, err)
	}
	b, err := pk.Open(recordPlace(r.ID, "body"), body)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", r.ID, err)
	}
	r.Title, r.Body = string(t), string(b)
	r.OccurredAt, r.CreatedAt, r.UpdatedAt = fromMicros(occurred), fromMicros(created), fromMicros(updated)
	return &r, nil
}

// FindRecords implements tillit.RecordService: a page of a person's
// records, newest first. The cursor is the last record's id.
func (s *PeopleService) FindRecords(ctx context.Context, personID int64, f tillit.RecordFilter) (*tillit.RecordPage, error) {
	target := personTarget(personID)
	tillit.Describe(ctx, "record.list", target)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonRead)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	// The cursor is the id of the last record of the previous page: its
	// time is looked up here, so that no date of a person's record travels
	// in a URL.
	beforeAt, beforeID := int64(1<<62), int64(1<<62)
	if f.Cursor != "" {
		id, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err == nil {
			err = s.db.read.QueryRowContext(ctx, `SELECT occurred_at FROM records WHERE id = $1 AND person_id = $2 AND tenant_id = $3`,
				id, personID, pr.TenantID).Scan(&beforeAt)
		}
		if err != nil {
			return nil, tillit.FieldErrorf("cursor", "cursor is not one this server gave, or its record is gone; start again without it")
		}
		beforeID = id
	}
	pk, err := s.personKeyOf(ctx, s.db.read, pr.TenantID, personID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+recordColumns+` FROM records
		WHERE tenant_id = $1 AND person_id = $2 AND (occurred_at < $3 OR (occurred_at = $3 AND id < $4))
		ORDER BY occurred_at DESC, id DESC LIMIT $5`, pr.TenantID, personID, beforeAt, beforeID, limit+1)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	page := &tillit.RecordPage{Records: []*tillit.Record{}}
	for rows.Next() {
		r, err := scanRecord(rows, pk)
		if err != nil {
			return nil, tillit.Internal(err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		last := page.Records[limit-1]
		page.NextCursor = strconv.FormatInt(last.ID, 10)
	}
	fields := []string{"records"}
	for _, r := range page.Records {
		fields = append(fields, "record:"+strconv.FormatInt(r.ID, 10))
	}
	tillit.Describe(ctx, "record.list", target, fields...)
	return page, nil
}

// FindRecordByID implements tillit.RecordService.
func (s *PeopleService) FindRecordByID(ctx context.Context, personID, id int64) (*tillit.Record, error) {
	target := personTarget(personID)
	tillit.Describe(ctx, "record.read", target, recordFields(id, "category", "title", "body", "occurred_at")...)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonRead)
	if err != nil {
		return nil, err
	}
	return s.readRecord(ctx, s.db.read, pr.TenantID, personID, id)
}

func (s *PeopleService) readRecord(ctx context.Context, q querier, tenantID, personID, id int64) (*tillit.Record, error) {
	pk, err := s.personKeyOf(ctx, q, tenantID, personID)
	if err != nil {
		return nil, err
	}
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records
		WHERE id = $1 AND person_id = $2 AND tenant_id = $3`, id, personID, tenantID), pk)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, recordNotFound()
	}
	if err != nil {
		return nil, tillit.Internal(err)
	}
	return r, nil
}

// UpdateRecord implements tillit.RecordService. Errors: EInvalid,
// ENotFound.
func (s *PeopleService) UpdateRecord(ctx context.Context, personID, id int64, u tillit.RecordUpdate) (*tillit.Record, error) {
	target := personTarget(personID)
	var fields []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"category", u.Category != nil}, {"title", u.Title != nil}, {"body", u.Body != nil}, {"occurred_at", u.OccurredAt != nil}} {
		if f.set {
			fields = append(fields, f.name)
		}
	}
	fields = recordFields(id, fields...)
	tillit.Describe(ctx, "record.update", target, fields...)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonWrite)
	if err != nil {
		return nil, err
	}
	var out *tillit.Record
	err = s.db.withTx(ctx, func(tx *Tx) error {
		_, schema, err := s.tenantContext(ctx, tx, pr.TenantID)
		if err != nil {
			return err
		}
		if err := tx.lockRow(ctx, "records", "id = $1 AND person_id = $2 AND tenant_id = $3", id, personID, pr.TenantID); err != nil {
			return err
		}
		r, err := s.readRecord(ctx, tx, pr.TenantID, personID, id)
		if err != nil {
			return err
		}
		if u.Category != nil {
			r.Category = *u.Category
		}
		if u.Title != nil {
			r.Title = *u.Title
		}
		if u.Body != nil {
			r.Body = *u.Body
		}
		if u.OccurredAt != nil {
			if u.OccurredAt.IsZero() {
				return tillit.FieldErrorf("occurred_at", "occurred_at cannot be empty")
			}
			r.OccurredAt = *u.OccurredAt
		}
		if err := checkRecord(r, schema, tx.now); err != nil {
			return err
		}
		pk, err := s.keys.PersonKey(ctx, pr.TenantID, personID)
		if err != nil {
			return keyError(err)
		}
		r.UpdatedAt = tx.now
		if _, err := tx.ExecContext(ctx, `UPDATE records SET category = $1, title = $2, body = $3, occurred_at = $4,
			updated_at = $5 WHERE id = $6 AND person_id = $7 AND tenant_id = $8`,
			r.Category, pk.Seal(recordPlace(id, "title"), []byte(r.Title)), pk.Seal(recordPlace(id, "body"), []byte(r.Body)),
			micros(r.OccurredAt), micros(tx.now), id, personID, pr.TenantID); err != nil {
			return err
		}
		if err := s.touchPerson(ctx, tx, pr.TenantID, personID); err != nil {
			return err
		}
		out = r
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "record.update", target, fields...))
	})
	return out, err
}

// DeleteRecord implements tillit.RecordService. Errors: ENotFound.
func (s *PeopleService) DeleteRecord(ctx context.Context, personID, id int64) error {
	target := personTarget(personID)
	fields := recordFields(id)
	tillit.Describe(ctx, "record.delete", target, fields...)
	pr, err := tillit.Authorize(ctx, tillit.PermPersonWrite)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM records WHERE id = $1 AND person_id = $2 AND tenant_id = $3`, id, personID, pr.TenantID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = recordNotFound()
			}
			return err
		}
		if err := s.touchPerson(ctx, tx, pr.TenantID, personID); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, pr.TenantID, "record.delete", target, fields...))
	})
}
