package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// FindRequests implements tillit.RequestService: a page of the tenant's
// requests, by deadline then id. The cursor is the last request's id; its
// deadline is looked up, so that none travels in a URL. Errors: EInvalid,
// EForbidden.
func (s *PeopleService) FindRequests(ctx context.Context, f tillit.RequestFilter) (*tillit.RequestPage, error) {
	tillit.Describe(ctx, "request.list", "")
	pr, err := tillit.Authorize(ctx, tillit.PermRequestRead)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	where := []string{"tenant_id = $1"}
	args := []any{pr.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch f.Due {
	case "":
	case tillit.DueOverdue:
		where = append(where, openSQL, "due_at < "+arg(micros(now)))
	case tillit.DueSoon:
		where = append(where, openSQL, "due_at >= "+arg(micros(now)), "due_at < "+arg(micros(now.Add(dueSoon))))
	default:
		return nil, tillit.FieldErrorf("due", "due must be %s (open and past the deadline) or %s (open and due within 7 days)",
			tillit.DueOverdue, tillit.DueSoon)
	}
	if f.Status != "" {
		if err := checkStatus(f.Status); err != nil {
			return nil, err
		}
		where = append(where, "status = "+arg(string(f.Status)))
	}
	if f.Open {
		where = append(where, openSQL)
	}
	if f.Cursor != "" {
		var due int64
		id, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err == nil {
			err = s.db.read.QueryRowContext(ctx, `SELECT due_at FROM requests WHERE id = $1 AND tenant_id = $2`,
				id, pr.TenantID).Scan(&due)
		}
		if err != nil {
			return nil, tillit.FieldErrorf("cursor", "cursor is not one this server gave; start again without it")
		}
		d, i := arg(due), arg(id)
		where = append(where, fmt.Sprintf("(due_at > %s OR (due_at = %s AND id > %s))", d, d, i))
	}
	q := `SELECT ` + requestColumns + ` FROM requests WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY due_at, id LIMIT ` + arg(limit+1)
	page, err := s.requestPage(ctx, pr.TenantID, q, args, now)
	if err != nil {
		return nil, err
	}
	if len(page.Requests) > limit {
		page.Requests = page.Requests[:limit]
		page.NextCursor = strconv.FormatInt(page.Requests[limit-1].ID, 10)
	}
	fields := make([]string, len(page.Requests))
	for i, r := range page.Requests {
		fields[i] = requestTarget(r.ID)
	}
	tillit.Describe(ctx, "request.list", "", fields...)
	return page, nil
}

// requestPage runs a query of requests and opens them.
func (s *PeopleService) requestPage(ctx context.Context, tenantID int64, q string, args []any, now time.Time) (*tillit.RequestPage, error) {
	rows, err := s.db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	page := &tillit.RequestPage{Requests: []*tillit.SubjectRequest{}}
	var sealed [][]byte
	for rows.Next() {
		r, sl, err := scanRequest(rows, now)
		if err != nil {
			return nil, translate(err)
		}
		page.Requests = append(page.Requests, r)
		sealed = append(sealed, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	ids := make([]int64, len(page.Requests))
	for i, r := range page.Requests {
		ids[i] = r.ID
	}
	keys, err := s.keys.PersonKeys(ctx, tenantID, ids)
	if err != nil {
		return nil, keyError(err)
	}
	for i, r := range page.Requests {
		pk := keys[r.ID]
		if pk == nil {
			return nil, tillit.Internal(fmt.Errorf("request %d has no key", r.ID))
		}
		sec, err := openSecrets(pk, sealed[i])
		if err != nil {
			return nil, tillit.Internal(fmt.Errorf("request %d: %w", r.ID, err))
		}
		sec.apply(r)
	}
	return page, nil
}
