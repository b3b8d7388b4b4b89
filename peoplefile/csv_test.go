package peoplefile_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"tillit"
	"tillit/peoplefile"
)

func TestCSV(t *testing.T) {
	kari := &tillit.Person{GivenName: "Kari", FamilyName: "Nordmann", Email: "kari@example.no"}
	tests := []struct {
		name string
		in   string
		want []result
	}{
		{"comma", "given_name,family_name,email\nKari,Nordmann,kari@example.no\n",
			[]result{{p: kari, line: 2}}},
		{"semicolon and CRLF", "given_name;family_name;email\r\nKari;Nordmann;kari@example.no\r\n",
			[]result{{p: kari, line: 2}}},
		{"semicolon, commas in values", "given_name;family_name;email\nKari;Nordmann, jr.;kari@example.no\n",
			[]result{{p: &tillit.Person{GivenName: "Kari", FamilyName: "Nordmann, jr.", Email: "kari@example.no"}, line: 2}}},
		{"comma, semicolons in quotes", "\"given_name\",\"family_name\",email\n\"Kari;\",Nordmann,kari@example.no\n",
			[]result{{p: &tillit.Person{GivenName: "Kari;", FamilyName: "Nordmann", Email: "kari@example.no"}, line: 2}}},
		{"bom", "\uFEFFgiven_name;family_name;email\nKari;Nordmann;kari@example.no\n",
			[]result{{p: kari, line: 2}}},
		{"header trimmed and lower-cased", " Given_Name , FAMILY_NAME,Email\nKari,Nordmann,kari@example.no\n",
			[]result{{p: kari, line: 2}}},
		{"no final newline", "given_name,family_name,email\nKari,Nordmann,kari@example.no",
			[]result{{p: kari, line: 2}}},
		{"values trimmed", "given_name,family_name,email\n Kari ,Nordmann, kari@example.no \n",
			[]result{{p: kari, line: 2}}},
		{"leading empty lines", "\n\r\ngiven_name;family_name;email\nKari;Nordmann;kari@example.no\n",
			[]result{{p: kari, line: 4}}},
		{"header longer than the first peek", "given_name;family_name" + strings.Repeat(" ", 3000) + ";email\nKari;Nordmann;kari@example.no\n",
			[]result{{p: kari, line: 2}}},
		{"header only", "given_name,email\n", nil},
		{"quoted newlines", "given_name,street\nKari,\"Storgata 1\nOppgang B\"\n\"Ola\nNormann\",\"Gate 2\"\nPer,Vei 3\n",
			[]result{
				{p: &tillit.Person{GivenName: "Kari", Address: &tillit.Address{Street: "Storgata 1\nOppgang B"}}, line: 2},
				{p: &tillit.Person{GivenName: "Ola\nNormann", Address: &tillit.Address{Street: "Gate 2"}}, line: 4},
				{p: &tillit.Person{GivenName: "Per", Address: &tillit.Address{Street: "Vei 3"}}, line: 6},
			}},
		{"blank lines and empty rows skipped", "given_name;email\n\n;\n  \nKari;\n\r\n;;\n",
			[]result{
				{p: &tillit.Person{GivenName: "Kari"}, line: 5},
			}},
		{"wrong field counts", "given_name,family_name,email\nKari,Nordmann\nOla,Nordmann,ola@example.no,SECRET\nPer,Hansen,per@example.no\n",
			[]result{
				{err: fieldCount(2, 3), line: 2},
				{err: fieldCount(4, 3), line: 3},
				{p: &tillit.Person{GivenName: "Per", FamilyName: "Hansen", Email: "per@example.no"}, line: 4},
			}},
		{"bare quote", "given_name,email\nKa\"SECRET,kari@example.no\nOla,ola@example.no\n",
			[]result{
				{err: tillit.Errorf(tillit.EInvalid, "the line is not valid CSV"), line: 2},
				{p: &tillit.Person{GivenName: "Ola", Email: "ola@example.no"}, line: 3},
			}},
		{"empty cells omitted", "given_name;family_name;email;phone;member_no;active;street;city\nKari;;;;;;;\n",
			[]result{{p: &tillit.Person{GivenName: "Kari"}, line: 2}}},
		{"address assembled", "given_name,street,postal_code,city,country\nKari,Storgata 1,0150,Oslo,NO\nOla,,,Bergen,\nPer,,,,\n",
			[]result{
				{p: &tillit.Person{GivenName: "Kari", Address: &tillit.Address{Street: "Storgata 1", PostalCode: "0150", City: "Oslo", Country: "NO"}}, line: 2},
				{p: &tillit.Person{GivenName: "Ola", Address: &tillit.Address{City: "Bergen"}}, line: 3},
				{p: &tillit.Person{GivenName: "Per"}, line: 4},
			}},
		{"standard columns", "national_id,national_id_country,birth_date,phone,language\n01017012345,NO,1970-01-01,+4791234567,nb\n",
			[]result{{p: &tillit.Person{NationalID: "01017012345", NationalIDCountry: "NO", BirthDate: "1970-01-01", Phone: "+4791234567", Language: "nb"}, line: 2}}},
		{"collected_at", "given_name,collected_at\nKari,2024-05-01\nOla,2024-05-01T12:30:00+02:00\nPer,01.05.2024 SECRET\nLise,\n",
			[]result{
				{p: &tillit.Person{GivenName: "Kari", CollectedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}, line: 2},
				{p: &tillit.Person{GivenName: "Ola", CollectedAt: time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC)}, line: 3},
				{err: tillit.FieldErrorf("collected_at", "collected_at must be"), line: 4},
				{p: &tillit.Person{GivenName: "Lise"}, line: 5},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResults(t, readAll(t, mustReader(t, tt.in, peoplefile.CSV)), tt.want)
		})
	}
}

