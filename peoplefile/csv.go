package peoplefile

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// csvSource reads people from a CSV file with a header row.
type csvSource struct {
	r            *csv.Reader
	guard        *rowGuard
	cols         []column
	decimalComma bool
	line         int   // the line of the last row read
	err          error // the error that ended the file, returned again
}

var _ tillit.ImportSource = (*csvSource)(nil)

// columnKind says where a column's values go in a Person.
type columnKind int

const (
	colPerson      columnKind = iota // a standard attribute
	colAddress                       // a part of the address
	colCollectedAt                   // Person.CollectedAt
	colAttribute                     // a tenant attribute, converted to its type
)

// column is one column of the header.
type column struct {
	kind    columnKind
	name    string
	person  func(*tillit.Person) *string
	address func(*tillit.Address) *string
	attr    tillit.AttributeDef
}

// The standard columns. They take precedence over tenant attributes of the
// same name (a tenant may define "city", which is also an address column).
var (
	personColumns = map[string]func(*tillit.Person) *string{
		tillit.AttrGivenName:         func(p *tillit.Person) *string { return &p.GivenName },
		tillit.AttrFamilyName:        func(p *tillit.Person) *string { return &p.FamilyName },
		tillit.AttrNationalID:        func(p *tillit.Person) *string { return &p.NationalID },
		tillit.AttrNationalIDCountry: func(p *tillit.Person) *string { return &p.NationalIDCountry },
		tillit.AttrBirthDate:         func(p *tillit.Person) *string { return &p.BirthDate },
		tillit.AttrEmail:             func(p *tillit.Person) *string { return &p.Email },
		tillit.AttrPhone:             func(p *tillit.Person) *string { return &p.Phone },
		tillit.AttrLanguage:          func(p *tillit.Person) *string { return &p.Language },
	}
	addressColumns = map[string]func(*tillit.Address) *string{
		"street":      func(a *tillit.Address) *string { return &a.Street },
		"postal_code": func(a *tillit.Address) *string { return &a.PostalCode },
		"city":        func(a *tillit.Address) *string { return &a.City },
		"country":     func(a *tillit.Address) *string { return &a.Country },
	}
)

const collectedAt = "collected_at"

// newCSVSource decides the delimiter from the first line, skips a byte
// order mark and reads the header.
func newCSVSource(r io.Reader, schema *tillit.Schema) (*csvSource, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	b, err := br.Peek(len(bom))
	switch {
	case err == nil && string(b) == bom:
		br.Discard(len(bom))
	case err != nil && err != io.EOF:
		return nil, err
	}
	delim, err := sniffDelimiter(br)
	if err != nil {
		return nil, err
	}
	s := &csvSource{guard: &rowGuard{r: br}, decimalComma: delim == ';'}
	s.r = csv.NewReader(s.guard)
	s.r.Comma = delim
	s.r.ReuseRecord = true
	s.r.FieldsPerRecord = 0 // set by the header

	header, err := s.r.Read()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return nil, tillit.Errorf(tillit.EInvalid, "the file is empty: a CSV file starts with a header row naming its columns")
	case errors.As(err, &pe):
		return nil, lineError(pe, "the header (line %d) is not valid CSV: %s", pe.StartLine, parseProblem(pe))
	case errors.Is(err, errRowTooLong):
		return nil, tillit.Errorf(tillit.ETooLarge, "the header is longer than 1 MiB")
	case err != nil:
		return nil, err
	}
	if s.cols, err = columns(header, schema); err != nil {
		return nil, err
	}
	s.line, _ = s.r.FieldPos(0)
	return s, nil
}

// sniffDelimiter peeks at the first line of br that is not empty (or as
// much of it as br holds) and returns ';' if it occurs there more often than
// ',' outside quotes, else ','.
func sniffDelimiter(br *bufio.Reader) (rune, error) {
	for n := 512; ; n *= 2 {
		n = min(n, br.Size())
		b, err := br.Peek(n)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if d, ok := delimiter(b); ok || err == io.EOF || n == br.Size() {
			return d, nil
		}
	}
}

// delimiter returns the delimiter of the first line of head that is not
// empty (as encoding/csv skips empty lines), and whether head holds the
// whole line.
func delimiter(head []byte) (d rune, whole bool) {
	var commas, semicolons int
	quoted, content := false, false
scan:
	for _, c := range head {
		switch {
		case c == '"':
			quoted, content = !quoted, true
		case quoted:
		case c == ',':
			commas, content = commas+1, true
		case c == ';':
			semicolons, content = semicolons+1, true
		case c == '\n' && content:
			whole = true
			break scan
		case c != '\r' && c != '\n':
			content = true
		}
	}
	if semicolons > commas {
		return ';', whole
	}
	return ',', whole
}

// columns reads the header: names trimmed and lower-cased, each a standard
// column or an attribute of schema, none twice.
// knownColumn reports whether name is a column a header may have.
func knownColumn(name string, schema *tillit.Schema) bool {
	_, person := personColumns[name]
	_, address := addressColumns[name]
	_, attr := schema.Attribute(name)
	return person || address || attr || name == collectedAt
}

