package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"tillit"
	"tillit/sqldb"
)

// BenchmarkAuthenticatedRequest measures GET /api/v1/me end to end over
// HTTPS on keep-alive connections: TLS, routing, token look-up, the tenant
// read, the audit event's group commit, and the answer. SQLite in a
// temporary directory.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	e := newEnv(b, sqldb.SQLite)
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
