package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tillit"
)

// Retention (gallring): the tenant's policy, with a preview of how many
// people it would flag before it is saved, and the people flagged for
// review, whom a privacy officer erases (with a step-up) or keeps, with a
// reason.

// flaggedPageSize is how many flagged people the page lists.
const flaggedPageSize = 200

// retentionPage is the data of the retention page.
type retentionPage struct {
	Policy    *tillit.RetentionPolicy // as stored; nil when the tenant has none
	Preview   *tillit.RetentionPreview
	Flagged   []flaggedRow
	Next      string // the path of the next page of flagged people, or ""
	Result    *tillit.RetentionDecisionResult
	CanWrite  bool
	CanErase  bool
	Froms     []option
	Modes     []option
	Automatic bool // the stored policy erases by itself
}

// flaggedRow is a flagged person as the list shows them.
type flaggedRow struct {
	*tillit.FlaggedPerson
	Held bool // the hold still holds
}

// URL returns the path of the person's page.
func (f flaggedRow) URL() string { return personPath(f.ID) }

var (
	retentionFromOptions = []option{
		{Value: tillit.RetentionFromCollected, Key: "retention.from.collected_at"},
		{Value: tillit.RetentionFromLastActivity, Key: "retention.from.last_activity_at"},
	}
	retentionModeOptions = []option{
		{Value: tillit.RetentionReview, Key: "retention.mode.review"},
		{Value: tillit.RetentionAutomatic, Key: "retention.mode.automatic"},
	}
)

// retentionPage shows the policy and the flagged people.
func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "retention.title", "retention")
	if err != nil {
		return err
	}
	data, err := s.retentionData(r, false)
	if err != nil {
		return err
	}
	v.Form = policyFormValues(data.Policy)
	v.Data = data
	return s.render(w, http.StatusOK, "retention", v)
}

// retentionData returns the data of the retention page: the stored policy
// and the page of flagged people ?cursor= names. The list is the request's
// event (the people shown) unless keep, when the event is a change's.
func (s *Server) retentionData(r *http.Request, keep bool) (*retentionPage, error) {
	ctx := r.Context()
	pol, err := keepEvent(r, func() (*tillit.RetentionPolicy, error) { return s.people.RetentionPolicy(ctx) })
	if err != nil {
		return nil, err
	}
	cursor := r.URL.Query().Get("cursor")
	var next string
	find := func() ([]*tillit.FlaggedPerson, error) {
		list, n, err := s.people.FlaggedPeople(ctx, cursor, flaggedPageSize)
		next = n
		return list, err
	}
	var flagged []*tillit.FlaggedPerson
	if keep {
		flagged, err = keepEvent(r, find)
	} else {
		flagged, err = find()
	}
	if err != nil {
		return nil, err
	}
	p := tillit.PrincipalFromContext(ctx)
	data := &retentionPage{Policy: pol, CanWrite: p.Can(tillit.PermRetentionWrite), CanErase: p.Can(tillit.PermPersonErase),
		Froms: retentionFromOptions, Modes: retentionModeOptions,
		Automatic: pol != nil && pol.Mode == tillit.RetentionAutomatic}
	now := s.clock.Now()
	for _, f := range flagged {
		data.Flagged = append(data.Flagged, flaggedRow{FlaggedPerson: f, Held: f.Hold.Active(now)})
	}
	if next != "" {
		data.Next = "/retention?" + url.Values{"cursor": {next}}.Encode() + "#flagged"
	}
	return data, nil
}

// policyFormValues returns the policy form of p, or the defaults of a
// tenant without one.
func policyFormValues(p *tillit.RetentionPolicy) url.Values {
	if p == nil {
		return url.Values{"months": {"12"}, "from": {tillit.RetentionFromCollected}, "mode": {tillit.RetentionReview},
			"grace_days": {"30"}}
	}
	return url.Values{"months": {strconv.Itoa(p.Months)}, "from": {p.From}, "mode": {p.Mode},
		"grace_days": {strconv.Itoa(p.GraceDays)}}
}

