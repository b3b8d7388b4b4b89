package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The rights of a person on their page (GDPR Art. 15–18): links to the
// register extract and the export, which the API serves to the console's
// session too; restriction of processing and legal holds, each with a
// reason; anonymisation and erasure, each confirmed, with a step-up when
// the session needs one. An erasure or anonymisation answers with its
// signed receipt, shown this once and downloadable.

// personRights is what a person's page offers about the person's rights
// to the principal who sees it.
type personRights struct {
	CanReport   bool   // register extract and export
	CanRestrict bool   // restriction and legal hold
	CanErase    bool   // erasure and anonymisation
	HoldActive  bool   // the person's hold still holds
	HoldThrough string // the last day of the hold (UTC), or "" for one until released
}

// Any reports whether the page shows the rights panel at all.
func (r personRights) Any() bool { return r.CanReport || r.CanRestrict || r.CanErase }

// newPersonRights returns the rights panel of p for the principal of r.
func (s *Server) newPersonRights(r *http.Request, p *tillit.Person) personRights {
	pr := tillit.PrincipalFromContext(r.Context())
	out := personRights{CanReport: pr.Can(tillit.PermPersonReport), CanRestrict: pr.Can(tillit.PermPersonRestrict),
		CanErase: pr.Can(tillit.PermPersonErase), HoldActive: p.Hold.Active(s.clock.Now())}
	if out.HoldActive && p.Hold.Until != nil {
		out.HoldThrough = lastDay(*p.Hold.Until)
	}
	return out
}

// lastDay returns the last day (UTC) before the instant until: the day a
// form gave, whose end it was set to.
func lastDay(until time.Time) string { return until.Add(-time.Nanosecond).UTC().Format(time.DateOnly) }

// The navigation of the rights' pages, shown to those who may use them on
// a server with a register.

// CanRequests reports whether the navigation links to the requests inbox.
func (m *consoleMe) CanRequests() bool { return m.CanPeople && m.Role.Can(tillit.PermRequestRead) }

// CanRetention reports whether the navigation links to the retention page.
func (m *consoleMe) CanRetention() bool { return m.CanPeople && m.Role.Can(tillit.PermRetentionRead) }

// CanPurposes reports whether the navigation links to the purposes.
func (m *consoleMe) CanPurposes() bool { return m.CanSchema }

// rightsConsoleRoutes lists the console's routes of people's rights, requests,
// retention and purposes, served when the server has a register.
func (s *Server) rightsConsoleRoutes() []Route {
	if s.people == nil {
		return nil
	}
	return []Route{
		{Method: "POST", Pattern: "/people/{id}/restriction", Action: "console.person.restrict", Access: Requires(tillit.PermPersonRestrict), TargetKind: "person", handle: s.restrictionForm},
		{Method: "POST", Pattern: "/people/{id}/hold", Action: "console.person.hold", Access: Requires(tillit.PermPersonRestrict), TargetKind: "person", handle: s.holdForm},
		{Method: "POST", Pattern: "/people/{id}/erase", Action: "console.person.erase", Access: Requires(tillit.PermPersonErase), TargetKind: "person", handle: s.eraseForm},
		{Method: "POST", Pattern: "/people/{id}/anonymise", Action: "console.person.anonymise", Access: Requires(tillit.PermPersonErase), TargetKind: "person", handle: s.anonymiseForm},

		{Method: "GET", Pattern: "/requests", Action: "console.request.list", Access: Requires(tillit.PermRequestRead), handle: s.requestsPage},
		{Method: "POST", Pattern: "/requests", Action: "console.request.create", Access: Requires(tillit.PermRequestWrite), handle: s.createRequestForm},
		{Method: "GET", Pattern: "/requests/{id}", Action: "console.request.read", Access: Requires(tillit.PermRequestRead), TargetKind: "request", handle: s.requestPage},
		{Method: "POST", Pattern: "/requests/{id}", Action: "console.request.update", Access: Requires(tillit.PermRequestWrite), TargetKind: "request", handle: s.updateRequestForm},

		{Method: "GET", Pattern: "/retention", Action: "console.retention.read", Access: Requires(tillit.PermRetentionRead), handle: s.retentionPage},
		{Method: "POST", Pattern: "/retention", Action: "console.retention.policy", Access: Requires(tillit.PermRetentionWrite), handle: s.retentionPolicyForm},
		{Method: "POST", Pattern: "/retention/decide", Action: "console.retention.decide", Access: Requires(tillit.PermRetentionWrite), handle: s.retentionDecideForm},

		{Method: "GET", Pattern: "/purposes", Action: "console.purpose.read", Access: Requires(tillit.PermTenantRead), handle: s.purposesPage},
		{Method: "POST", Pattern: "/purposes", Action: "console.purpose.update", Access: Requires(tillit.PermPurposeWrite), handle: s.updatePurposesForm},
	}
}

// personActionID returns the id of the person the path names.
func personActionID(r *http.Request) (int64, error) {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return 0, tillit.Errorf(tillit.ENotFound, "no such person")
	}
	return id, nil
}

// personFormFailure answers the failure of a form of the person's page:
// the page again, with err shown on the form (and a step-up form if the
// change needs one).
func (s *Server) personFormFailure(w http.ResponseWriter, r *http.Request, id int64, prefix string, err error) error {
	v, data, verr := s.personView(r, true)
	if verr != nil {
		return verr
	}
	v.Data = data
	var f *stepUpFailed
	if !errors.As(err, &f) && tillit.ErrorCode(err) != tillit.EStepUp {
		v.Path = personPath(id) // the page's own, for the language switcher; a step-up posts to the form's
	}
	if (prefix == "erase" || prefix == "anonymise") && tillit.ErrorCode(err) == tillit.EConflict && data.Rights.HoldActive {
		// The legal hold: its reason is what the person needs to know. A
		// hold that has expired holds nothing: the conflict is another one
		// (anonymised already), shown with its own message.
		v.Errors = append(v.Errors, fieldError{Message: v.cat.tf("err.erase.held", data.Person.Hold.Reason)})
		return pageFailure(w, "person", v, err)
	}
	return s.changeError(w, "person", prefix, v, err)
}

