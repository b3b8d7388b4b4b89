package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"tillit"
)

// The security headers of every response. The content security policy is
// the strictest there is; console pages will extend it for their own
// (self-hosted) scripts and styles.
var securityHeaders = [...][2]string{
	{"Strict-Transport-Security", "max-age=63072000; includeSubDomains"},
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
}

// securityValues are securityHeaders as header values, made once: setting
// them is an assignment, not an allocation per header per response. Each
// slice has no spare capacity, so an Add by a handler copies it rather than
// writing into the shared array.
var securityValues = func() (out [len(securityHeaders)]struct {
	key string
	val []string
}) {
	for i, kv := range securityHeaders {
		out[i].key = http.CanonicalHeaderKey(kv[0])
		out[i].val = []string{kv[1]}[:1:1]
	}
	return out
}()

var (
	noStore        = []string{"no-store"}[:1:1]
	consoleCSPVals = []string{consoleCSP}[:1:1]
)

// consoleCSP is the content security policy of the console's pages: its
// own scripts, styles and images only, nothing inline, nothing of another
// origin.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setSecurityHeaders sets the headers every response carries, forbids
// caching of API responses and, when the server has the console (pages),
// lets its pages load their own assets.
func setSecurityHeaders(h http.Header, path string, pages bool) {
	for _, kv := range securityValues {
		h[kv.key] = kv.val
	}
	if strings.HasPrefix(path, "/api/") {
		h["Cache-Control"] = noStore
	}
	if pages && isPagePath(path) {
		h["Content-Security-Policy"] = consoleCSPVals
	}
}

// serveHTTP is the outermost handler: security headers, panic recovery,
// the request's id, client address and audit event, then the route.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header(), r.URL.Path, s.servesPages())
	req := s.newRequest(r)
	w.Header().Set("X-Request-Id", req.Event.RequestID)
	r = r.WithContext(tillit.NewContextWithRequest(r.Context(), req))
	tw := &trackingWriter{ResponseWriter: w}
	defer s.recoverPanic(tw, r)

	if err := s.csrf.Check(r); err != nil {
		// A browser sent a state-changing request from another origin.
		req.Event.Action = "csrf.refused"
		s.audited(tw, r, func(http.ResponseWriter, *http.Request) error {
			return tillit.Errorf(tillit.EForbidden, "cross-origin requests that change state are refused")
		})
		return
	}
	if h, pattern := s.mux.Handler(r); pattern == "" {
		// No route: the mux's own 404 or 405, which we answer as a problem.
		s.serveUnmatched(tw, r, h)
		return
	}
	s.mux.ServeHTTP(tw, r)
}

// anonymous is the actor of a request without a principal.
var anonymous = (*tillit.Principal)(nil).Actor()

// newRequest returns the audit context of r, its event pre-filled with what
// is known before routing. Until a principal is known the event goes to the
// operator log, as the request of an anonymous actor.
func (s *Server) newRequest(r *http.Request) *tillit.Request {
	id, addr := s.requestID(r), s.clientAddr(r)
	return &tillit.Request{
		Event: tillit.Event{
			Log:        tillit.OperatorLog,
			At:         s.clock.Now().UTC().Truncate(time.Microsecond),
			Actor:      anonymous,
			Outcome:    tillit.OutcomeOK, // what a change's transaction records; set again at the end
			RequestID:  id,
			ClientAddr: addr,
		},
	}
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9-]{8,64}$`)

// requestID returns the id of the request: the proxy's X-Request-Id when the
// proxy is trusted and the id is well-formed, else 128 random bits in hex.
func (s *Server) requestID(r *http.Request) string {
	if s.trustProxy {
		if id := r.Header.Get("X-Request-Id"); requestIDRE.MatchString(id) {
			return id
		}
	}
	var b [16]byte
	rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// clientAddr returns the client's IP address: the last X-Forwarded-For
// entry (the one the trusted proxy appended) when the proxy is trusted, else
// the IP of the connection; "" if neither parses.
func (s *Server) clientAddr(r *http.Request) string {
	if s.trustProxy {
		if values := r.Header.Values("X-Forwarded-For"); len(values) > 0 {
			last := values[len(values)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.Unmap().WithZone("").String()
			}
		}
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone("").String()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return ""
}

// recoverPanic answers a panic that escaped the route stack with a 500
// problem, or only logs it when the response has begun. Panics in handlers
// are caught earlier, by call, so that their request is still audited.
func (s *Server) recoverPanic(w *trackingWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	err := tillit.Internal(fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
	if w.wrote {
		s.logError(r, err)
		return
	}
	s.writeError(w, r, err)
}

// call runs h and turns a panic in it into an EInternal error: a panic is a
// bug, and the request is answered and audited like any other failure.
func (s *Server) call(h handlerFunc, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = tillit.Internal(fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	return h(w, r)
}

// trackingWriter remembers whether the response has begun.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(status int) {
	if status >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
