package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// isPagePath reports whether the errors of a request for path are answered
// as an HTML page for a person: every path but the API's and the probes'.
func isPagePath(path string) bool {
	return !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/readyz"
}

// writePageError answers the error of a console request: the page its
// handler rendered (a form again, with what is wrong); a redirect to the
// sign-in page when the person is not, or no longer, signed in; or else an
// error page in the person's language. status is that of the error's code.
func (s *Server) writePageError(w http.ResponseWriter, r *http.Request, err error, code string, status int) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Cache-Control", "no-store")
	var m *methodNotAllowedError
	if errors.As(err, &m) {
		status = http.StatusMethodNotAllowed
		h.Set("Allow", m.allow)
	}
	if d := tillit.RetryAfter(err); code == tillit.ETooMany && d > 0 {
		h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	var pe *pageError
	if errors.As(err, &pe) {
		for k, v := range pe.header {
			h[k] = v
		}
		h.Del("Location")
		w.WriteHeader(status)
		w.Write(pe.body)
		return
	}
	if code == tillit.EUnauthenticated {
		seeOther(w, signInURL(r))
		return
	}
	s.writeErrorPage(w, r, err, code, status)
}

// signInURL is where a request without a valid session is sent: the
// sign-in page, saying the session ended if the browser had one, and
// coming back to the page asked for.
func signInURL(r *http.Request) string {
	q := url.Values{}
	switch c, err := r.Cookie(sessionCookie); {
	case isSignInPath(r.URL.Path):
		q.Set("notice", "signin_expired")
	case err == nil && c.Value != "":
		q.Set("notice", "session_ended")
	}
	if r.Method == http.MethodGet && r.URL.Path != "/" && !isSignInPath(r.URL.Path) {
		q.Set("next", localPath(r.URL.Path, "/"))
	}
	if len(q) == 0 {
		return "/signin"
	}
	return "/signin?" + q.Encode()
}

// isSignInPath reports whether path is a page of the sign-in flow, which
// needs a pending sign-in rather than a session.
func isSignInPath(path string) bool {
	return path == "/signin" || strings.HasPrefix(path, "/signin/") ||
		path == "/invite" || path == "/reset" || path == "/password/forgot"
}

// errorPage is the data of the error page.
type errorPage struct {
	Code      string
	Status    int
	Message   string
	RequestID string
}

// writeErrorPage renders the error page. If even that fails, the person
// gets the status and its plain text.
func (s *Server) writeErrorPage(w http.ResponseWriter, r *http.Request, err error, code string, status int) {
	v := newView(r, "error."+code+".title", "")
	v.Notice = ""
	data := errorPage{Code: code, Status: status, Message: v.errorText("page", err)}
	if req := tillit.RequestFromContext(r.Context()); req != nil {
		data.RequestID = req.Event.RequestID
	}
	v.Data = data
	body, rerr := renderPage("error", v)
	if rerr != nil {
		s.logError(r, rerr)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(http.StatusText(status) + "\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// errorText returns what to tell the person about err, in the view's
// language: the form's own text for the code ("err.signin.unauthenticated"),
// else the service's message in English, else the text of the field at
// fault, else that of the code. Internal errors never show their cause.
func (v *view) errorText(prefix string, err error) string {
	var te *textError
	if errors.As(err, &te) {
		return v.cat.t(te.key)
	}
	code := tillit.ErrorCode(err)
	text := ""
	switch field := tillit.ErrorField(err); {
	case v.cat.has("err." + prefix + "." + code):
		text = v.cat.t("err." + prefix + "." + code)
	case code == tillit.EInternal || code == tillit.EUnavailable:
		text = v.cat.t("err." + code)
	case v.Lang == "en" && tillit.ErrorMessage(err) != "":
		return tillit.ErrorMessage(err)
	case field != "" && v.cat.has("err.field."+field):
		text = v.cat.t("err.field." + field)
	case v.cat.has("err." + code):
		text = v.cat.t("err." + code)
	default:
		text = v.cat.t("err.internal")
	}
	if d := tillit.RetryAfter(err); code == tillit.ETooMany && d > 0 {
		text += " " + v.cat.tf("err.retry_minutes", int((d+time.Minute-1)/time.Minute))
	}
	return text
}