// restrictionForm restricts the processing of the person ("change" is
// "restrict", with a reason) or lifts the restriction ("lift").
func (s *Server) restrictionForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := personActionID(r)
	if err != nil {
		return err
	}
	notice := "restricted"
	switch r.PostFormValue("change") {
	case "lift":
		err, notice = s.people.LiftRestriction(r.Context(), id), "restriction_lifted"
	default:
		reason := strings.TrimSpace(r.PostFormValue("restriction_reason"))
		if reason == "" {
			err = invalidForm("restriction_reason", "err.field.reason")
		} else {
			_, err = s.people.Restrict(r.Context(), id, reason)
			err = withField(err, "restriction_reason")
		}
	}
	if err != nil {
		return s.personFormFailure(w, r, id, "restriction", err)
	}
	return seeOther(w, personPath(id)+"?notice="+notice+"#rights")
}

// holdForm sets a legal hold on the person ("change" is "hold", with a
// reason and an optional last day) or releases it ("release").
func (s *Server) holdForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := personActionID(r)
	if err != nil {
		return err
	}
	notice := "hold_set"
	switch r.PostFormValue("change") {
	case "release":
		err, notice = s.people.ReleaseHold(r.Context(), id), "hold_released"
	default:
		reason := strings.TrimSpace(r.PostFormValue("hold_reason"))
		var until *time.Time
		if u := strings.TrimSpace(r.PostFormValue("hold_until")); u != "" {
			day, perr := time.Parse(time.DateOnly, u)
			if perr != nil {
				err = invalidForm("hold_until", "err.field.hold_until")
			} else {
				end := day.AddDate(0, 0, 1) // the hold lasts through the day given, in UTC
				until = &end
			}
		}
		switch {
		case err != nil:
		case reason == "":
			err = invalidForm("hold_reason", "err.field.reason")
		default:
			_, err = s.people.SetHold(r.Context(), id, reason, until)
			if f := tillit.ErrorField(err); f == "until" {
				err = localizedField(err, "hold_until", "err.field.hold_until")
			} else {
				err = withField(err, "hold_reason")
			}
		}
	}
	if err != nil {
		return s.personFormFailure(w, r, id, "hold", err)
	}
	return seeOther(w, personPath(id)+"?notice="+notice+"#rights")
}

// localizedField returns the EInvalid err as an error of the form's input
// field, with the catalog's text key.
func localizedField(err error, field, key string) error {
	if tillit.ErrorCode(err) != tillit.EInvalid {
		return err
	}
	return invalidForm(field, key)
}

// receiptPage is the data of the page that shows a receipt.
type receiptPage struct {
	Receipt  *tillit.Receipt
	JSON     string       // the receipt as `tillit receipt verify` reads it
	Download template.URL // a data: URL of JSON, to save the receipt
	File     string       // the name to save it under
}

// newReceiptPage returns the receipt page of rc.
func newReceiptPage(rc *tillit.Receipt) (*receiptPage, error) {
	b, err := json.MarshalIndent(rc, "", "  ")
	if err != nil {
		return nil, tillit.Internal(err)
	}
	b = append(b, '\n')
	return &receiptPage{Receipt: rc, JSON: string(b),
		// Built here from JSON only, so it is safe as a URL.
		Download: template.URL("data:application/json;base64," + base64.StdEncoding.EncodeToString(b)),
		File:     rc.Kind + "-receipt-" + strconv.FormatInt(rc.PersonID, 10) + ".json"}, nil
}

// eraseForm erases the person, once confirmed, and shows the receipt.
func (s *Server) eraseForm(w http.ResponseWriter, r *http.Request) error {
	return s.irreversibleForm(w, r, "erase", s.people.ErasePerson)
}

// anonymiseForm anonymises the person, once confirmed, and shows the
// receipt.
func (s *Server) anonymiseForm(w http.ResponseWriter, r *http.Request) error {
	return s.irreversibleForm(w, r, "anonymise", s.people.AnonymisePerson)
}

// irreversibleForm runs do, an erasure or anonymisation of the person the
// path names, once the form confirms it, with a step-up when the service
// asks for one; it answers with the receipt.
func (s *Server) irreversibleForm(w http.ResponseWriter, r *http.Request, prefix string,
	do func(ctx context.Context, id int64) (*tillit.Receipt, error)) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := personActionID(r)
	if err != nil {
		return err
	}
	// Another tenant's person, or no one: not found before any step-up,
	// whose renewed session a failure without a page would not hand over.
	if _, err := keepEvent(r, func() (*tillit.Person, error) { return s.people.FindPersonByID(r.Context(), id) }); err != nil {
		return err
	}
	var rc *tillit.Receipt
	if r.PostFormValue("confirm") != "yes" {
		err = invalidForm("", "err."+prefix+".confirm")
	} else {
		err = s.withStepUp(w, r, func(ctx context.Context) error {
			var err error
			rc, err = do(ctx, id)
			return err
		})
	}
	if err != nil {
		return s.personFormFailure(w, r, id, prefix, err)
	}
	v, err := s.signedInView(r, "receipt."+rc.Kind+".title", "people")
	if err != nil {
		return err
	}
	v.Path = "/people"
	if v.Data, err = newReceiptPage(rc); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "receipt", v)
}
