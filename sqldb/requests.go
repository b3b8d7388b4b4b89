package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tillit"
	"tillit/keyring"
)

// The register of requests from people (GDPR Art. 12–22). A request's
// note and reasons are sealed under a key of the request's own, made with
// the request's id in the key store (ids never collide with people's), so
// that they outlive the person's erasure as evidence. The report attached
// to a completed access or export request is sealed under the PERSON's
// key: erasing the person leaves it unreadable.

const (
	// maxRequestNote is the longest note of a request, in bytes.
	maxRequestNote = 10000
	// requestSkew is how far in the future received_at may be: clocks
	// differ.
	requestSkew = time.Minute
	// dueSoon is the window of the "soon" list.
	dueSoon = 7 * 24 * time.Hour
	// requestPlace is where a request's secrets are sealed.
	requestPlace = "request"
)

var (
	_ tillit.RequestService = (*PeopleService)(nil)

	// statusStep orders the open statuses and completion: a request moves
	// forward only. Refused is final and reached from any open status.
	statusStep = map[tillit.RequestStatus]int{tillit.StatusReceived: 0, tillit.StatusIdentityVerified: 1,
		tillit.StatusInProgress: 2, tillit.StatusCompleted: 3}
)

// openSQL selects the requests not completed or refused.
const openSQL = `status NOT IN ('completed', 'refused')`

func requestTarget(id int64) string { return "request:" + strconv.FormatInt(id, 10) }

func requestNotFound() error {
	return tillit.Errorf(tillit.ENotFound, "no request with this id in your register of requests")
}

// reportPlace is where the report of request id is sealed under the
// person's key.
func reportPlace(id int64) string { return "request:" + strconv.FormatInt(id, 10) + ":report" }

// isOpen reports whether a request in status st is still to be answered.
func isOpen(st tillit.RequestStatus) bool {
	return st != tillit.StatusCompleted && st != tillit.StatusRefused
}

// needsReport reports whether completing a request of type t attaches the
// person's report.
func needsReport(t tillit.RequestType) bool {
	return t == tillit.RequestAccess || t == tillit.RequestExport
}

// requestSecrets are the personal parts of a request, sealed together.
type requestSecrets struct {
	Note            string `json:"note,omitempty"`
	ExtensionReason string `json:"extension_reason,omitempty"`
	RefusalReason   string `json:"refusal_reason,omitempty"`
}

func secretsOf(r *tillit.SubjectRequest) requestSecrets {
	return requestSecrets{Note: r.Note, ExtensionReason: r.ExtensionReason, RefusalReason: r.RefusalReason}
}

func (sec requestSecrets) apply(r *tillit.SubjectRequest) {
	r.Note, r.ExtensionReason, r.RefusalReason = sec.Note, sec.ExtensionReason, sec.RefusalReason
}

func sealSecrets(pk *keyring.PersonKey, sec requestSecrets) ([]byte, error) {
	b, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	return pk.Seal(requestPlace, b), nil
}

func openSecrets(pk *keyring.PersonKey, sealed []byte) (requestSecrets, error) {
	var sec requestSecrets
	if len(sealed) == 0 { // blanked when the person was erased or anonymised
		return sec, nil
	}
	b, err := pk.Open(requestPlace, sealed)
	if err != nil {
		return sec, err
	}
	err = json.Unmarshal(b, &sec)
	return sec, err
}

// checkFreeText checks a note or reason: valid UTF-8, at most max bytes,
// no control characters but line breaks and tabs.
func checkFreeText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return tillit.FieldErrorf(field, "%s is not valid UTF-8 text", field)
	}
	if len(v) > max {
		return tillit.FieldErrorf(field, "%s has %d bytes; at most %d are allowed", field, len(v), max)
	}
	for _, c := range v {
		if unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t' {
			return tillit.FieldErrorf(field, "%s holds a control character other than a line break or tab", field)
		}
	}
	return nil
}

// checkReason checks a required reason and returns it trimmed.
func checkReason(field string, v *string, what string) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", tillit.FieldErrorf(field, "%s is required: say why %s", field, what)
	}
	s := strings.TrimSpace(*v)
	return s, checkFreeText(field, s, tillit.MaxReason)
}

