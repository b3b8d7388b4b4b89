package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"tillit"
)

// view is what every console page is rendered from: the layout's parts
// (language, who is signed in, a notice), the form being filled in and what
// is wrong with it, and the page's own data.
type view struct {
	Lang   string
	Title  string // the catalog key of the page's title
	Path   string // the page's path and query, for the language switcher's way back
	Langs  []langChoice
	Me     *consoleMe // the signed-in person; nil on the sign-in pages
	Nav    string     // the current section of the navigation: "home", "users", …
	Notice string     // a catalog key shown on top of the page, or ""
	Errors []fieldError
	StepUp bool       // show the step-up form, carrying the form's fields along
	Form   url.Values // what the person sent, to fill the form in again
	Data   any        // the page's own data

	cat *catalog
}

// langChoice is one button of the language switcher.
type langChoice struct {
	Code, Name string
	Current    bool
}

// consoleMe is the signed-in person as the layout shows them.
type consoleMe struct {
	Name        string // the principal's label, "user:3"
	Email       string // the start page's, where known
	Kind        tillit.PrincipalKind
	Role        tillit.Role
	TenantName  string
	TenantSlug  string
	IdleUntil   time.Time
	IdleSeconds int // seconds left until the session idles out, when rendered
	CanUsers    bool
	CanSettings bool
	CanPeople   bool // the register's pages: person:read, on a server with a register
	CanSchema   bool // the register's schema: tenant:read, on a server with a register
}

// fieldError is one thing wrong with a form: Field is the input's name, or
// "" for the form as a whole.
type fieldError struct {
	Field, Message string
}

// newView returns the view of a page titled by the catalog key title, in
// the language of the request (tenantLocale once the tenant is known).
func newView(r *http.Request, title, tenantLocale string) *view {
	lang := pickLang(r, tenantLocale)
	v := &view{Lang: lang, Title: title, Path: localPath(r.URL.RequestURI(), "/"),
		Form: r.PostForm, cat: consoleUI().catalogs[lang]}
	for _, code := range tillit.Locales {
		v.Langs = append(v.Langs, langChoice{Code: code, Name: langNames[code], Current: code == lang})
	}
	if n := r.URL.Query().Get("notice"); n != "" && v.cat.has("notice."+n) {
		v.Notice = "notice." + n
	}
	return v
}

// signedInView returns the view of a page for the principal of the
// request: its tenant (whose locale the page then speaks) and when its
// session idles out. Reading the tenant does not change the request's
// audit event: the page's route names it.
func (s *Server) signedInView(r *http.Request, title, nav string) (*view, error) {
	p := tillit.PrincipalFromContext(r.Context())
	if p == nil {
		return nil, tillit.Errorf(tillit.EUnauthenticated, "sign in first")
	}
	me := &consoleMe{Name: p.Name, Kind: p.Kind, Role: p.Role,
		CanUsers: p.Can(tillit.PermUserRead), CanSettings: p.Can(tillit.PermTenantRead),
		CanPeople: s.people != nil && p.Can(tillit.PermPersonRead), CanSchema: s.people != nil && p.Can(tillit.PermTenantRead)}
	locale := ""
	if p.TenantID != 0 {
		t, err := keepEvent(r, func() (*tillit.Tenant, error) { return s.tenants.CurrentTenant(r.Context()) })
		if err != nil {
			return nil, err
		}
		me.TenantName, me.TenantSlug, locale = t.Name, t.Slug, t.Settings.Locale
	}
	if p.IdleUntil != nil {
		me.IdleUntil = *p.IdleUntil
		me.IdleSeconds = max(0, int(p.IdleUntil.Sub(s.clock.Now()).Seconds()))
	}
	v := newView(r, title, locale)
	v.Me, v.Nav = me, nav
	return v, nil
}

// keepEvent runs f, a read a page makes beside its purpose, and restores
// the request's audit event as it was, in case f described itself.
func keepEvent[T any](r *http.Request, f func() (T, error)) (T, error) {
	req := tillit.RequestFromContext(r.Context())
	if req == nil {
		return f()
	}
	action, target, fields := req.Event.Action, req.Event.Target, req.Event.Fields
	out, err := f()
	req.Event.Action, req.Event.Target, req.Event.Fields = action, target, fields
	return out, err
}

// addError shows err on the form: on its field if the form has an input of
// that name, else above the form. prefix names the form's own texts.
func (v *view) addError(prefix string, err error) {
	field := tillit.ErrorField(err)
	if code := tillit.ErrorCode(err); field == "" && (code == tillit.EUnauthenticated || code == tillit.EInvalid) {
		field = refusedField[prefix]
	}
	if _, ok := v.Form[field]; !ok {
		field = ""
	}
	v.Errors = append(v.Errors, fieldError{Field: field, Message: v.errorText(prefix, err)})
}

// refusedField is the input of a form that a refusal without a field is
// about: a wrong code is the code's fault, a wrong current password the
// current password's. The sign-in form has none: it never says which of
// its inputs was wrong.
var refusedField = map[string]string{"mfa": "code", "enroll": "code", "password": "current"}

// Value returns what the person sent in the form's field name.
func (v *view) Value(name string) string { return v.Form.Get(name) }

// Err returns the message of the field's error, or "".
func (v *view) Err(name string) string {
	for _, e := range v.Errors {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

// fieldView is one labelled input, rendered by the "field" template with
// its hint and error linked by aria-describedby.
type fieldView struct {
	Name, Type, Label, Value, Error, Hint string
	Autocomplete, InputMode, Min, Max     string
	Required, Focus                       bool
}

// Field returns the input name of type typ labelled by the catalog key
// label. Options are "autocomplete=…", "inputmode=…", "hint=<key>",
// "min=…", "max=…", "value=…" (a default), "required" and "autofocus".
// Secret inputs (passwords, codes) are never filled in again.
func (v *view) Field(name, typ, label string, opts ...string) fieldView {
	f := fieldView{Name: name, Type: typ, Label: label, Error: v.Err(name)}
	if typ != "password" && !strings.HasSuffix(name, "code") {
		f.Value = v.Value(name)
	}
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "autocomplete":
			f.Autocomplete = val
		case "inputmode":
			f.InputMode = val
		case "hint":
			f.Hint = val
		case "min":
			f.Min = val
		case "max":
			f.Max = val
		case "value":
			if f.Value == "" {
				f.Value = val
			}
		case "required":
			f.Required = true
		case "autofocus":
			f.Focus = len(v.Errors) == 0
		}
	}
	return f
}
