package peoplefile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"

	"tillit"
)

// ndjsonSource reads people from lines of JSON objects.
type ndjsonSource struct {
	br     *bufio.Reader
	schema *tillit.Schema
	line   int
	err    error // the error that ended the file, returned again
}

var _ tillit.ImportSource = (*ndjsonSource)(nil)

func newNDJSONSource(r io.Reader, schema *tillit.Schema) *ndjsonSource {
	// Room for a line of MaxLine bytes and its "\r\n".
	return &ndjsonSource{br: bufio.NewReaderSize(r, MaxLine+2), schema: schema}
}

// ndjsonPerson is a line: a person with the keys of the API. The times the
// server sets are accepted (a file exported from tillit has them) and
// ignored; collected_at is read as for CSV, without quoting a bad value.
type ndjsonPerson struct {
	tillit.Person
	CollectedAt    *string         `json:"collected_at"`
	UpdatedAt      json.RawMessage `json:"updated_at"`
	LastActivityAt json.RawMessage `json:"last_activity_at"`
}

// Next returns the person of the next line that is not blank, and its
// number (the first line is 1). A line that is not a JSON object of a
// person's keys, or is longer than 1 MiB, is an EInvalid *tillit.Error and
// the next call goes on with the next line; an error of the underlying
// reader ends the file and is returned again by every later call.
func (s *ndjsonSource) Next() (*tillit.Person, int, error) {
	for s.err == nil {
		b, err := s.br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			s.line++
			if err := s.skipLine(); err != nil {
				s.err = err
				if err != io.EOF {
					return nil, s.line, err
				}
			}
			return nil, s.line, tillit.Errorf(tillit.EInvalid, "line is longer than 1 MiB")
		case err == io.EOF && len(b) > 0:
			s.err = io.EOF // the last line has no newline: read it, then stop
		case err != nil:
			s.err = err // io.EOF, or the reader's own error
			continue
		}
		s.line++
		b = bytes.TrimRight(b, "\r\n")
		if s.line == 1 {
			b = bytes.TrimPrefix(b, []byte(bom))
		}
		if len(b) > MaxLine {
			return nil, s.line, tillit.Errorf(tillit.EInvalid, "line is longer than 1 MiB")
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		p, err := s.person(b)
		return p, s.line, err
	}
	return nil, s.line, s.err
}

// skipLine reads past the next newline, a buffer at a time.
func (s *ndjsonSource) skipLine() error {
	for {
		_, err := s.br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// person decodes a line. Errors name the key at fault, never a value.
func (s *ndjsonSource) person(line []byte) (*tillit.Person, error) {
	if line = bytes.TrimSpace(line); line[0] != '{' {
		return nil, tillit.Errorf(tillit.EInvalid, "the line is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var np ndjsonPerson
	if err := dec.Decode(&np); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, lineError(nil, "the line has more than one JSON value; put one object on each line")
	}
	p := &np.Person
	if np.CollectedAt != nil && *np.CollectedAt != "" {
		t, err := parseTime(*np.CollectedAt)
		if err != nil {
			return nil, tillit.FieldErrorf(collectedAt, "collected_at must be an RFC 3339 time (2024-05-01T12:00:00Z) or a date (2024-05-01)")
		}
		p.CollectedAt = t
	}
	if err := checkAttributes(p, s.schema); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeError turns an error of encoding/json, which may quote a value, into
// one that does not.
func decodeError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return lineError(nil, "the line is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return lineError(err, "the line is not valid JSON: it ends inside the object")
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "Person.") // the embedded struct of ndjsonPerson
		return &tillit.Error{Code: tillit.EInvalid, Field: field, Message: field + " must be " + jsonType(typ.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key, qerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if qerr != nil {
			key = "?"
		}
		return &tillit.Error{Code: tillit.EInvalid, Field: key, Message: "unknown key " + strconv.Quote(key)}
	default:
		return lineError(nil, "the line is not a valid person")
	}
}

// jsonType names the JSON type a Go type is decoded from.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