// retentionPolicyForm previews the posted policy (the "preview" button)
// or saves it; saving an automatic policy asks for a step-up. Saving keeps
// the stored policy's record categories, which the API sets.
func (s *Server) retentionPolicyForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "retention.title", "retention")
	if err != nil {
		return err
	}
	data, err := s.retentionData(r, true)
	if err != nil {
		return err
	}
	v.Data = data
	preview := r.PostFormValue("preview") != ""
	p, err := policyFromForm(r)
	if err == nil {
		if data.Policy != nil {
			p.Categories = data.Policy.Categories
		}
		if preview {
			data.Preview, err = s.people.SetRetentionPolicy(r.Context(), p, true)
		} else {
			// An automatic policy erases people by itself: saving one
			// needs a step-up, asked for as erasing does.
			err = s.withStepUp(w, r, func(ctx context.Context) error {
				var err error
				data.Preview, err = s.people.SetRetentionPolicy(ctx, p, false)
				return err
			})
		}
	}
	if err != nil {
		var f *stepUpFailed
		if tillit.ErrorCode(err) == tillit.EStepUp || errors.As(err, &f) {
			return s.changeError(w, "retention", "retention", v, err)
		}
		return s.formError(w, "retention", "retention", v, policyFormError(err))
	}
	if !preview {
		return seeOther(w, "/retention?notice=retention_saved")
	}
	return s.render(w, http.StatusOK, "retention", v)
}

// policyFromForm returns the policy the form describes. Errors: EInvalid.
func policyFromForm(r *http.Request) (*tillit.RetentionPolicy, error) {
	months, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("months")))
	if err != nil || months < 1 || months > 120 {
		return nil, invalidForm("months", "err.field.months")
	}
	grace, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("grace_days")))
	if err != nil || grace < 0 || grace > 365 {
		return nil, invalidForm("grace_days", "err.field.grace_days")
	}
	return &tillit.RetentionPolicy{Months: months, From: r.PostFormValue("from"), Mode: r.PostFormValue("mode"),
		GraceDays: grace}, nil
}

// policyFormError returns the service's refusal of a field of the form
// with the catalog's text of that field.
func policyFormError(err error) error {
	if _, ok := err.(*textError); ok || tillit.ErrorCode(err) != tillit.EInvalid {
		return err
	}
	switch f := tillit.ErrorField(err); f {
	case "months", "grace_days", "from", "mode":
		return invalidForm(f, "err.field.retention_"+f)
	}
	return err
}

// retentionDecideForm erases ("action" is "erase", with a step-up) or
// keeps ("keep", with a reason) the flagged people ticked ("id"), and
// shows what it did.
func (s *Server) retentionDecideForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "retention.title", "retention")
	if err != nil {
		return err
	}
	d := tillit.RetentionDecision{Action: r.PostFormValue("action"), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	for _, s := range r.PostForm["id"] {
		id, err := parseID("id", s)
		if err != nil {
			return tillit.FieldErrorf("id", "the form is not the retention page's; load the page again")
		}
		d.IDs = append(d.IDs, id)
	}
	var res *tillit.RetentionDecisionResult
	switch {
	case len(d.IDs) == 0:
		err = invalidForm("", "err.retention.none_selected")
	case d.Reason == "":
		err = invalidForm("reason", "err.field.reason")
	default:
		err = s.withStepUp(w, r, func(ctx context.Context) error {
			var err error
			res, err = s.people.DecideRetention(ctx, d)
			return err
		})
	}
	data, derr := s.retentionData(r, true)
	if derr != nil {
		return derr
	}
	v.Data = data
	if err != nil {
		var f *stepUpFailed
		if tillit.ErrorCode(err) != tillit.EStepUp && !errors.As(err, &f) {
			v.Form = mergeForm(policyFormValues(data.Policy), r.PostForm)
			if _, ok := v.Form["reason"]; !ok {
				v.Form.Set("reason", "")
			}
			v.Path = "/retention"
		}
		if tillit.ErrorField(err) == "reason" || tillit.ErrorField(err) == "action" {
			err = withField(err, tillit.ErrorField(err))
		}
		return s.changeError(w, "retention", "decide", v, err)
	}
	v.Path = "/retention"
	v.Form = policyFormValues(data.Policy)
	data.Result = res
	return s.render(w, http.StatusOK, "retention", v)
}

// mergeForm returns base with the values of over added.
func mergeForm(base, over url.Values) url.Values {
	for k, vals := range over {
		base[k] = vals
	}
	return base
}
