package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The requests of people (GDPR Art. 12): an inbox sorted by deadline, the
// open ones by default, the overdue marked with a class and a word, those
// due within 7 days marked too; a form to register a request as it came
// in; and a page per request to move it on, refuse it with a reason or
// extend its deadline once.

// requestsPageSize is how many requests a page of the inbox shows.
const requestsPageSize = 100

// dueSoon is how near a deadline is "due soon".
const dueSoon = 7 * 24 * time.Hour

// requestRow is a request as the pages show it.
type requestRow struct {
	*tillit.SubjectRequest
	Open    bool
	DueSoon bool // open, not overdue, due within 7 days
}

// URL returns the path of the request's page.
func (r requestRow) URL() string { return requestPath(r.ID) }

// PersonURL returns the path of the person's page, or "".
func (r requestRow) PersonURL() string {
	if r.PersonID == nil {
		return ""
	}
	return personPath(*r.PersonID)
}

// ReceivedDay and DueDay return the days (UTC) the request was received
// and is due: a deadline is a day.
func (r requestRow) ReceivedDay() string { return r.ReceivedAt.UTC().Format(time.DateOnly) }
func (r requestRow) DueDay() string      { return r.DueAt.UTC().Format(time.DateOnly) }

// PersonNo returns the id of the person, or 0.
func (r requestRow) PersonNo() int64 {
	if r.PersonID == nil {
		return 0
	}
	return *r.PersonID
}

// Next returns the status the request moves on to, or "" when it is not
// open or is in progress (its next step is to be completed or refused).
func (r requestRow) Next() tillit.RequestStatus {
	switch r.Status {
	case tillit.StatusReceived:
		return tillit.StatusIdentityVerified
	case tillit.StatusIdentityVerified:
		return tillit.StatusInProgress
	case tillit.StatusInProgress:
		return tillit.StatusCompleted
	}
	return ""
}

// newRequestRow returns the row of q at now.
func newRequestRow(q *tillit.SubjectRequest, now time.Time) requestRow {
	open := q.Status != tillit.StatusCompleted && q.Status != tillit.StatusRefused
	return requestRow{SubjectRequest: q, Open: open,
		DueSoon: open && !q.Overdue && q.DueAt.Sub(now) <= dueSoon}
}

// requestPath returns the path of a request's page.
func requestPath(id int64) string { return "/requests/" + strconv.FormatInt(id, 10) }

// requestsPage is the data of the inbox.
type requestsPage struct {
	Requests []requestRow
	All      bool   // every request, not only the open ones
	Next     string // the path of the next page, or ""
	Paged    bool
	CanWrite bool
	Types    []option
	Channels []option
}

// requestPage is the data of a request's page.
type requestPage struct {
	Request  requestRow
	CanWrite bool
	Report   string   // the path of the attached report, or ""
	Months   []option // the choices of an extension
}

// extensionOptions are the choices of an extension of the deadline.
var extensionOptions = []option{{Value: "1", Key: "request.months_1"}, {Value: "2", Key: "request.months_2"}}

// requestTypeOptions and channelOptions are the choices of the form.
func requestTypeOptions() []option {
	out := make([]option, len(tillit.RequestTypes))
	for i, t := range tillit.RequestTypes {
		out[i] = option{Value: string(t), Key: "request.type." + string(t)}
	}
	return out
}

func channelOptions() []option {
	out := make([]option, len(tillit.RequestChannels))
	for i, c := range tillit.RequestChannels {
		out[i] = option{Value: c, Key: "request.channel." + c}
	}
	return out
}

// canWriteRequests reports whether the principal of r may register and
// move on requests.
func canWriteRequests(r *http.Request) bool {
	return tillit.PrincipalFromContext(r.Context()).Can(tillit.PermRequestWrite)
}

// requestsPage shows the inbox: the open requests (?show=all: every one),
// soonest deadline first.
func (s *Server) requestsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "requests.title", "requests")
	if err != nil {
		return err
	}
	v.Form = url.Values{"received_at": {s.clock.Now().UTC().Format(time.DateOnly)}}
	data, err := s.requestsData(r, false)
	if err != nil {
		return err
	}
	v.Data = data
	return s.render(w, http.StatusOK, "requests", v)
}

