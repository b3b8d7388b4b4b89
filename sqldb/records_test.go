package sqldb_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
)

// mustRecord creates a record as the caseworker.
func (e *regEnv) mustRecord(r *tillit.Record) *tillit.Record {
	e.t.Helper()
	if err := e.svc.CreateRecord(e.cw, r); err != nil {
		e.t.Fatalf("create record %+v: %v", r, err)
	}
	return r
}

// sameRecord fails unless got and want have the same API form.
func sameRecord(t *testing.T, got, want *tillit.Record) {
	t.Helper()
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Fatalf("record\n got %s\nwant %s", g, w)
	}
}

// recordIDs returns the ids of records.
func recordIDs(rs []*tillit.Record) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// allRecords pages through a person's records.
func (e *regEnv) allRecords(personID int64, limit int) ([]*tillit.Record, int) {
	e.t.Helper()
	var out []*tillit.Record
	f := tillit.RecordFilter{Limit: limit}
	for n := 1; ; n++ {
		page, err := e.svc.FindRecords(e.reader, personID, f)
		if err != nil {
			e.t.Fatalf("records: %v", err)
		}
		if limit > 0 && len(page.Records) > limit {
			e.t.Fatalf("a page of %d records, limit %d", len(page.Records), limit)
		}
		out = append(out, page.Records...)
		if page.NextCursor == "" {
			return out, n
		}
		f.Cursor = page.NextCursor
	}
}

