package web

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The files of a portability export (GDPR Art. 20):
//
//   - person.json: the person as the API answers GET /api/v1/people/{id}
//     (tillit.Person: id, the standard attributes, "attributes" with the
//     tenant's own, collected_at, updated_at, last_activity_at, source and,
//     when set, restriction and hold);
//   - records.json: a list of records as GET /api/v1/people/{id}/records
//     answers them (id, person_id, category, title, body, occurred_at,
//     created_at, updated_at), newest first;
//   - person.csv: the same as person.json, one "attribute,value" row per
//     value, nested names joined with dots ("address.city",
//     "attributes.member_no");
//   - records.csv: one row per record, with the columns of records.json.
//
// The JSON files hold the values exactly as they are. The CSV files are
// meant to be opened in a spreadsheet, where a cell that starts with "=",
// "+", "-", "@", a tab or a carriage return may be run as a formula (CSV
// injection): as OWASP advises, every such text cell is written with a
// single quote "'" before it, so that the spreadsheet shows it as text.
// This includes a phone number in E.164 form ("'+4791234567"), since some
// spreadsheets take a leading "+" for a formula too, and the value is then
// shown exactly. Numbers and booleans are written as they are: they are
// never more than a number, so they cannot hold a formula.

// writeExportZip writes the export of a person as a zip to w, file by file.
func writeExportZip(w io.Writer, exp *tillit.PersonExport) error {
	zw := zip.NewWriter(w)
	modified := exp.Person.UpdatedAt
	file := func(name string, write func(io.Writer) error) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return err
		}
		return write(f)
	}
	if err := file("person.json", func(w io.Writer) error { return writeIndented(w, exp.Person) }); err != nil {
		return err
	}
	if err := file("records.json", func(w io.Writer) error { return writeRecordsJSON(w, exp.Records) }); err != nil {
		return err
	}
	if err := file("person.csv", func(w io.Writer) error { return writePersonCSV(w, exp.Person) }); err != nil {
		return err
	}
	if err := file("records.csv", func(w io.Writer) error { return writeRecordsCSV(w, exp.Records) }); err != nil {
		return err
	}
	return zw.Close()
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeRecordsJSON writes a JSON list of records one by one, so that a
// person's thousands of records are never one buffer.
func writeRecordsJSON(w io.Writer, records []*tillit.Record) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, r := range records {
		b, err := json.MarshalIndent(r, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if i == 0 {
			sep = "\n  "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	end := "\n]\n"
	if len(records) == 0 {
		end = "]\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

// writePersonCSV writes the person as "attribute,value" rows, in the order
// of person.json.
func writePersonCSV(w io.Writer, p *tillit.Person) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"attribute", "value"}); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := flattenJSON(dec, "", cw); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// flattenJSON writes the value dec is at as rows of the dotted name and
// the value, objects in their order.
func flattenJSON(dec *json.Decoder, name string, cw *csv.Writer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			// No list in a person is more than values; keep it as JSON.
			var items []json.RawMessage
			for dec.More() {
				var item json.RawMessage
				if err := dec.Decode(&item); err != nil {
					return err
				}
				items = append(items, item)
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			b, _ := json.Marshal(items)
			return cw.Write([]string{csvText(name), string(b)})
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := key.(string)
			if name != "" {
				k = name + "." + k
			}
			if err := flattenJSON(dec, k, cw); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	case string:
		return cw.Write([]string{csvText(name), csvText(t)})
	case json.Number:
		return cw.Write([]string{name, t.String()})
	case bool:
		return cw.Write([]string{name, strconv.FormatBool(t)})
	case nil:
		return nil
	}
	return nil
}

// writeRecordsCSV writes the records with a header row.
func writeRecordsCSV(w io.Writer, records []*tillit.Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "person_id", "category", "title", "body", "occurred_at", "created_at", "updated_at"}); err != nil {
		return err
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	for _, r := range records {
		if err := cw.Write([]string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.PersonID, 10), csvText(r.Category), csvText(r.Title), csvText(r.Body),
			ts(r.OccurredAt), ts(r.CreatedAt), ts(r.UpdatedAt)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText is a text cell of an export CSV file: the value, with a single
// quote before it when a spreadsheet could take it for a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