// requestsData returns the data of the inbox the query asks for. The list
// is the request's event (the requests shown) unless keep, when the event
// is a change's.
func (s *Server) requestsData(r *http.Request, keep bool) (*requestsPage, error) {
	q := r.URL.Query()
	all := q.Get("show") == "all"
	cursor := q.Get("cursor")
	find := func() (*tillit.RequestPage, error) {
		return s.people.FindRequests(r.Context(), tillit.RequestFilter{Open: !all, Cursor: cursor, Limit: requestsPageSize})
	}
	var page *tillit.RequestPage
	var err error
	if keep {
		page, err = keepEvent(r, find)
	} else {
		page, err = find()
	}
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	data := &requestsPage{All: all, Paged: cursor != "", CanWrite: canWriteRequests(r),
		Types: requestTypeOptions(), Channels: channelOptions()}
	for _, q := range page.Requests {
		data.Requests = append(data.Requests, newRequestRow(q, now))
	}
	if page.NextCursor != "" {
		next := url.Values{"cursor": {page.NextCursor}}
		if all {
			next.Set("show", "all")
		}
		data.Next = "/requests?" + next.Encode()
	}
	return data, nil
}

// createRequestForm registers a request and goes to its page.
func (s *Server) createRequestForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "requests.title", "requests")
	if err != nil {
		return err
	}
	q, err := requestFromForm(r)
	if err == nil {
		err = s.people.CreateRequest(r.Context(), q)
	}
	if err == nil {
		return seeOther(w, requestPath(q.ID)+"?notice=request_created")
	}
	v.Path = "/requests"
	data, derr := s.requestsData(r, true)
	if derr != nil {
		return derr
	}
	v.Data = data
	return s.formError(w, "requests", "request", v, requestFormError(err))
}

// requestFromForm returns the request the form registers. Errors: EInvalid.
func requestFromForm(r *http.Request) (*tillit.SubjectRequest, error) {
	q := &tillit.SubjectRequest{Type: tillit.RequestType(r.PostFormValue("type")), Channel: r.PostFormValue("channel"),
		Note: strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("note"), "\r\n", "\n"))}
	day, err := time.Parse(time.DateOnly, strings.TrimSpace(r.PostFormValue("received_at")))
	if err != nil {
		return nil, invalidForm("received_at", "err.field.received_at")
	}
	q.ReceivedAt = day
	if s := strings.TrimSpace(r.PostFormValue("person_id")); s != "" {
		id, err := parseID("person_id", s)
		if err != nil {
			return nil, invalidForm("person_id", "err.field.person_id")
		}
		q.PersonID = &id
	}
	return q, nil
}

// requestFormError returns err with the catalog's text of the request
// form's fields, in every language (the service names the rule in
// English).
func requestFormError(err error) error {
	if tillit.ErrorCode(err) == tillit.ENotFound {
		// The person id names no one in the register.
		return invalidForm("person_id", "err.field.person_id_unknown")
	}
	switch f := tillit.ErrorField(err); f {
	case "type", "channel", "received_at", "person_id", "note", "reason", "extension_reason":
		if _, ok := err.(*textError); !ok && tillit.ErrorCode(err) == tillit.EInvalid {
			return &textError{key: "err.field." + requestFieldKey(f), err: &tillit.Error{Code: tillit.EInvalid,
				Message: tillit.ErrorMessage(err), Field: f, Err: err}}
		}
	}
	return err
}

// requestFieldKey names the catalog text of a request form's field.
func requestFieldKey(f string) string {
	switch f {
	case "type":
		return "request_type"
	case "channel":
		return "request_channel"
	case "note":
		return "request_note"
	case "reason", "extension_reason":
		return "reason"
	case "person_id": // the form checked the number: the service found no one
		return "person_id_unknown"
	}
	return f
}

