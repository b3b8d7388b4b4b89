package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"tillit"
)

// recordTimeout bounds the wait for the audit log at the end of a request.
const recordTimeout = 10 * time.Second

// audited serves an API request fail closed: serve writes into a buffer;
// then the request's event gets its outcome and, unless a change's
// transaction already wrote it, is recorded; only then is the buffer sent.
// If the event cannot be recorded, the buffered answer is discarded and the
// client gets 503.
func (s *Server) audited(w http.ResponseWriter, r *http.Request, serve handlerFunc) {
	req := tillit.RequestFromContext(r.Context())
	buf := newBufferedWriter()
	buf.conn = w // for a handler that streams once its event is recorded (streamAfterRecord)
	err := s.call(serve, buf, r)
	req.Event.Outcome = tillit.OutcomeOK
	if err != nil {
		buf.reset()
		s.writeError(buf, r, err)
		req.Event.Outcome = tillit.ErrorCode(err)
	}
	if !req.Recorded {
		if err := s.record(r.Context(), req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	buf.flushTo(w)
}

// record writes the request's event. It does not give up when the client
// goes away: the handler has run, so its event must be stored.
func (s *Server) record(ctx context.Context, req *tillit.Request) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	also := make([]*tillit.Event, len(req.Also))
	for i, a := range req.Also {
		e := req.Event
		e.Target, e.Fields = a.Target, a.Fields
		also[i] = &e
	}
	if err := s.recorder.RecordEvent(ctx, &req.Event, also...); err != nil {
		return &tillit.Error{
			Code:    tillit.EUnavailable,
			Message: "the request could not be written to the audit log, so it was not answered; try again later",
			Err:     err,
		}
	}
	req.Recorded = true
	return nil
}

// serveUnmatched answers and audits a request no route matched: h is the
// mux's own handler, run into a buffer only to learn whether the path exists
// with other methods (405, with Allow) or not at all (404).
func (s *Server) serveUnmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	req := tillit.RequestFromContext(r.Context())
	req.Event.Action, req.Event.Target = actionUnmatched, ""
	s.audited(w, r, func(w http.ResponseWriter, r *http.Request) error {
		probe := newBufferedWriter()
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			return methodNotAllowed(probe.header.Get("Allow"))
		}
		return tillit.Errorf(tillit.ENotFound, "no resource has this path; see the API documentation for the routes")
	})
}

// bufferedWriter holds a response until the request's event is recorded.
// API responses are small, so holding them costs little.
type bufferedWriter struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	conn     http.ResponseWriter // the connection's writer
	streamed bool                // the answer went straight to conn (streamAfterRecord)
}

func newBufferedWriter() *bufferedWriter {
	return &bufferedWriter{header: make(http.Header)}
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 && status >= 200 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// reset forgets everything written so far.
func (b *bufferedWriter) reset() {
	clear(b.header)
	b.status = 0
	b.body.Reset()
}

// flushTo sends the buffered response to w. Its headers are added to those
// w has (the security headers), replacing any of the same name.
func (b *bufferedWriter) flushTo(w http.ResponseWriter) {
	if b.streamed {
		return
	}
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	if status != http.StatusNoContent && status != http.StatusNotModified {
		h.Set("Content-Length", strconv.Itoa(b.body.Len()))
	}
	w.WriteHeader(status)
	if b.body.Len() > 0 {
		w.Write(b.body.Bytes())
	}
}
