package web

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"tillit"
)

// Step-up in the console. A sensitive change (a role, a block, the
// tenant's settings) that the service refuses with step_up_required is
// shown again with a step-up form: password and a code, with the change's
// own fields carried along in hidden inputs. Sending it steps up, renews
// the session (and its cookie) and makes the change in the same request.

// The inputs of the step-up form. Their names start with "stepup_", so the
// form can carry every other field of the change along.
const (
	stepUpPassword = "stepup_password"
	stepUpMethod   = "stepup_method"
	stepUpCode     = "stepup_code"
)

// stepUpFailed marks an error of the step-up itself (a wrong password or
// code), so that the page shows the step-up form again.
type stepUpFailed struct{ err error }

func (e *stepUpFailed) Error() string { return e.err.Error() }
func (e *stepUpFailed) Unwrap() error { return e.err }

// withStepUp runs change as the request's principal. If the form carries a
// step-up, it first steps up, gives the browser the new session's cookie
// and runs change as the stepped-up session. The step-up records its own
// audit event; the change's is recorded as usual after it.
func (s *Server) withStepUp(w http.ResponseWriter, r *http.Request, change func(ctx context.Context) error) error {
	ctx := r.Context()
	if pw := r.PostFormValue(stepUpPassword); pw != "" {
		method := r.PostFormValue(stepUpMethod)
		if method != tillit.FactorRecovery && method != tillit.FactorSMS {
			method = tillit.FactorTOTP
		}
		req := tillit.RequestFromContext(ctx)
		var saved tillit.Event
		if req != nil {
			saved = req.Event
		}
		in, err := s.auth.StepUp(ctx, pw, method, r.PostFormValue(stepUpCode))
		if err != nil {
			return &stepUpFailed{err: err}
		}
		setSessionCookie(w, in)
		p, err := keepEvent(r, func() (*tillit.Principal, error) { return s.auth.AuthenticateSession(ctx, in.Secret) })
		if err != nil {
			return err
		}
		ctx = tillit.NewContextWithPrincipal(ctx, p)
		if req != nil { // the change is an event of its own, after the step-up's
			req.Event.Action, req.Event.Target, req.Event.Fields = saved.Action, saved.Target, saved.Fields
			req.Recorded = false
		}
	}
	return change(ctx)
}

// changeError answers the failure of a sensitive change on page name: the
// page again, with the step-up form if one is needed.
func (s *Server) changeError(w http.ResponseWriter, name, prefix string, v *view, err error) error {
	var f *stepUpFailed
	switch {
	case errors.As(err, &f):
		v.StepUp = true
		prefix = "stepup"
	case tillit.ErrorCode(err) == tillit.EStepUp: // not a mistake: the step-up form says what to do
		v.StepUp = true
		return pageFailure(w, name, v, err)
	}
	return s.formError(w, name, prefix, v, err)
}

// StepUpFields returns the fields of the form to carry along in the
// step-up form: all but the step-up's own inputs.
func (v *view) StepUpFields() [][2]string {
	keys := make([]string, 0, len(v.Form))
	for k := range v.Form {
		if k != stepUpPassword && k != stepUpMethod && k != stepUpCode {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out [][2]string
	for _, k := range keys {
		for _, val := range v.Form[k] {
			out = append(out, [2]string{k, val})
		}
	}
	return out
}

// The tenant's security settings: how long a session may stay idle, and
// whether SMS codes are allowed as a second factor. Anyone who may read the
// tenant sees them; changing them needs tenant:write and a step-up.

// settingsPage is the data of the security settings page.
type settingsPage struct {
	Tenant   *tillit.Tenant
	CanWrite bool
}

// settingsPage shows the tenant's security settings.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	v, data, err := s.settingsView(r)
	if err != nil {
		return err
	}
	v.Data = data
	return s.render(w, http.StatusOK, "settings", v)
}

// settingsView returns the view and data of the settings page.
func (s *Server) settingsView(r *http.Request) (*view, settingsPage, error) {
	v, err := s.signedInView(r, "settings.title", "settings")
	if err != nil {
		return nil, settingsPage{}, err
	}
	t, err := keepEvent(r, func() (*tillit.Tenant, error) { return s.tenants.CurrentTenant(r.Context()) })
	if err != nil {
		return nil, settingsPage{}, err
	}
	p := tillit.PrincipalFromContext(r.Context())
	return v, settingsPage{Tenant: t, CanWrite: p.Can(tillit.PermTenantWrite)}, nil
}

// updateSettingsForm changes the settings, with a step-up when the service
// asks for one.
func (s *Server) updateSettingsForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, data, err := s.settingsView(r)
	if err != nil {
		return err
	}
	u, err := settingsUpdate(r)
	if err == nil {
		err = s.withStepUp(w, r, func(ctx context.Context) error {
			_, err := s.tenants.UpdateSettings(ctx, u)
			return err
		})
	}
	if err != nil {
		v.Data = data
		return s.changeError(w, "settings", "settings", v, err)
	}
	return seeOther(w, "/settings/security?notice=settings_saved")
}

// settingsUpdate returns the change the settings form asks for.
func settingsUpdate(r *http.Request) (tillit.TenantSettingsUpdate, error) {
	minutes, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("session_idle_minutes")))
	if err != nil || minutes < 1 || minutes > 120 {
		return tillit.TenantSettingsUpdate{}, invalidForm("session_idle_minutes", "err.field.session_idle_minutes")
	}
	sms := r.PostFormValue("sms_allowed") == "on"
	return tillit.TenantSettingsUpdate{SessionIdleMinutes: &minutes, SMSAllowed: &sms}, nil
}