func fieldCount(n, m int) error {
	return tillit.Errorf(tillit.EInvalid, "line has %d fields, the header has %d", n, m)
}

// checkResults compares what Next returned with want: people equal (times
// by Equal), errors of the same code and field with want's message a part
// of got's.
func checkResults(t *testing.T, got, want []result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.line != w.line {
			t.Errorf("result %d: line %d, want %d", i, g.line, w.line)
		}
		if w.err != nil {
			var we *tillit.Error
			errors.As(w.err, &we)
			wantError(t, g.err, we.Code, we.Field, we.Message)
			continue
		}
		if g.err != nil {
			t.Errorf("line %d: %v", g.line, g.err)
			continue
		}
		if !g.p.CollectedAt.Equal(w.p.CollectedAt) {
			t.Errorf("line %d: collected_at %v, want %v", g.line, g.p.CollectedAt, w.p.CollectedAt)
		}
		gp, wp := *g.p, *w.p
		gp.CollectedAt, wp.CollectedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(gp, wp) {
			t.Errorf("line %d:\n got %+v\nwant %+v", g.line, gp, wp)
		}
	}
}

func TestCSVAttributes(t *testing.T) {
	in := "given_name;member_no;active;municipality;joined;level\n" +
		"Kari;42;Ja;0301;2020-01-31;gold\n" +
		"Ola;3,5;NEI;;;\n" +
		"Per;1e3;1;;;\n" +
		"Lise;0;false;;;\n" +
		"Bad;SECRET;;;;\n" +
		"Bad;NaN;;;;\n" +
		"Bad;;SECRET;;;\n" +
		"Anne;;;;;\n"
	want := []result{
		{p: &tillit.Person{GivenName: "Kari", Attributes: map[string]any{"member_no": 42.0, "active": true, "municipality": "0301", "joined": "2020-01-31", "level": "gold"}}, line: 2},
		{p: &tillit.Person{GivenName: "Ola", Attributes: map[string]any{"member_no": 3.5, "active": false}}, line: 3},
		{p: &tillit.Person{GivenName: "Per", Attributes: map[string]any{"member_no": 1000.0, "active": true}}, line: 4},
		{p: &tillit.Person{GivenName: "Lise", Attributes: map[string]any{"member_no": 0.0, "active": false}}, line: 5},
		{err: tillit.FieldErrorf("attributes.member_no", "attribute member_no is a number"), line: 6},
		{err: tillit.FieldErrorf("attributes.member_no", "attribute member_no is a number"), line: 7},
		{err: tillit.FieldErrorf("attributes.active", "attribute active is a boolean"), line: 8},
		{p: &tillit.Person{GivenName: "Anne"}, line: 9},
	}
	checkResults(t, readAll(t, mustReader(t, in, peoplefile.CSV)), want)

	t.Run("no decimal comma with comma delimiter", func(t *testing.T) {
		got := readAll(t, mustReader(t, "given_name,member_no\nKari,\"3,5\"\n", peoplefile.CSV))
		checkResults(t, got, []result{{err: tillit.FieldErrorf("attributes.member_no", "is a number"), line: 2}})
	})
}

