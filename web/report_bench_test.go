package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// BenchmarkPersonReport measures the register extract of a person with
// 1,000 records (and so an access history of 1,001 events) end to end, in
// every format, and the export. Goals: JSON under 300 ms, PDF under 1 s.
func BenchmarkPersonReport(b *testing.B) {
	for _, dialect := range sqldbtest.Engines(b) {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			_, secret := e.token(e.tenant("acme"), tillit.RoleAdmin)
			p := e.mustPerson(secret, `{"given_name":"Åse","family_name":"Ødegård","email":"ase@example.no","phone":"+4791234567"}`)
			body := strings.Repeat("Samtale om avtalen, neste steg og oppfølging. ", 10) // ~470 bytes
			for i := range 1000 {
				w := e.do("POST", personPath(p.ID, "/records"), secret,
					fmt.Sprintf(`{"category":"note","title":"Møte nr. %d","body":%q}`, i, body))
				if w.Code != http.StatusCreated {
					b.Fatalf("record %d: %d %s", i, w.Code, w.Body.String())
				}
			}
			for _, path := range []string{"/report?format=json", "/report?format=html", "/report?format=pdf", "/export"} {
				b.Run(strings.TrimPrefix(strings.TrimPrefix(path, "/report?format="), "/"), func(b *testing.B) {
					var size int
					for b.Loop() {
						w := e.do("GET", personPath(p.ID, path), secret, "")
						if w.Code != http.StatusOK {
							b.Fatalf("%s: %d %s", path, w.Code, w.Body.String())
						}
						size = w.Body.Len()
					}
					b.ReportMetric(float64(size)/1024, "KiB")
				})
			}
		})
	}
}