func TestRecords(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema()) // categories note and visit
		p := e.mustCreate(&tillit.Person{GivenName: "Kari"})
		q := e.mustCreate(&tillit.Person{GivenName: "Ola"})
		day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }

		// Activity: a record touches the person, not their update time.
		e.clock.Add(time.Hour)
		first := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: " note ", Title: " Første samtale ", Body: "Kari ringte."})
		now := e.clock.Now()
		if first.ID == 0 || first.Category != "note" || first.Title != "Første samtale" || !first.OccurredAt.Equal(now) ||
			!first.CreatedAt.Equal(now) || !first.UpdatedAt.Equal(now) {
			t.Fatalf("created %+v", first)
		}
		got := e.mustRead(p.ID)
		if !got.LastActivityAt.Equal(now) || got.UpdatedAt.Equal(now) {
			t.Fatalf("person after a record: updated %v, last activity %v; now %v", got.UpdatedAt, got.LastActivityAt, now)
		}
		if r, err := e.svc.FindRecordByID(e.reader, p.ID, first.ID); err != nil {
			t.Fatal(err)
		} else {
			sameRecord(t, r, first)
		}

		// Newest first, by occurrence then id, page by page.
		records := []*tillit.Record{first}
		for i, d := range []int{3, 1, 7, 3, 5, 3, 2} {
			records = append(records, e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "visit",
				Title: "Besøk " + string(rune('a'+i)), OccurredAt: day(d).In(time.FixedZone("CET", 3600))}))
		}
		e.mustRecord(&tillit.Record{PersonID: q.ID, Category: "note", Title: "Ola's"})
		want := slices.Clone(records)
		slices.SortFunc(want, func(a, b *tillit.Record) int {
			if c := b.OccurredAt.Compare(a.OccurredAt); c != 0 {
				return c
			}
			return int(b.ID - a.ID)
		})
		for _, limit := range []int{0, 1, 3, 8} {
			all, pages := e.allRecords(p.ID, limit)
			if !slices.Equal(recordIDs(all), recordIDs(want)) {
				t.Fatalf("limit %d: %v, want %v", limit, recordIDs(all), recordIDs(want))
			}
			if wantPages := map[int]int{0: 1, 1: 8, 3: 3, 8: 1}[limit]; pages != wantPages {
				t.Fatalf("limit %d: %d pages, want %d", limit, pages, wantPages)
			}
		}
		all, _ := e.allRecords(p.ID, 0)
		for i, r := range want {
			if r.OccurredAt.Location() != time.UTC {
				t.Fatalf("occurred_at %v not in UTC", r.OccurredAt)
			}
			sameRecord(t, all[i], r)
		}

		// Update.
		e.clock.Add(time.Hour)
		title, body, cat, at := "Endret tittel", strings.Repeat("æøå ", 100), "note", day(9)
		up, err := e.svc.UpdateRecord(e.cw, p.ID, first.ID, tillit.RecordUpdate{Title: &title, Body: &body, Category: &cat, OccurredAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		if up.Title != title || up.Body != body || up.Category != "note" || !up.OccurredAt.Equal(at) || !up.UpdatedAt.Equal(e.clock.Now()) ||
			!up.CreatedAt.Equal(first.CreatedAt) {
			t.Fatalf("updated %+v", up)
		}
		if r, err := e.svc.FindRecordByID(e.reader, p.ID, first.ID); err != nil {
			t.Fatal(err)
		} else {
			sameRecord(t, r, up)
		}
		if got := e.mustRead(p.ID); !got.LastActivityAt.Equal(e.clock.Now()) {
			t.Fatalf("last activity %v after a record update", got.LastActivityAt)
		}
		title = "Bare tittel"
		up, err = e.svc.UpdateRecord(e.cw, p.ID, first.ID, tillit.RecordUpdate{Title: &title})
		if err != nil || up.Body != body || up.Title != title {
			t.Fatalf("title alone: %+v, %v", up, err)
		}

		// Refusals.
		empty, bad, zero := "", "case", time.Time{}
		big := strings.Repeat("x", tillit.MaxRecordBody+1)
		refusals := []struct {
			name  string
			err   error
			code  string
			field string
		}{
			{"category not in the schema", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Category: "case", Title: "x"}), tillit.EInvalid, "category"},
			{"no category", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Title: "x"}), tillit.EInvalid, "category"},
			{"no title", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Category: "note", Title: "  "}), tillit.EInvalid, "title"},
			{"title with a line break", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Category: "note", Title: "a\nb"}), tillit.EInvalid, "title"},
			{"body over 1 MiB", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Category: "note", Title: "x", Body: big}), tillit.EInvalid, "body"},
			{"body not UTF-8", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Category: "note", Title: "x", Body: "\xff\xfe"}), tillit.EInvalid, "body"},
			{"unknown person", e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: 12345, Category: "note", Title: "x"}), tillit.ENotFound, ""},
			{"update to a category not in the schema", updErr(e.svc.UpdateRecord(e.cw, p.ID, first.ID, tillit.RecordUpdate{Category: &bad})), tillit.EInvalid, "category"},
			{"update to no title", updErr(e.svc.UpdateRecord(e.cw, p.ID, first.ID, tillit.RecordUpdate{Title: &empty})), tillit.EInvalid, "title"},
			{"update to a body over 1 MiB", updErr(e.svc.UpdateRecord(e.cw, p.ID, first.ID, tillit.RecordUpdate{Body: &big})), tillit.EInvalid, "body"},
			{"update to no time", updErr(e.svc.UpdateRecord(e.cw, p.ID, first.ID, tillit.RecordUpdate{OccurredAt: &zero})), tillit.EInvalid, "occurred_at"},
			{"update of another person's record", updErr(e.svc.UpdateRecord(e.cw, q.ID, first.ID, tillit.RecordUpdate{Title: &title})), tillit.ENotFound, ""},
			{"read of another person's record", updErr(e.svc.FindRecordByID(e.cw, q.ID, first.ID)), tillit.ENotFound, ""},
			{"read of an unknown record", updErr(e.svc.FindRecordByID(e.cw, p.ID, 12345)), tillit.ENotFound, ""},
			{"records of an unknown person", pageErr(e.svc.FindRecords(e.cw, 12345, tillit.RecordFilter{})), tillit.ENotFound, ""},
			{"delete of another person's record", e.svc.DeleteRecord(e.cw, q.ID, first.ID), tillit.ENotFound, ""},
			{"bad cursor", pageErr(e.svc.FindRecords(e.cw, p.ID, tillit.RecordFilter{Cursor: "x"})), tillit.EInvalid, "cursor"},
			{"half a cursor", pageErr(e.svc.FindRecords(e.cw, p.ID, tillit.RecordFilter{Cursor: "123-"})), tillit.EInvalid, "cursor"},
			{"limit", pageErr(e.svc.FindRecords(e.cw, p.ID, tillit.RecordFilter{Limit: 1001})), tillit.EInvalid, "limit"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.code, tc.field) })
		}
		if r, err := e.svc.FindRecordByID(e.cw, p.ID, first.ID); err != nil || r.Title != title || r.Category != "note" {
			t.Fatalf("record after the refusals: %+v, %v", r, err)
		}

		// A body of exactly 1 MiB is fine.
		full := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Stor", Body: big[:tillit.MaxRecordBody]})
		if r, err := e.svc.FindRecordByID(e.cw, p.ID, full.ID); err != nil || len(r.Body) != tillit.MaxRecordBody {
			t.Fatalf("1 MiB body: %d bytes, %v", len(r.Body), err)
		}

		// Delete.
		e.clock.Add(time.Hour)
		if err := e.svc.DeleteRecord(e.cw, p.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindRecordByID(e.cw, p.ID, first.ID); code(err) != tillit.ENotFound {
			t.Fatalf("deleted record: %v", err)
		}
		if err := e.svc.DeleteRecord(e.cw, p.ID, first.ID); code(err) != tillit.ENotFound {
			t.Fatalf("deleted twice: %v", err)
		}
		if got := e.mustRead(p.ID); !got.LastActivityAt.Equal(e.clock.Now()) {
			t.Fatalf("last activity %v after a delete", got.LastActivityAt)
		}
		if all, _ := e.allRecords(p.ID, 0); len(all) != len(records) || slices.Contains(recordIDs(all), first.ID) {
			t.Fatalf("records after the delete: %v", recordIDs(all))
		}
		if all, _ := e.allRecords(q.ID, 0); len(all) != 1 {
			t.Fatalf("the other person's records: %v", recordIDs(all))
		}
	})
}