func requestTypeList() string {
	names := make([]string, len(tillit.RequestTypes))
	for i, t := range tillit.RequestTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func checkStatus(st tillit.RequestStatus) error {
	if _, ok := statusStep[st]; !ok && st != tillit.StatusRefused {
		return tillit.FieldErrorf("status", "status must be one of received, identity_verified, in_progress, completed, refused")
	}
	return nil
}

// checkNewRequest validates a request to be created, at now.
func checkNewRequest(r *tillit.SubjectRequest, now time.Time) error {
	known := false
	for _, t := range tillit.RequestTypes {
		known = known || r.Type == t
	}
	if !known {
		return tillit.FieldErrorf("type", "type must be one of %s", requestTypeList())
	}
	known = false
	for _, c := range tillit.RequestChannels {
		known = known || r.Channel == c
	}
	if !known {
		return tillit.FieldErrorf("channel", "channel must be one of %s", strings.Join(tillit.RequestChannels, ", "))
	}
	if r.PersonID != nil && *r.PersonID <= 0 {
		return tillit.FieldErrorf("person_id", "person_id must be the id of a person in your register")
	}
	r.ReceivedAt = r.ReceivedAt.UTC().Truncate(time.Microsecond)
	switch {
	case r.ReceivedAt.IsZero():
		return tillit.FieldErrorf("received_at", "received_at is required: when the request reached you (RFC 3339)")
	case r.ReceivedAt.After(now.Add(requestSkew)):
		return tillit.FieldErrorf("received_at", "received_at is in the future; give the time the request reached you")
	case r.ReceivedAt.Before(now.AddDate(-1, 0, 0)):
		return tillit.FieldErrorf("received_at", "received_at is more than a year ago; a request is registered when it arrives")
	}
	r.Note = strings.TrimSpace(r.Note)
	return checkFreeText("note", r.Note, maxRequestNote)
}

// personExists answers ENotFound unless the person is in the tenant.
func personExists(ctx context.Context, q querier, tenantID, personID int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM people WHERE id = $1 AND tenant_id = $2`, personID, tenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return &tillit.Error{Code: tillit.ENotFound, Field: "person_id", Message: "person_id names no person in your register"}
	}
	return err
}

// newRequestKey gives r a new id and stores a key for it. If another
// process took the id meanwhile, it tries again with a new one.
func (s *PeopleService) newRequestKey(ctx context.Context, tenantID int64, r *tillit.SubjectRequest) (*keyring.PersonKey, error) {
	for attempt := 0; ; attempt++ {
		r.ID = s.db.newID()
		keys, err := s.keys.NewPersonKeys(ctx, tenantID, []int64{r.ID})
		if isConflict(err) && attempt < idAttempts {
			continue
		}
		if err != nil {
			r.ID = 0
			return nil, keyError(err)
		}
		return keys[0], nil
	}
}

// CreateRequest implements tillit.RequestService. Errors: EInvalid,
// ENotFound (the person), EForbidden.
func (s *PeopleService) CreateRequest(ctx context.Context, r *tillit.SubjectRequest) error {
	tillit.Describe(ctx, "request.create", "")
	pr, err := tillit.Authorize(ctx, tillit.PermRequestWrite)
	if err != nil {
		return err
	}
	if err := checkNewRequest(r, s.db.now()); err != nil {
		return err
	}
	fields := []string{"type", "channel", "received_at"}
	if r.PersonID != nil {
		fields = append(fields, "person_id")
	}
	if r.Note != "" {
		fields = append(fields, "note")
	}
	tillit.Describe(ctx, "request.create", "", fields...)
	if r.PersonID != nil {
		if err := personExists(ctx, s.db.read, pr.TenantID, *r.PersonID); err != nil {
			return translate(err)
		}
	}
	r.ExtensionReason, r.RefusalReason = "", ""
	pk, err := s.newRequestKey(ctx, pr.TenantID, r)
	if err != nil {
		return err
	}
	id := r.ID
	target := requestTarget(id)
	tillit.Describe(ctx, "request.create", target, fields...)
	sealed, err := sealSecrets(pk, secretsOf(r))
	if err == nil {
		err = s.db.withTx(ctx, func(tx *Tx) error {
			if r.PersonID != nil {
				if err := personExists(ctx, tx, pr.TenantID, *r.PersonID); err != nil {
					return err
				}
			}
			r.Status = tillit.StatusReceived
			r.DueAt = tillit.AddMonths(r.ReceivedAt, 1)
			r.ExtendedAt, r.CompletedAt, r.HasReport = nil, nil, false
			r.Overdue = tx.now.After(r.DueAt)
			r.CreatedAt, r.UpdatedAt = tx.now, tx.now
			if _, err := tx.ExecContext(ctx, `INSERT INTO requests (id, tenant_id, type, person_id, status, channel,
				received_at, due_at, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
				id, pr.TenantID, string(r.Type), r.PersonID, string(r.Status), r.Channel, micros(r.ReceivedAt),
				micros(r.DueAt), sealed, micros(tx.now)); err != nil {
				return err
			}
			return tx.record(ctx, tx.event(ctx, pr.TenantID, "request.create", target, fields...))
		})
	}
	if err != nil {
		r.ID = 0
		s.destroyUnused(ctx, pr.TenantID, []int64{id})
		return translate(err)
	}
	return nil
}

