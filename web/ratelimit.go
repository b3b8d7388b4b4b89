package web

import (
	"context"
	"net/http"
	"time"

	"tillit"
)

// Limiter counts events per key in a window, in the database, so that the
// nodes of a cluster share the count.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// The limit on the sign-in endpoints per client address. Generous for a
// shared office address, far too few for guessing passwords.
const (
	signInLimit  = 30
	signInWindow = time.Minute
)

// limit refuses the request with 429 when its client address has used up
// its sign-in attempts.
func (s *Server) limit(r *http.Request) error {
	if s.limiter == nil {
		return nil
	}
	req := tillit.RequestFromContext(r.Context())
	ok, retry, err := s.limiter.Allow(r.Context(), "signin:"+req.Event.ClientAddr, signInLimit, signInWindow)
	if err != nil {
		return err
	}
	if !ok {
		return &tillit.Error{Code: tillit.ETooMany, RetryAfter: retry,
			Message: "too many sign-in attempts from your address; wait a minute and try again"}
	}
	return nil
}
