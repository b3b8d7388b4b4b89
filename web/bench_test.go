package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
	"tillit/web"
)

// nopRecorder stores nothing. It exists only so that the benchmark can show
// what recording the audit event adds to a request; no server uses it.
type nopRecorder struct{}

func (nopRecorder) RecordEvent(context.Context, *tillit.Event, ...*tillit.Event) error { return nil }

// BenchmarkAuthenticatedRequest measures GET /api/v1/me end to end over
// HTTPS on keep-alive connections: TLS, routing, token look-up, the tenant
// read, the audit event's group commit, and the answer. "unaudited" is the
// same request with the event thrown away: the difference is what the audit
// log adds to a request.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	for _, dialect := range sqldbtest.Engines(b) {
		for _, audited := range []bool{true, false} {
			name := dialect + "/audited"
			var modify []func(*web.Config)
			if !audited {
				name = dialect + "/unaudited"
				modify = append(modify, func(c *web.Config) { c.Recorder = nopRecorder{} })
			}
			b.Run(name, func(b *testing.B) { benchMe(b, newEnv(b, dialect, modify...)) })
		}
	}
}

func benchMe(b *testing.B, e *env) {
	_, secret := e.token(e.tenant("acme"), tillit.RoleReader)
	ts := httptest.NewTLSServer(e.h)
	b.Cleanup(ts.Close)
	client := ts.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	get := func() error {
		req, err := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil { // open the connection outside the measurement
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := get(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := get(); err != nil {
					b.Error(err) // Fatal may not be called from these goroutines
					return
				}
			}
		})
	})
}
