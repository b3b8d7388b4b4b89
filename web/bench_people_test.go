package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// BenchmarkPersonRequests measures the register's hot requests end to end
// over HTTPS with 16 concurrent clients: get a person by id, and look one up
// by e-mail. Every request is audited.
func BenchmarkPersonRequests(b *testing.B) {
	for _, dialect := range sqldbtest.Engines(b) {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			_, secret := e.token(e.tenant("acme"), tillit.RoleCaseworker)
			ts := httptest.NewTLSServer(e.h)
			b.Cleanup(ts.Close)
			client := ts.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			do := func(method, path, body string, want int, out any) error {
				req, err := http.NewRequest(method, ts.URL+path, bytes.NewBufferString(body))
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+secret)
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				data, err := io.ReadAll(resp.Body)
				if err != nil {
					return err
				}
				if resp.StatusCode != want {
					return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, data)
				}
				if out != nil {
					return json.Unmarshal(data, out)
				}
				return nil
			}
			const n = 1000
			ids := make([]int64, n)
			for i := range n {
				var p tillit.Person
				body := fmt.Sprintf(`{"given_name":"Kari","family_name":"Nordmann","email":"kari%d@example.com","phone":"+4791%06d","address":{"city":"Oslo"}}`, i, i)
				if err := do("POST", "/api/v1/people", body, 201, &p); err != nil {
					b.Fatal(err)
				}
				ids[i] = p.ID
			}
			var next atomic.Int64 // across the runs of the sub-benchmark: e-mails stay unique
			b.Run("create", func(b *testing.B) {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1)
						body := fmt.Sprintf(`{"given_name":"Kari","family_name":"Nordmann","email":"new%d@example.com","phone":"+4792%06d","address":{"city":"Oslo"}}`, i, i)
						if err := do("POST", "/api/v1/people", body, 201, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run("get", func(b *testing.B) {
				b.SetParallelism(8) // 16 clients on 2 CPUs
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := do("GET", fmt.Sprintf("/api/v1/people/%d", ids[rand.IntN(n)]), "", 200, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run("lookup", func(b *testing.B) {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						body := fmt.Sprintf(`{"email":"KARI%d@example.com"}`, rand.IntN(n))
						if err := do("POST", "/api/v1/people/lookup", body, 200, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