const requestColumns = `id, type, person_id, status, channel, received_at, due_at, extended_at, completed_at,
	sealed, CASE WHEN report IS NULL THEN 0 ELSE 1 END, created_at, updated_at`

// scanRequest reads a request as stored, its secrets still sealed.
func scanRequest(sc interface{ Scan(...any) error }, now time.Time) (*tillit.SubjectRequest, []byte, error) {
	var r tillit.SubjectRequest
	var typ, status string
	var person, extended, completed sql.NullInt64
	var received, due, created, updated int64
	var sealed []byte
	var report int
	if err := sc.Scan(&r.ID, &typ, &person, &status, &r.Channel, &received, &due, &extended, &completed,
		&sealed, &report, &created, &updated); err != nil {
		return nil, nil, err
	}
	r.Type, r.Status = tillit.RequestType(typ), tillit.RequestStatus(status)
	if person.Valid {
		r.PersonID = &person.Int64
	}
	r.ReceivedAt, r.DueAt, r.CreatedAt, r.UpdatedAt = fromMicros(received), fromMicros(due), fromMicros(created), fromMicros(updated)
	r.ExtendedAt, r.CompletedAt = timePtr(extended), timePtr(completed)
	r.HasReport = report == 1
	r.Overdue = isOpen(r.Status) && now.After(r.DueAt)
	return &r, sealed, nil
}

// readRequest reads and opens a request of the tenant. Errors: ENotFound.
func (s *PeopleService) readRequest(ctx context.Context, q querier, tenantID, id int64, now time.Time) (*tillit.SubjectRequest, requestSecrets, error) {
	r, sealed, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM requests
		WHERE id = $1 AND tenant_id = $2`, id, tenantID), now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, requestSecrets{}, requestNotFound()
	}
	if err != nil {
		return nil, requestSecrets{}, translate(err)
	}
	pk, err := s.keys.PersonKey(ctx, tenantID, id)
	if err != nil {
		return nil, requestSecrets{}, requestKeyError(id, err)
	}
	sec, err := openSecrets(pk, sealed)
	if err != nil {
		return nil, requestSecrets{}, tillit.Internal(fmt.Errorf("request %d: %w", id, err))
	}
	sec.apply(r)
	return r, sec, nil
}

// requestKeyError is the answer when a request's key cannot be had: its
// key is never destroyed, so a missing one is a fault.
func requestKeyError(id int64, err error) error {
	if errors.Is(err, keyring.ErrNoKey) {
		return tillit.Internal(fmt.Errorf("request %d has no key", id))
	}
	return keyError(err)
}

// FindRequestByID implements tillit.RequestService. Errors: ENotFound,
// EForbidden.
func (s *PeopleService) FindRequestByID(ctx context.Context, id int64) (*tillit.SubjectRequest, error) {
	tillit.Describe(ctx, "request.read", requestTarget(id))
	pr, err := tillit.Authorize(ctx, tillit.PermRequestRead)
	if err != nil {
		return nil, err
	}
	r, _, err := s.readRequest(ctx, s.db.read, pr.TenantID, id, s.db.now())
	return r, err
}

// RequestReport implements tillit.RequestService. Errors: ENotFound (no
// report, or the person was erased since), EForbidden.
func (s *PeopleService) RequestReport(ctx context.Context, id int64) (*tillit.PersonReport, error) {
	target := requestTarget(id)
	tillit.Describe(ctx, "request.report", target, "report")
	pr, err := tillit.Authorize(ctx, tillit.PermRequestRead)
	if err != nil {
		return nil, err
	}
	var person sql.NullInt64
	var sealed []byte
	err = s.db.read.QueryRowContext(ctx, `SELECT person_id, report FROM requests WHERE id = $1 AND tenant_id = $2`,
		id, pr.TenantID).Scan(&person, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, requestNotFound()
	}
	if err != nil {
		return nil, translate(err)
	}
	if sealed == nil || !person.Valid {
		return nil, tillit.Errorf(tillit.ENotFound, "this request has no report: only a completed access or export request carries one")
	}
	tillit.AlsoTouched(ctx, personTarget(person.Int64), "report", target)
	pk, err := s.keys.PersonKey(ctx, pr.TenantID, person.Int64)
	if errors.Is(err, keyring.ErrNoKey) {
		return nil, tillit.Errorf(tillit.ENotFound, "the report of this request can no longer be opened: the person was erased since")
	}
	if err != nil {
		return nil, keyError(err)
	}
	b, err := pk.Open(reportPlace(id), sealed)
	if err != nil {
		return nil, tillit.Internal(fmt.Errorf("report of request %d: %w", id, err))
	}
	var rep tillit.PersonReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, tillit.Internal(fmt.Errorf("report of request %d: %w", id, err))
	}
	return &rep, nil
}
