package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"tillit"
)

// The sign-in pages: password first, then a second factor, or — at the
// first sign-in — enrolment of TOTP. Between the two the browser holds the
// pending cookie; the factors the account can use travel in the query of
// the factor page (their names only, nothing about the person).

// signInPage is the data of the sign-in and factor pages.
type signInPage struct {
	Next    string       // where to go once signed in
	Methods []string     // the factors the account can use
	Method  string       // the factor the form asks for
	Links   []methodLink // the other factors with a code
	SMS     bool         // a code may be sent by SMS
	Passkey bool         // a passkey may be used, and the server can check one
}

// methodLink is a link to the factor page asking for another factor.
type methodLink struct {
	Label, URL string
}

// signInForm shows the sign-in form: organisation, e-mail and password.
func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) error {
	v := newView(r, "signin.title", "")
	v.Data = signInPage{Next: localPath(r.URL.Query().Get("next"), "")}
	return s.render(w, http.StatusOK, "signin", v)
}

// signIn checks the password and goes on to the second factor, or to
// enrolment of one.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	next := localPath(r.PostFormValue("next"), "")
	v := newView(r, "signin.title", "")
	v.Data = signInPage{Next: next}
	res, err := s.auth.Login(r.Context(), strings.TrimSpace(r.PostFormValue("tenant")),
		r.PostFormValue("email"), r.PostFormValue("password"))
	if err != nil {
		return s.formError(w, "signin", "signin", v, err)
	}
	s.setPending(w, res)
	return seeOther(w, afterPassword(res, next))
}

// afterPassword returns the page that follows a correct password.
func afterPassword(res *tillit.LoginResult, next string) string {
	q := url.Values{}
	if next != "" {
		q.Set("next", next)
	}
	if res.Next == tillit.NextEnroll {
		return withQuery("/signin/enroll", q)
	}
	q.Set("methods", strings.Join(res.Methods, ","))
	return withQuery("/signin/factor", q)
}

// withQuery returns path with q, if any.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// knownMethods are the factors the factor page can ask for, in the order
// it offers them.
var knownMethods = []string{tillit.FactorTOTP, tillit.FactorRecovery, tillit.FactorSMS, tillit.FactorPasskey}

// factorPage returns the data of the factor page from the request's form
// or query: the account's methods and the one chosen.
func (s *Server) factorPage(r *http.Request) signInPage {
	p := signInPage{Next: localPath(r.FormValue("next"), "")}
	for _, m := range strings.Split(r.FormValue("methods"), ",") {
		if slices.Contains(knownMethods, m) && !slices.Contains(p.Methods, m) {
			p.Methods = append(p.Methods, m)
		}
	}
	if len(p.Methods) == 0 {
		p.Methods = []string{tillit.FactorTOTP, tillit.FactorRecovery}
	}
	if !slices.Contains(p.Methods, tillit.FactorRecovery) {
		p.Methods = append(p.Methods, tillit.FactorRecovery) // every account has recovery codes
	}
	p.Passkey = slices.Contains(p.Methods, tillit.FactorPasskey) && s.hasRoute("POST", passkeyLoginBegin)
	p.SMS = slices.Contains(p.Methods, tillit.FactorSMS)
	p.Method = r.FormValue("method")
	if p.Method == tillit.FactorPasskey || !slices.Contains(p.Methods, p.Method) {
		p.Method = tillit.FactorTOTP
		if !slices.Contains(p.Methods, p.Method) {
			p.Method = tillit.FactorRecovery
		}
	}
	for _, m := range []string{tillit.FactorTOTP, tillit.FactorRecovery} { // SMS: a button sends the code
		if m != p.Method && slices.Contains(p.Methods, m) {
			q := url.Values{"methods": {strings.Join(p.Methods, ",")}, "method": {m}}
			if p.Next != "" {
				q.Set("next", p.Next)
			}
			p.Links = append(p.Links, methodLink{Label: "mfa.use_" + m, URL: withQuery("/signin/factor", q)})
		}
	}
	return p
}

// factorForm asks for the second factor of a pending sign-in.
func (s *Server) factorForm(w http.ResponseWriter, r *http.Request) error {
	if pendingSecret(r) == "" {
		return seeOther(w, "/signin?notice=signin_expired")
	}
	v := newView(r, "mfa.title", "")
	v.Data = s.factorPage(r)
	return s.render(w, http.StatusOK, "factor", v)
}

// factor completes a pending sign-in with a code of the chosen factor.
func (s *Server) factor(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if pendingSecret(r) == "" {
		return seeOther(w, "/signin?notice=signin_expired")
	}
	v := newView(r, "mfa.title", "")
	page := s.factorPage(r)
	v.Data = page
	in, err := s.auth.VerifySecondFactor(r.Context(), pendingSecret(r), page.Method, r.PostFormValue("code"))
	if err != nil {
		return s.formError(w, "factor", "mfa", v, err)
	}
	setSessionCookie(w, in)
	return seeOther(w, localPath(page.Next, "/"))
}

// sendSMS sends a sign-in code by SMS and asks for it.
func (s *Server) sendSMS(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := newView(r, "mfa.title", "")
	page := s.factorPage(r)
	v.Data = page
	if err := s.auth.SendSMSCode(r.Context(), pendingSecret(r)); err != nil {
		return s.formError(w, "factor", "sms", v, err)
	}
	q := url.Values{"methods": {strings.Join(page.Methods, ",")}, "method": {tillit.FactorSMS}, "notice": {"sms_sent"}}
	if page.Next != "" {
		q.Set("next", page.Next)
	}
	return seeOther(w, withQuery("/signin/factor", q))
}

// hasRoute reports whether the server serves method and pattern: the
// console offers passkeys only when the API that checks them is there.
func (s *Server) hasRoute(method, pattern string) bool {
	return slices.ContainsFunc(s.routes, func(rt Route) bool { return rt.Method == method && rt.Pattern == pattern })
}

// The passkey (WebAuthn) endpoints of the API that the console's script
// calls.
const (
	passkeyLoginBegin    = "/api/v1/auth/passkey/login/begin"
	passkeyRegisterBegin = "/api/v1/auth/passkey/register/begin"
)
