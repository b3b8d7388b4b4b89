// Package peoplefile reads files of people to import, CSV or NDJSON, as a
// tillit.ImportSource. It streams: memory stays constant however long the
// file, and a bad line is reported and skipped, not fatal.
//
// Errors never quote the values of the file (they are personal data); they
// name the column or key and the rule broken.
package peoplefile

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"tillit"
)

// Format is the format of a file of people: "csv" or "ndjson".
type Format string

// The formats.
const (
	CSV    Format = "csv"    // a header row, then one person a row; ',' or ';' between fields
	NDJSON Format = "ndjson" // one JSON object a line, with the keys of the API
)

// MaxLine is the longest line (or CSV row) read, in bytes.
const MaxLine = 1 << 20

// bom is the UTF-8 byte order mark that Excel writes at the start of a file.
const bom = "\uFEFF"

// Sniff decides the format from the first byte of br that is not white
// space (after a byte order mark): '{' is NDJSON, anything else CSV. It
// consumes nothing. An empty input is CSV; an error of the reader is
// returned as is.
func Sniff(br *bufio.Reader) (Format, error) {
	for n := 64; ; n *= 2 {
		n = min(n, br.Size())
		b, err := br.Peek(n)
		rest := strings.TrimPrefix(string(b), bom)
		if i := strings.IndexFunc(rest, func(r rune) bool { return !isSpace(r) }); i >= 0 {
			if rest[i] == '{' {
				return NDJSON, nil
			}
			return CSV, nil
		}
		switch {
		case err == io.EOF:
			return CSV, nil // empty, or only white space
		case err != nil:
			return "", err
		case n == br.Size():
			return CSV, nil // a buffer full of white space: let the reader complain
		}
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// NewReader returns an ImportSource over r in the given format. schema is
// the tenant's: a CSV column or an NDJSON attribute that is not a standard
// attribute must be one of its attributes (nil means none). CSV values of
// tenant attributes are converted to the attribute's type.
//
// For CSV it reads the header: a header with an unknown or duplicate column
// or none at all is an EInvalid *tillit.Error naming the column, and the
// file is refused. An unknown format is EInvalid. An error of r is returned
// as is.
func NewReader(r io.Reader, format Format, schema *tillit.Schema) (tillit.ImportSource, error) {
	if schema == nil {
		schema = &tillit.Schema{}
	}
	switch format {
	case CSV:
		s, err := newCSVSource(r, schema)
		if err != nil {
			return nil, err
		}
		return s, nil
	case NDJSON:
		return newNDJSONSource(r, schema), nil
	default:
		return nil, tillit.Errorf(tillit.EInvalid, "unknown file format %q: use csv or ndjson", format)
	}
}

// attrField is the name of tenant attribute name in errors.
func attrField(name string) string { return "attributes." + name }

// convert turns the text v of a CSV cell into a value of attribute a's
// type. decimalComma accepts "3,5" for 3.5 (the files of Nordic Excel).
func convert(a tillit.AttributeDef, v string, decimalComma bool) (any, error) {
	switch a.Type {
	case tillit.TypeNumber:
		if decimalComma && strings.Count(v, ",") == 1 && !strings.Contains(v, ".") {
			v = strings.Replace(v, ",", ".", 1)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, tillit.FieldErrorf(attrField(a.Name), "attribute %s is a number; the value is not one", a.Name)
		}
		return f, nil
	case tillit.TypeBoolean:
		switch strings.ToLower(v) {
		case "true", "yes", "ja", "1":
			return true, nil
		case "false", "no", "nei", "0":
			return false, nil
		}
		return nil, tillit.FieldErrorf(attrField(a.Name), "attribute %s is a boolean; write true or false (or yes/no, ja/nei, 1/0)", a.Name)
	default: // string, date, enum: checked by the import
		return v, nil
	}
}

// checkAttributes refuses an attribute of p that the schema does not have,
// naming the first in sorted order.
func checkAttributes(p *tillit.Person, schema *tillit.Schema) error {
	var unknown string
	for name := range p.Attributes {
		if _, ok := schema.Attribute(name); !ok && (unknown == "" || name < unknown) {
			unknown = name
		}
	}
	if unknown != "" {
		return tillit.FieldErrorf(attrField(unknown), "unknown attribute %q: it is not in the tenant's schema", unknown)
	}
	return nil
}

// lineError is a per-line EInvalid error with no field, keeping err (which
// quotes no values) for the log.
func lineError(err error, format string, args ...any) *tillit.Error {
	return &tillit.Error{Code: tillit.EInvalid, Message: fmt.Sprintf(format, args...), Err: err}
}
