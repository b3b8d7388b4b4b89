package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"tillit"
)

// MaxBodyBytes is the largest request body the API reads: 1 MiB.
const MaxBodyBytes = 1 << 20

// decodeJSON reads the request body, which must be one JSON object of at
// most MaxBodyBytes with only the fields of v, into v. Every failure is an
// EInvalid error a person can act on (naming the field where there is one),
// or ETooLarge.
func decodeJSON(r *http.Request, v any) error {
	return decodeJSONLimit(r, v, MaxBodyBytes, "application/json")
}

// decodeJSONLimit is decodeJSON with another limit and other accepted
// media types.
func decodeJSONLimit(r *http.Request, v any, limit int64, types ...string) error {
	if err := checkContentType(r.Header.Get("Content-Type"), types...); err != nil {
		return err
	}
	tooLarge := tillit.Errorf(tillit.ETooLarge, "the request body is larger than the limit of %d MiB", limit>>20)
	if r.ContentLength > limit {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return tooLarge
	case err != nil:
		return tillit.Errorf(tillit.EInvalid, "the request body could not be read")
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(body) == 0:
		return tillit.Errorf(tillit.EInvalid, "the request body is empty; send a JSON object")
	case body[0] != '{':
		return tillit.Errorf(tillit.EInvalid, "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return tillit.Errorf(tillit.EInvalid, "the request body has data after the JSON object; send exactly one object")
	}
	return nil
}

// checkContentType accepts the media types (application/json if none),
// with charset utf-8 if any. Any other type is EInvalid: the closed code
// set has no 415.
func checkContentType(ct string, types ...string) error {
	if len(types) == 0 {
		types = []string{"application/json"}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && slices.Contains(types, mt) {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return tillit.Errorf(tillit.EInvalid, "the Content-Type header must be %s", strings.Join(types, " or "))
}

// jsonError turns an error of the JSON decoder into an EInvalid error that
// says what is wrong and where.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return tillit.Errorf(tillit.EInvalid, "the request body is not valid JSON: %s (at byte %d)",
			strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tillit.Errorf(tillit.EInvalid, "the request body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return tillit.Errorf(tillit.EInvalid, "the request body must be a JSON object")
		}
		return tillit.FieldErrorf(typ.Field, "%s must be %s, not %s",
			typ.Field, describeType(typ.Type), describeValue(typ.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, err := strconv.Unquote(name)
		if err != nil {
			field = name
		}
		if len(field) > 64 {
			field = strings.ToValidUTF8(field[:64], "")
		}
		return tillit.FieldErrorf(field, "the field %q is not known here; check its spelling", field)
	}
	return tillit.Errorf(tillit.EInvalid, "the request body is not valid JSON")
}

// describeType names what a JSON value must be to decode into t.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return "another type"
}

// describeValue names the kind of JSON value the decoder found: "a
// string", "a number".
func describeValue(v string) string {
	// Never the value itself: a number in the wrong place may be a phone
	// number or a national id.
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "true or false"
	case "":
		return "this value"
	}
	return "a " + kind
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return tillit.Internal(fmt.Errorf("encode response: %w", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
	return nil
}

// writeText answers s as plain UTF-8 text with status 200.
func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, s)
}
