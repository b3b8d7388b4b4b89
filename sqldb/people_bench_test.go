package sqldb_test

import (
	"fmt"
	"io"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// genSource yields n valid people.
type genSource struct {
	prefix string
	i, n   int
}

func (g *genSource) Next() (*tillit.Person, int, error) {
	if g.i >= g.n {
		return nil, 0, io.EOF
	}
	g.i++
	return &tillit.Person{GivenName: "Kari", FamilyName: "Nordmann", Email: fmt.Sprintf("%s-%d@example.com", g.prefix, g.i),
		Phone: fmt.Sprintf("+4791%06d", g.i%1000000), BirthDate: "1980-01-02", Language: "nb",
		Address: &tillit.Address{Street: "Storgata 1", PostalCode: "0155", City: "Oslo", Country: "NO"}}, g.i + 1, nil
}

// BenchmarkImport measures ImportPeople: people per second.
func BenchmarkImport(b *testing.B) {
	for _, dialect := range sqldbtest.Engines(b) {
		b.Run(dialect, func(b *testing.B) {
			db, svc := sqldbtest.People(b, dialect, nil)
			ten := sqldbtest.MustTenant(b, db, "acme")
			_, _, ctx := sqldbtest.MustToken(b, db, ten, tillit.RoleAdmin)
			const n = 20000
			run := 0
			for b.Loop() {
				run++
				res, err := svc.ImportPeople(ctx, &genSource{prefix: fmt.Sprint(run), n: n}, tillit.ImportOptions{}, nil)
				if err != nil || res.Created != n {
					b.Fatal(err, res.Created)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "people/s")
		})
	}
}
