package web

import (
	"io"
	"net/http"

	"tillit"
)

// streamAfterRecord lets a handler send a long answer as it makes it
// instead of through the audit buffer: it records the request's event
// (fail closed: if that fails, nothing is sent), sends the headers the
// handler set with status 200, and returns the connection's writer. An
// error after this cannot become a problem any more: the handler should
// return it, and the connection is then cut (streamFailed) so that the
// client sees a broken answer, never a short one that looks whole.
func (s *Server) streamAfterRecord(w http.ResponseWriter, r *http.Request) (io.Writer, error) {
	buf, ok := w.(*bufferedWriter)
	if !ok || buf.conn == nil {
		return w, nil // not behind the audit buffer (a test of the handler alone)
	}
	req := tillit.RequestFromContext(r.Context())
	req.Event.Outcome = tillit.OutcomeOK
	if !req.Recorded {
		if err := s.record(r.Context(), req); err != nil {
			return nil, err
		}
	}
	h := buf.conn.Header()
	for k, v := range buf.header {
		h[k] = v
	}
	buf.conn.WriteHeader(http.StatusOK)
	buf.streamed = true
	return buf.conn, nil
}

// streamFailed ends a streamed answer that failed half-way: the connection
// is cut, so the client cannot take what it got for the whole answer.
func streamFailed(w http.ResponseWriter) {
	if buf, ok := w.(*bufferedWriter); ok && buf.streamed {
		panic(http.ErrAbortHandler)
	}
}
