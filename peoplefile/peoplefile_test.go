package peoplefile_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"tillit"
	"tillit/peoplefile"
)

// secret is a personal value the tests put in bad cells: no error may
// quote it.
const secret = "SECRET"

// testSchema is a tenant's schema with an attribute of each type.
func testSchema() *tillit.Schema {
	return &tillit.Schema{Attributes: []tillit.AttributeDef{
		{Name: "member_no", Type: tillit.TypeNumber, Classification: tillit.ClassPersonal},
		{Name: "active", Type: tillit.TypeBoolean, Classification: tillit.ClassPersonal},
		{Name: "municipality", Type: tillit.TypeString, Classification: tillit.ClassNonPersonal},
		{Name: "joined", Type: tillit.TypeDate, Classification: tillit.ClassPersonal},
		{Name: "level", Type: tillit.TypeEnum, Classification: tillit.ClassPersonal, Values: []string{"gold", "silver"}},
	}}
}

// result is what one call of Next returned.
type result struct {
	p    *tillit.Person
	line int
	err  error
}

// readAll calls Next until io.EOF (or 1000 calls) and checks that no error
// quotes secret.
func readAll(tb testing.TB, src tillit.ImportSource) []result {
	tb.Helper()
	var out []result
	for range 1000 {
		p, line, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			tb.Errorf("line %d: error quotes a value: %v", line, err)
		}
		out = append(out, result{p, line, err})
		if err != nil && tillit.ErrorCode(err) != tillit.EInvalid {
			return out
		}
	}
	tb.Fatal("Next did not return io.EOF")
	return nil
}

// mustReader returns a reader over s or fails the test.
func mustReader(tb testing.TB, s string, f peoplefile.Format) tillit.ImportSource {
	tb.Helper()
	src, err := peoplefile.NewReader(strings.NewReader(s), f, testSchema())
	if err != nil {
		tb.Fatalf("NewReader: %v", err)
	}
	return src
}

// wantError checks that err is a *tillit.Error with the code, field and a
// message containing msg.
func wantError(tb testing.TB, err error, code, field, msg string) {
	tb.Helper()
	var e *tillit.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v, want *tillit.Error", err)
	}
	if e.Code != code || e.Field != field || !strings.Contains(e.Message, msg) {
		tb.Errorf("error = {%s, %q, %q}, want {%s, %q, containing %q}", e.Code, e.Field, e.Message, code, field, msg)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name, in string
		want     peoplefile.Format
	}{
		{"object", `{"given_name":"Kari"}`, peoplefile.NDJSON},
		{"space before object", " \r\n\t{}", peoplefile.NDJSON},
		{"bom before object", "\uFEFF{}", peoplefile.NDJSON},
		{"header", "given_name,email\n", peoplefile.CSV},
		{"semicolon header", "given_name;email\n", peoplefile.CSV},
		{"empty", "", peoplefile.CSV},
		{"only space", "  \n\n ", peoplefile.CSV},
		{"space longer than the buffer", strings.Repeat(" ", 5000) + "{}", peoplefile.CSV},
		{"space within the buffer", strings.Repeat(" ", 3000) + "{}", peoplefile.NDJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
			got, err := peoplefile.Sniff(br)
			if err != nil || got != tt.want {
				t.Fatalf("Sniff = %q, %v, want %q", got, err, tt.want)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tt.in {
				t.Errorf("Sniff consumed input: %d bytes left of %d", len(rest), len(tt.in))
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := peoplefile.Sniff(bufio.NewReader(iotest.ErrReader(boom))); err != boom {
			t.Errorf("Sniff error = %v, want %v", err, boom)
		}
	})
}

// TestSniffThenRead reads a file the way the CLI does: sniff, then read
// from the same bufio.Reader.
func TestSniffThenRead(t *testing.T) {
	for _, in := range []string{"given_name\nKari\n", "{\"given_name\":\"Kari\"}\n"} {
		br := bufio.NewReader(strings.NewReader(in))
		f, err := peoplefile.Sniff(br)
		if err != nil {
			t.Fatal(err)
		}
		src, err := peoplefile.NewReader(br, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, src)
		if len(got) != 1 || got[0].err != nil || got[0].p.GivenName != "Kari" {
			t.Errorf("%s: got %+v", f, got)
		}
	}
}

func TestNewReaderUnknownFormat(t *testing.T) {
	_, err := peoplefile.NewReader(strings.NewReader(""), "xlsx", nil)
	wantError(t, err, tillit.EInvalid, "", `unknown file format "xlsx"`)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCSVStreaming reads 200,000 lines through a pipe: the first person
// comes out long before the file is written, and every line is read.
func TestCSVStreaming(t *testing.T) {
	const lines = 200_000
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	go func() {
		w := bufio.NewWriter(cw)
		fmt.Fprintln(w, "given_name;family_name;email;member_no;active")
		for i := range lines {
			fmt.Fprintf(w, "Kari%d;Nordmann;kari%d@example.no;%d;ja\n", i, i, i)
		}
		pw.CloseWithError(w.Flush())
	}()
	src, err := peoplefile.NewReader(pr, peoplefile.CSV, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	n, last := 0, 0
	for {
		p, line, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if n == 0 {
			if written := cw.n.Load(); written > 128<<10 {
				t.Errorf("%d bytes written before the first person came out; want it streamed", written)
			}
		}
		if want := fmt.Sprintf("Kari%d", n); p.GivenName != want {
			t.Fatalf("line %d: given_name %q, want %q", line, p.GivenName, want)
		}
		n, last = n+1, line
	}
	if n != lines || last != lines+1 {
		t.Errorf("read %d people, last on line %d; want %d, last on line %d", n, last, lines, lines+1)
	}
}

// benchFile returns a CSV file of n people.
func benchFile(n int) []byte {
	var b strings.Builder
	b.WriteString("given_name;family_name;national_id;email;phone;street;postal_code;city;country;collected_at;member_no;active;municipality\n")
	for i := range n {
		fmt.Fprintf(&b, "Kari;Nordmann;%011d;kari%d@example.no;+4791234567;\"Storgata 1\";0150;Oslo;NO;2024-05-01;%d;ja;0301\n", i, i, i)
	}
	return []byte(b.String())
}

// BenchmarkCSV reads a CSV file of people and reports lines per second.
func BenchmarkCSV(b *testing.B) {
	const lines = 10_000
	file := benchFile(lines)
	schema := testSchema()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	iters := 0
	for b.Loop() {
		src, err := peoplefile.NewReader(strings.NewReader(string(file)), peoplefile.CSV, schema)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, _, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != lines {
			b.Fatalf("read %d people, want %d", n, lines)
		}
		iters++
	}
	b.ReportMetric(float64(iters*lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkNDJSON reads an NDJSON file of people and reports lines per
// second.
func BenchmarkNDJSON(b *testing.B) {
	const lines = 10_000
	var sb strings.Builder
	for i := range lines {
		fmt.Fprintf(&sb, `{"given_name":"Kari","family_name":"Nordmann","national_id":"%011d","email":"kari%d@example.no",`+
			`"address":{"street":"Storgata 1","postal_code":"0150","city":"Oslo","country":"NO"},`+
			`"collected_at":"2024-05-01","attributes":{"member_no":%d,"active":true,"municipality":"0301"}}`+"\n", i, i, i)
	}
	file := sb.String()
	schema := testSchema()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	iters := 0
	for b.Loop() {
		src, err := peoplefile.NewReader(strings.NewReader(file), peoplefile.NDJSON, schema)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, _, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		iters++
	}
	b.ReportMetric(float64(iters*lines)/b.Elapsed().Seconds(), "lines/s")
}
