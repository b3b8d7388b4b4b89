package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// ProblemTypePrefix starts the "type" of every problem the API answers; the
// error code follows it: "urn:tillit:problem:not_found". A URN is stable
// across installations and names no host that may not exist; clients should
// branch on "code", which is the same text.
const ProblemTypePrefix = "urn:tillit:problem:"

// ProblemContentType is the media type of error responses (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is the body of an error response (RFC 9457), with tillit's
// extension members code, field and request_id.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// problemKind is the HTTP face of an error code.
type problemKind struct {
	status int
	title  string
}

// problemKinds is the one table from error code to HTTP status.
var problemKinds = map[string]problemKind{
	tillit.EInvalid:         {http.StatusBadRequest, "Invalid request"},
	tillit.EUnauthenticated: {http.StatusUnauthorized, "Authentication required"},
	tillit.EForbidden:       {http.StatusForbidden, "Forbidden"},
	tillit.ENotFound:        {http.StatusNotFound, "Not found"},
	tillit.EConflict:        {http.StatusConflict, "Conflict"},
	tillit.ETooLarge:        {http.StatusRequestEntityTooLarge, "Request too large"},
	tillit.ETooMany:         {http.StatusTooManyRequests, "Too many requests"},
	tillit.EStepUp:          {http.StatusForbidden, "Step-up required"},
	tillit.EUnavailable:     {http.StatusServiceUnavailable, "Service unavailable"},
	tillit.EInternal:        {http.StatusInternalServerError, "Internal error"},
}

// methodNotAllowedError marks an EInvalid error that is answered 405: the
// closed code set has no code of its own for it.
type methodNotAllowedError struct{ allow string }

func (e *methodNotAllowedError) Error() string { return "method not allowed" }

// methodNotAllowed returns the error of a request whose path exists with
// other methods only.
func methodNotAllowed(allow string) error {
	return &tillit.Error{
		Code:    tillit.EInvalid,
		Message: "this resource does not accept the method; it accepts " + allow,
		Err:     &methodNotAllowedError{allow: allow},
	}
}

// writeError writes err as a problem, or as a page for the console: the
// one place errors are answered.
// Only internal and unavailable errors are logged; the client sees the
// error's message, never its wrapped cause.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := tillit.ErrorCode(err)
	kind, ok := problemKinds[code]
	if !ok { // an unknown code is a bug
		code, kind = tillit.EInternal, problemKinds[tillit.EInternal]
	}
	if code == tillit.EInternal || code == tillit.EUnavailable {
		s.logError(r, err)
	}
	if s.servesPages() && isPagePath(r.URL.Path) { // a person's browser: a page in their language
		s.writePageError(w, r, err, code, kind.status)
		return
	}
	p := Problem{
		Type:   ProblemTypePrefix + code,
		Title:  kind.title,
		Status: kind.status,
		Detail: tillit.ErrorMessage(err),
		Code:   code,
		Field:  tillit.ErrorField(err),
	}
	if req := tillit.RequestFromContext(r.Context()); req != nil {
		p.RequestID = req.Event.RequestID
	}
	h := w.Header()
	var m *methodNotAllowedError
	if errors.As(err, &m) {
		p.Status, p.Title = http.StatusMethodNotAllowed, "Method not allowed"
		h.Set("Allow", m.allow)
	}
	if code == tillit.EUnauthenticated {
		h.Set("WWW-Authenticate", `Bearer realm="tillit"`)
	}
	if d := tillit.RetryAfter(err); code == tillit.ETooMany && d > 0 {
		h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	body, _ := json.Marshal(p) // strings and an int: cannot fail
	h.Set("Content-Type", ProblemContentType)
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	w.Write(append(body, '\n'))
}

// logError logs a failed request with constant keys. It names the request
// by id and action, never by path or query, which may carry anything.
func (s *Server) logError(r *http.Request, err error) {
	attrs := []any{"code", tillit.ErrorCode(err)}
	if req := tillit.RequestFromContext(r.Context()); req != nil {
		attrs = append(attrs, "request_id", req.Event.RequestID, "action", req.Event.Action)
	}
	attrs = append(attrs, "err", strings.TrimSpace(err.Error()))
	s.logger.ErrorContext(r.Context(), "request failed", attrs...)
}
