package peoplefile_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"tillit"
	"tillit/peoplefile"
)

func TestNDJSON(t *testing.T) {
	invalid := func(field, msg string) error { return &tillit.Error{Code: tillit.EInvalid, Field: field, Message: msg} }
	tests := []struct {
		name string
		in   string
		want []result
	}{
		{"valid", `{"given_name":"Kari","email":"kari@example.no","address":{"city":"Oslo","country":"NO"},` +
			`"attributes":{"member_no":42,"active":true},"collected_at":"2024-05-01T12:00:00Z"}` + "\n",
			[]result{{p: &tillit.Person{GivenName: "Kari", Email: "kari@example.no",
				Address:     &tillit.Address{City: "Oslo", Country: "NO"},
				Attributes:  map[string]any{"member_no": 42.0, "active": true},
				CollectedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}, line: 1}}},
		{"collected_at as a date", `{"given_name":"Kari","collected_at":"2024-05-01"}`,
			[]result{{p: &tillit.Person{GivenName: "Kari", CollectedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}, line: 1}}},
		{"exported keys accepted", `{"id":7,"given_name":"Kari","updated_at":"2024-05-01T12:00:00Z","last_activity_at":null}`,
			[]result{{p: &tillit.Person{ID: 7, GivenName: "Kari"}, line: 1}}},
		{"blank lines, CRLF, BOM, no final newline", "\uFEFF{\"given_name\":\"Kari\"}\r\n\r\n   \n{\"given_name\":\"Ola\"}",
			[]result{
				{p: &tillit.Person{GivenName: "Kari"}, line: 1},
				{p: &tillit.Person{GivenName: "Ola"}, line: 4},
			}},
		{"invalid JSON", "{\"given_name\": SECRET}\n{\"given_name\":\"SECRET\"\n{\"given_name\":\"Ola\"}\n",
			[]result{
				{err: invalid("", "the line is not valid JSON"), line: 1},
				{err: invalid("", "the line is not valid JSON"), line: 2},
				{p: &tillit.Person{GivenName: "Ola"}, line: 3},
			}},
		{"unknown key", `{"given_name":"SECRET","foo":"SECRET"}` + "\n" + `{"address":{"town":"SECRET"}}`,
			[]result{
				{err: invalid("foo", `unknown key "foo"`), line: 1},
				{err: invalid("town", `unknown key "town"`), line: 2},
			}},
		{"unknown attribute", `{"given_name":"SECRET","attributes":{"shoe_size":42,"member_no":1}}`,
			[]result{{err: invalid("attributes.shoe_size", `unknown attribute "shoe_size"`), line: 1}}},
		{"wrong types", `{"given_name":12345}` + "\n" + `{"address":"SECRET"}` + "\n" + `{"id":"SECRET"}` + "\n" + `{"attributes":[1]}`,
			[]result{
				{err: invalid("given_name", "given_name must be a string"), line: 1},
				{err: invalid("address", "address must be an object"), line: 2},
				{err: invalid("id", "id must be a whole number"), line: 3},
				{err: invalid("attributes", "attributes must be an object"), line: 4},
			}},
		{"bad collected_at", `{"collected_at":"SECRET"}` + "\n" + `{"collected_at":5}`,
			[]result{
				{err: invalid("collected_at", "collected_at must be an RFC 3339 time"), line: 1},
				{err: invalid("collected_at", "collected_at must be a string"), line: 2},
			}},
		{"not an object", "[\"SECRET\"]\nnull\n\"SECRET\"\n",
			[]result{
				{err: invalid("", "the line is not a JSON object"), line: 1},
				{err: invalid("", "the line is not a JSON object"), line: 2},
				{err: invalid("", "the line is not a JSON object"), line: 3},
			}},
		{"two objects on a line", `{"given_name":"Kari"} {"given_name":"SECRET"}` + "\n" + `{} SECRET`,
			[]result{
				{err: invalid("", "more than one JSON value"), line: 1},
				{err: invalid("", "more than one JSON value"), line: 2},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResults(t, readAll(t, mustReader(t, tt.in, peoplefile.NDJSON)), tt.want)
		})
	}
}

// TestNDJSONLongLine checks that a line over 1 MiB is refused and skipped,
// and the next line read.
func TestNDJSONLongLine(t *testing.T) {
	long := `{"given_name":"` + strings.Repeat("x", 2<<20) + `"}`
	exact := `{"given_name":"` + strings.Repeat("y", peoplefile.MaxLine-len(`{"given_name":""}`)) + `"}`
	tests := []struct {
		name string
		in   string
		want []result
	}{
		{"then a line", long + "\n" + `{"given_name":"Kari"}` + "\n",
			[]result{
				{err: tillit.Errorf(tillit.EInvalid, "line is longer than 1 MiB"), line: 1},
				{p: &tillit.Person{GivenName: "Kari"}, line: 2},
			}},
		{"last, no newline", `{"given_name":"Kari"}` + "\n" + long,
			[]result{
				{p: &tillit.Person{GivenName: "Kari"}, line: 1},
				{err: tillit.Errorf(tillit.EInvalid, "line is longer than 1 MiB"), line: 2},
			}},
		{"just 1 MiB, CRLF", exact + "\r\n" + exact + "x\r\n",
			[]result{
				{p: &tillit.Person{GivenName: exact[len(`{"given_name":"`) : len(exact)-2]}, line: 1},
				{err: tillit.Errorf(tillit.EInvalid, "line is longer than 1 MiB"), line: 2},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResults(t, readAll(t, mustReader(t, tt.in, peoplefile.NDJSON)), tt.want)
		})
	}
}

func TestNDJSONReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(`{"given_name":"Kari"}`+"\n"), iotest.ErrReader(boom))
	src, err := peoplefile.NewReader(r, peoplefile.NDJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, line, err := src.Next(); err != nil || p.GivenName != "Kari" || line != 1 {
		t.Fatalf("Next = %+v, %d, %v; want Kari on line 1", p, line, err)
	}
	for range 2 {
		if _, _, err := src.Next(); err != boom {
			t.Fatalf("Next error = %v, want %v as is", err, boom)
		}
	}
}