// TestRecordsBefore1970 pages through records dated before the Unix
// epoch, whose times are negative.
func TestRecordsBefore1970(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari"})
		var want []int64
		for _, y := range []int{1971, 1969, 1950, 1901} {
			r := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "x", OccurredAt: time.Date(y, 6, 1, 0, 0, 0, 0, time.UTC)})
			want = append(want, r.ID)
		}
		all, pages := e.allRecords(p.ID, 1)
		if !slices.Equal(recordIDs(all), want) || pages != 4 {
			t.Fatalf("%v in %d pages, want %v", recordIDs(all), pages, want)
		}
	})
}

// TestRecordValuesStayInPlace moves sealed titles and bodies between
// records: they do not open there.
func TestRecordValuesStayInPlace(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari"})
		q := e.mustCreate(&tillit.Person{GivenName: "Ola"})
		r1 := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Hemmelig tittel", Body: "Hemmelig tekst"})
		r2 := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Annen tittel", Body: "Annen tekst"})
		r3 := e.mustRecord(&tillit.Record{PersonID: q.ID, Category: "note", Title: "Olas tittel", Body: "Olas tekst"})
		raw := e.rawData()
		column := func(col string, id int64) []byte {
			t.Helper()
			var v []byte
			if err := raw.QueryRow(`SELECT `+col+` FROM records WHERE id = $1`, id).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		mustFail := func(what string, personID, id int64) {
			t.Helper()
			r, err := e.svc.FindRecordByID(e.cw, personID, id)
			if err == nil || r != nil || code(err) != tillit.EInternal {
				t.Fatalf("%s: %+v, %v", what, r, err)
			}
			if page, err := e.svc.FindRecords(e.cw, personID, tillit.RecordFilter{}); err == nil {
				t.Fatalf("%s: listed %+v", what, page.Records)
			}
		}
		title2, body2 := column("title", r2.ID), column("body", r2.ID)

		e.exec(`UPDATE records SET title = $1 WHERE id = $2`, column("title", r1.ID), r2.ID)
		mustFail("r1's title in r2", p.ID, r2.ID)
		e.exec(`UPDATE records SET title = $1, body = $2 WHERE id = $3`, title2, column("title", r2.ID), r2.ID)
		mustFail("r2's title as its body", p.ID, r2.ID)
		e.exec(`UPDATE records SET body = $1, title = $2 WHERE id = $3`, column("body", r1.ID), title2, r2.ID)
		mustFail("r1's body in r2", p.ID, r2.ID)
		e.exec(`UPDATE records SET title = $1, body = $2 WHERE id = $3`, column("title", r3.ID), column("body", r3.ID), r2.ID)
		mustFail("another person's record's values in r2", p.ID, r2.ID)
		// A record moved to another person.
		e.exec(`UPDATE records SET title = $1, body = $2 WHERE id = $3`, title2, body2, r2.ID)
		e.exec(`UPDATE records SET person_id = $1 WHERE id = $2`, q.ID, r1.ID)
		mustFail("r1 moved to q", q.ID, r1.ID)

		e.exec(`UPDATE records SET person_id = $1 WHERE id = $2`, p.ID, r1.ID)
		for _, r := range []*tillit.Record{r1, r2} {
			got, err := e.svc.FindRecordByID(e.cw, p.ID, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameRecord(t, got, r)
		}
	})
}

func updErr(_ *tillit.Record, err error) error      { return err }
func pageErr(_ *tillit.RecordPage, err error) error { return err }