func columns(header []string, schema *tillit.Schema) ([]column, error) {
	if len(header) == 1 && strings.TrimSpace(header[0]) == "" {
		return nil, tillit.Errorf(tillit.EInvalid, "the header row has no columns")
	}
	// A file without a header makes its first row the header, and its
	// cells are personal values: a header with no known column is refused
	// without quoting any of it. In a real header, unknown names are
	// quoted, to show the typo.
	known := 0
	for _, h := range header {
		if knownColumn(strings.ToLower(strings.TrimSpace(h)), schema) {
			known++
		}
	}
	if known == 0 {
		return nil, tillit.Errorf(tillit.EInvalid, "the first row names none of the columns a person has (given_name, family_name, email, …): a CSV file must start with a header row")
	}
	cols := make([]column, len(header))
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		c := column{name: name}
		if name == "" {
			return nil, tillit.Errorf(tillit.EInvalid, "column %d of the header has no name", i+1)
		}
		if seen[name] {
			return nil, &tillit.Error{Code: tillit.EInvalid, Field: name, Message: "column " + name + " is in the header twice"}
		}
		seen[name] = true
		if f, ok := personColumns[name]; ok {
			c.kind, c.person = colPerson, f
		} else if f, ok := addressColumns[name]; ok {
			c.kind, c.address = colAddress, f
		} else if name == collectedAt {
			c.kind = colCollectedAt
		} else if a, ok := schema.Attribute(name); ok {
			c.kind, c.attr = colAttribute, a
		} else {
			return nil, &tillit.Error{Code: tillit.EInvalid, Field: name,
				Message: "unknown column " + strconv.Quote(name) + " in the header: it is neither a standard column nor an attribute of the tenant's schema"}
		}
		cols[i] = c
	}
	return cols, nil
}

// Next returns the next person and the line its row starts on. A row that
// breaks a rule is an EInvalid *tillit.Error, and the next call goes on
// with the next row; an error of the underlying reader, or a row longer
// than 1 MiB (ETooLarge), ends the file and is returned again by every
// later call.
func (s *csvSource) Next() (*tillit.Person, int, error) {
	for s.err == nil {
		s.guard.n = 0
		rec, err := s.r.Read()
		var pe *csv.ParseError
		switch {
		case err == nil:
			s.line, _ = s.r.FieldPos(0)
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			s.line = pe.StartLine
			if !blank(rec) {
				return nil, s.line, lineError(pe, "line has %d fields, the header has %d", len(rec), len(s.cols))
			}
		case errors.As(err, &pe):
			s.line = pe.StartLine
			return nil, s.line, lineError(pe, "the line is not valid CSV: %s", parseProblem(pe))
		case errors.Is(err, errRowTooLong):
			s.err = &tillit.Error{Code: tillit.ETooLarge, Err: err,
				Message: fmt.Sprintf("a row after line %d is longer than 1 MiB (is a quote not closed?); the rest of the file is not read", s.line)}
			s.line++
			continue
		default:
			s.err = err // io.EOF, or the reader's own error
			continue
		}
		if blank(rec) {
			continue // an empty row, as Excel writes below the data
		}
		p, err := s.person(rec)
		return p, s.line, err
	}
	return nil, s.line, s.err
}

// person makes a person of a row. An empty cell is a value not given.
func (s *csvSource) person(rec []string) (*tillit.Person, error) {
	p := &tillit.Person{}
	var addr tillit.Address
	hasAddr := false
	for i, c := range s.cols {
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		switch c.kind {
		case colPerson:
			*c.person(p) = v
		case colAddress:
			*c.address(&addr) = v
			hasAddr = true
		case colCollectedAt:
			t, err := parseTime(v)
			if err != nil {
				return nil, tillit.FieldErrorf(collectedAt, "collected_at must be an RFC 3339 time (2024-05-01T12:00:00Z) or a date (2024-05-01)")
			}
			p.CollectedAt = t
		case colAttribute:
			x, err := convert(c.attr, v, s.decimalComma)
			if err != nil {
				return nil, err
			}
			if p.Attributes == nil {
				p.Attributes = make(map[string]any)
			}
			p.Attributes[c.name] = x
		}
	}
	if hasAddr {
		p.Address = &addr
	}
	return p, nil
}

// parseTime reads an RFC 3339 time or a date, which is midnight UTC.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// blank reports whether every cell of rec is white space.
func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// parseProblem says what is wrong with a row that encoding/csv cannot
// parse, in words for the person who wrote the file.
func parseProblem(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return `a field that does not start with a quote (") has one inside; quote the whole field and double the quotes inside it`
	case errors.Is(pe.Err, csv.ErrQuote):
		return `a quoted field is not closed properly; a quote (") inside a quoted field must be doubled`
	default:
		return "column " + fmt.Sprint(pe.Column) + " cannot be read"
	}
}

// errRowTooLong is the error of a rowGuard over its limit.
var errRowTooLong = errors.New("peoplefile: CSV row longer than 1 MiB")

// rowGuard keeps encoding/csv, which holds a whole row in memory, from
// reading more than MaxLine bytes (plus its 4 KiB of read-ahead) for one
// row: a quote never closed would otherwise read the rest of the file into
// memory. Next sets n to 0 before each row.
type rowGuard struct {
	r io.Reader
	n int
}

func (g *rowGuard) Read(p []byte) (int, error) {
	if g.n > MaxLine {
		return 0, errRowTooLong
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}