func TestCSVHeader(t *testing.T) {
	tests := []struct {
		name, in     string
		field, inMsg string
	}{
		{"unknown column", "given_name,shoe_size\nKari,42\n", "shoe_size", `unknown column "shoe_size"`},
		{"unknown column, lower-cased", "given_name,Shoe_Size\n", "shoe_size", `unknown column "shoe_size"`},
		{"duplicate column", "email,given_name,Email\n", "email", "column email is in the header twice"},
		{"id is not a column", "id,given_name\n", "id", `unknown column "id"`},
		{"address is split", "given_name,address\n", "address", `unknown column "address"`},
		{"unnamed column", "given_name,,email\n", "", "column 2 of the header has no name"},
		{"empty file", "", "", "the file is empty"},
		{"only blank lines", "\n\r\n\n", "", "the file is empty"},
		{"blank header", "   \nKari\n", "", "the header row has no columns"},
		{"bad quote", "given_name,\"email\n", "", "the header (line 1) is not valid CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := peoplefile.NewReader(strings.NewReader(tt.in), peoplefile.CSV, testSchema())
			if src != nil {
				t.Errorf("NewReader returned a source with the error")
			}
			wantError(t, err, tillit.EInvalid, tt.field, tt.inMsg)
		})
	}
}

func TestCSVTenantColumnsNeedSchema(t *testing.T) {
	_, err := peoplefile.NewReader(strings.NewReader("given_name,member_no\n"), peoplefile.CSV, nil)
	wantError(t, err, tillit.EInvalid, "member_no", `unknown column "member_no"`)
}

func TestCSVReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	const rows = 20_000 // more than is read ahead
	r := io.MultiReader(strings.NewReader("given_name\n"+strings.Repeat("Kari\n", rows)), iotest.ErrReader(boom))
	src, err := peoplefile.NewReader(r, peoplefile.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range rows {
		if p, _, err := src.Next(); err != nil || p.GivenName != "Kari" {
			t.Fatalf("Next = %+v, %v; want Kari", p, err)
		}
	}
	for range 2 { // the error ends the file: returned again
		if _, _, err := src.Next(); err != boom {
			t.Fatalf("Next error = %v, want %v as is", err, boom)
		}
	}

	// An error before the header is read refuses the file.
	_, err = peoplefile.NewReader(io.MultiReader(strings.NewReader("given_name\nKari\n"), iotest.ErrReader(boom)), peoplefile.CSV, nil)
	if err != boom {
		t.Errorf("NewReader error = %v, want %v as is", err, boom)
	}
}

// TestCSVUnclosedQuote checks that a quote never closed does not read the
// rest of a large file into memory: the row is refused past 1 MiB and the
// import ends.
func TestCSVUnclosedQuote(t *testing.T) {
	in := "given_name,email\nKari,kari@example.no\nOla,\"ola@example.no\n" +
		strings.Repeat("Per,per@example.no\n", 2<<20/19)
	got := readAll(t, mustReader(t, in, peoplefile.CSV))
	if len(got) != 2 || got[0].err != nil {
		t.Fatalf("got %d results, want Kari and an error: %+v", len(got), got)
	}
	if got[1].line != 3 {
		t.Errorf("error on line %d, want 3", got[1].line)
	}
	wantError(t, got[1].err, tillit.ETooLarge, "", "a row after line 2 is longer than 1 MiB")
}

// TestCSVWithoutHeader: a file whose first row is data is refused without
// quoting the data: its cells are personal values.
func TestCSVWithoutHeader(t *testing.T) {
	_, err := peoplefile.NewReader(strings.NewReader("Kari,Nordmann,kari@example.no,19121212-1212\n"), peoplefile.CSV, &tillit.Schema{})
	if tillit.ErrorCode(err) != tillit.EInvalid {
		t.Fatalf("err = %v, want invalid", err)
	}
	for _, v := range []string{"Kari", "kari", "Nordmann", "kari@example.no", "19121212"} {
		if strings.Contains(err.Error(), v) || strings.Contains(tillit.ErrorField(err), v) {
			t.Errorf("the error quotes %q: %v (field %q)", v, err, tillit.ErrorField(err))
		}
	}
}