// requestPage shows one request.
func (s *Server) requestPage(w http.ResponseWriter, r *http.Request) error {
	v, data, err := s.requestView(r, false)
	if err != nil {
		return err
	}
	v.Data = data
	return s.render(w, http.StatusOK, "request", v)
}

// requestView returns the view and data of the page of the request the
// path names. The read is the request's event unless keep, when the event
// is a change's.
func (s *Server) requestView(r *http.Request, keep bool) (*view, *requestPage, error) {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return nil, nil, tillit.Errorf(tillit.ENotFound, "no such request")
	}
	v, err := s.signedInView(r, "request.title", "requests")
	if err != nil {
		return nil, nil, err
	}
	find := func() (*tillit.SubjectRequest, error) { return s.people.FindRequestByID(r.Context(), id) }
	var q *tillit.SubjectRequest
	if keep {
		q, err = keepEvent(r, find)
	} else {
		q, err = find()
	}
	if err != nil {
		return nil, nil, err
	}
	row := newRequestRow(q, s.clock.Now())
	data := &requestPage{Request: row, CanWrite: canWriteRequests(r), Months: extensionOptions}
	if q.HasReport {
		data.Report = "/api/v1/requests/" + strconv.FormatInt(q.ID, 10) + "/report"
	}
	return v, data, nil
}

// updateRequestForm moves a request on: "change" is "status" (to the
// form's status), "refuse" (with a reason), "extend" (by 1 or 2 months,
// with a reason) or "person" (the person it is about, once known).
func (s *Server) updateRequestForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return tillit.Errorf(tillit.ENotFound, "no such request")
	}
	u, err := requestUpdate(r)
	if err == nil {
		_, err = s.people.UpdateRequest(r.Context(), id, u)
	}
	if err == nil {
		return seeOther(w, requestPath(id)+"?notice=request_updated")
	}
	v, data, verr := s.requestView(r, true)
	if verr != nil {
		return verr
	}
	v.Data = data
	return s.formError(w, "request", "request", v, requestFormError(withRequestField(r, err)))
}

// withRequestField returns err on the input of the form that was sent:
// the service's "reason" is the refusal's or the extension's.
func withRequestField(r *http.Request, err error) error {
	if tillit.ErrorCode(err) != tillit.EInvalid {
		return err
	}
	if _, ok := err.(*textError); ok {
		return err
	}
	switch change, f := r.PostFormValue("change"), tillit.ErrorField(err); {
	case change == "refuse" && (f == "reason" || f == ""):
		return withField(err, "reason")
	case change == "extend" && (f == "reason" || f == "extension_reason" || f == ""):
		return withField(err, "extension_reason")
	case change == "extend" && f == "extend_months":
		return withField(err, "extend_months")
	case change == "person":
		return withField(err, "person_id")
	}
	return err
}

// requestUpdate returns the change the request form asks for.
func requestUpdate(r *http.Request) (tillit.RequestUpdate, error) {
	var u tillit.RequestUpdate
	switch r.PostFormValue("change") {
	case "status":
		st := tillit.RequestStatus(r.PostFormValue("status"))
		u.Status = &st
	case "refuse":
		st, reason := tillit.StatusRefused, strings.TrimSpace(r.PostFormValue("reason"))
		if reason == "" {
			return u, invalidForm("reason", "err.field.reason")
		}
		u.Status, u.Reason = &st, &reason
	case "extend":
		months, err := strconv.Atoi(r.PostFormValue("extend_months"))
		if err != nil || months < 1 || months > 2 {
			return u, invalidForm("extend_months", "err.field.extend_months")
		}
		reason := strings.TrimSpace(r.PostFormValue("extension_reason"))
		if reason == "" {
			return u, invalidForm("extension_reason", "err.field.reason")
		}
		u.ExtendMonths, u.ExtensionReason = &months, &reason
	case "person":
		id, err := parseID("person_id", strings.TrimSpace(r.PostFormValue("person_id")))
		if err != nil {
			return u, invalidForm("person_id", "err.field.person_id")
		}
		u.PersonID = &id
	default:
		return u, tillit.FieldErrorf("change", "change must be status, refuse, extend or person")
	}
	return u, nil
}
