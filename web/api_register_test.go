package web_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"tillit"
)

func TestRegisterRecordsAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleCaseworker)
		p := e.mustPerson(secret, `{"given_name":"Kari"}`)
		records := personPath(p.ID, "/records")

		w := e.do("POST", records, secret, `{"category":"note","title":" Called ","body":"About the invoice.","occurred_at":"2026-11-01T10:00:00Z"}`)
		wantStatus(t, w, 201)
		var rec tillit.Record
		decode(t, w, &rec)
		if rec.ID == 0 || rec.PersonID != p.ID || rec.Title != "Called" || rec.Body != "About the invoice." || rec.OccurredAt.Day() != 1 {
			t.Fatalf("created %+v", rec)
		}
		one := personPath(p.ID, fmt.Sprintf("/records/%d", rec.ID))
		wantProblem(t, e.do("POST", records, secret, `{"category":"gossip","title":"x"}`), 400, tillit.EInvalid, "category")
		wantProblem(t, e.do("POST", records, secret, `{"category":"note","title":""}`), 400, tillit.EInvalid, "title")
		wantProblem(t, e.do("POST", personPath(p.ID+1, "/records"), secret, `{"category":"note","title":"x"}`), 404, tillit.ENotFound, "")

		w = e.do("GET", records, secret, "")
		wantStatus(t, w, 200)
		var page tillit.RecordPage
		decode(t, w, &page)
		if len(page.Records) != 1 || page.Records[0].ID != rec.ID {
			t.Fatalf("list: %s", w.Body.String())
		}
		wantProblem(t, e.do("GET", records+"?limit=0", secret, ""), 400, tillit.EInvalid, "limit")

		w = e.do("GET", one, secret, "")
		wantStatus(t, w, 200)
		var got tillit.Record
		decode(t, w, &got)
		if got.Body != rec.Body || got.Title != rec.Title {
			t.Fatalf("get: %+v", got)
		}

		w = e.do("PATCH", one, secret, `{"title":"Called back"}`, header("Content-Type", "application/merge-patch+json"))
		wantStatus(t, w, 200)
		got = tillit.Record{}
		decode(t, w, &got)
		if got.Title != "Called back" || got.Body != rec.Body || got.Category != "note" {
			t.Fatalf("patch: %+v", got)
		}
		wantProblem(t, e.do("GET", personPath(p.ID, "/records/x"), secret, ""), 400, tillit.EInvalid, "rid")
		// Merge patch: null removes the body; the rest cannot be removed.
		w = e.do("PATCH", one, secret, `{"body":null}`, header("Content-Type", "application/merge-patch+json"))
		wantStatus(t, w, 200)
		got = tillit.Record{}
		decode(t, w, &got)
		if got.Body != "" || got.Title != "Called back" {
			t.Fatalf("patch body null: %+v", got)
		}
		for _, tt := range []struct{ body, field string }{
			{`{"title":null}`, "title"}, {`{"category":null}`, "category"}, {`{"occurred_at":null}`, "occurred_at"},
			{`{"colour":"red"}`, "colour"}, {`{"title":7}`, "title"},
		} {
			wantProblem(t, e.do("PATCH", one, secret, tt.body), 400, tillit.EInvalid, tt.field)
		}
		wantProblem(t, e.do("PATCH", one, secret, `{"title":"x"}`, header("Content-Type", "text/plain")), 400, tillit.EInvalid, "")

		wantStatus(t, e.do("DELETE", one, secret, ""), 204)
		wantProblem(t, e.do("GET", one, secret, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("DELETE", one, secret, ""), 404, tillit.ENotFound, "")

		// A body of exactly 1 MiB is allowed; one byte more is not.
		body := strings.Repeat("å", tillit.MaxRecordBody/2)
		w = e.do("POST", records, secret, fmt.Sprintf(`{"category":"document","title":"Big","body":%q}`, body))
		wantStatus(t, w, 201)
		got = tillit.Record{}
		decode(t, w, &got)
		w = e.do("GET", personPath(p.ID, fmt.Sprintf("/records/%d", got.ID)), secret, "")
		wantStatus(t, w, 200)
		got = tillit.Record{}
		decode(t, w, &got)
		if got.Body != body {
			t.Fatalf("the 1 MiB body came back with %d bytes", len(got.Body))
		}
		w = e.do("POST", records, secret, fmt.Sprintf(`{"category":"document","title":"Too big","body":%q}`, body+"x"))
		wantProblem(t, w, 400, tillit.EInvalid, "body")
		w = e.do("PATCH", personPath(p.ID, fmt.Sprintf("/records/%d", got.ID)), secret, fmt.Sprintf(`{"body":%q}`, body+"x"))
		wantProblem(t, w, 400, tillit.EInvalid, "body")
	})
}

func TestRegisterSchemaAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, admin := e.token(acme, tillit.RoleAdmin)

		w := e.do("GET", "/api/v1/schema", cw, "")
		wantStatus(t, w, 200)
		var sc tillit.Schema
		decode(t, w, &sc)
		if !slices.Equal(sc.Categories, tillit.DefaultCategories) || len(sc.Attributes) != 0 {
			t.Fatalf("default schema: %s", w.Body.String())
		}

		schema := `{"attributes":[{"name":"member_no","type":"number","classification":"personal"},
			{"name":"diagnosis","type":"enum","classification":"special","values":["a","b"]}],"categories":["note","visit"]}`
		wantProblem(t, e.do("PUT", "/api/v1/schema", cw, schema), 403, tillit.EForbidden, "")
		w = e.do("PUT", "/api/v1/schema", admin, schema)
		wantStatus(t, w, 200)
		decode(t, w, &sc)
		if len(sc.Attributes) != 2 || !slices.Equal(sc.Categories, []string{"note", "visit"}) || sc.UpdatedAt.IsZero() {
			t.Fatalf("put schema: %s", w.Body.String())
		}
		for _, tt := range []struct{ body, field string }{
			{`{"attributes":[{"name":"Bad Name","type":"string","classification":"personal"}],"categories":["note"]}`, "attributes[0].name"},
			{`{"attributes":[{"name":"email","type":"string","classification":"personal"}],"categories":["note"]}`, "attributes[0].name"},
			{`{"attributes":[{"name":"x","type":"colour","classification":"personal"}],"categories":["note"]}`, "attributes[0].type"},
			{`{"attributes":[],"categories":[]}`, "categories"},
		} {
			wantProblem(t, e.do("PUT", "/api/v1/schema", admin, tt.body), 400, tillit.EInvalid, tt.field)
		}

		// The new schema is in force: its attributes and categories.
		p := e.mustPerson(cw, `{"given_name":"Kari","attributes":{"member_no":17,"diagnosis":"b"}}`)
		if p.Attributes["member_no"] != 17.0 || p.Attributes["diagnosis"] != "b" {
			t.Fatalf("attributes %v", p.Attributes)
		}
		wantProblem(t, e.do("POST", "/api/v1/people", cw, `{"attributes":{"diagnosis":"c"}}`), 400, tillit.EInvalid, "attributes.diagnosis")
		wantStatus(t, e.do("POST", personPath(p.ID, "/records"), cw, `{"category":"visit","title":"Visit"}`), 201)
		wantProblem(t, e.do("POST", personPath(p.ID, "/records"), cw, `{"category":"case","title":"Case"}`), 400, tillit.EInvalid, "category")
	})
}

func TestPeopleAPIPermissions(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, reader := e.token(acme, tillit.RoleReader)
		_, auditor := e.token(acme, tillit.RoleAuditor)
		p := e.mustPerson(cw, `{"given_name":"Kari","email":"kari@example.com"}`)
		rec := personPath(p.ID, "/records")
		wantStatus(t, e.do("POST", rec, cw, `{"category":"note","title":"x"}`), 201)

		for _, tt := range []struct {
			method, path, body string
			reader, auditor    int
		}{
			{"GET", "/api/v1/people", "", 200, 403},
			{"GET", personPath(p.ID), "", 200, 403},
			{"GET", rec, "", 200, 403},
			{"POST", "/api/v1/people/lookup", `{"email":"kari@example.com"}`, 200, 403},
			{"POST", "/api/v1/people", `{"given_name":"Ola"}`, 403, 403},
			{"PATCH", personPath(p.ID), `{"given_name":"Ola"}`, 403, 403},
			{"POST", rec, `{"category":"note","title":"x"}`, 403, 403},
			{"GET", "/api/v1/schema", "", 200, 200},
			{"PUT", "/api/v1/schema", `{"attributes":[],"categories":["note"]}`, 403, 403},
		} {
			for _, who := range []struct {
				secret string
				want   int
			}{{reader, tt.reader}, {auditor, tt.auditor}} {
				w := e.do(tt.method, tt.path, who.secret, tt.body)
				if who.want == 403 {
					wantProblem(t, w, 403, tillit.EForbidden, "")
				} else {
					wantStatus(t, w, who.want)
				}
				if who.secret == auditor && strings.Contains(w.Body.String(), "kari") {
					t.Errorf("%s %s showed the auditor personal data: %s", tt.method, tt.path, w.Body.String())
				}
			}
		}
		w := e.do("POST", "/api/v1/people/import", reader, `{"given_name":"Ola"}`+"\n", header("Content-Type", "application/x-ndjson"))
		wantProblem(t, w, 403, tillit.EForbidden, "")
		wantProblem(t, e.do("GET", "/api/v1/people", "", ""), 401, tillit.EUnauthenticated, "")
	})
}

// recorded wraps e.do, keeping every response to check their headers.
type recorded struct {
	e         *env
	responses []*httptest.ResponseRecorder
}

func (r *recorded) do(method, target, secret, body string, opts ...reqOption) *httptest.ResponseRecorder {
	r.e.tb.Helper()
	w := r.e.do(method, target, secret, body, opts...)
	r.responses = append(r.responses, w)
	return w
}

// TestPeopleAPIAudit reads, lists and looks people up, and checks that each
// person whose data was answered is an event of its own that names the
// attributes and holds no value; and that no value reaches a header or the
// log.
func TestPeopleAPIAudit(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, auditor := e.token(acme, tillit.RoleAuditor)
		r := &recorded{e: e}
		secrets := []string{"Ingeborg", "Kvernmoen", "ingeborg.kvernmoen@secret-mail.example", "198112189876",
			"811218-9876", "+4791234599", "91234599", "Fjellveien 77", "Ola", "Solheimsvik", "Signe", "Brattbakk"}

		var people []tillit.Person
		for _, body := range []string{
			`{"given_name":"Ingeborg","family_name":"Kvernmoen","email":"Ingeborg.Kvernmoen@secret-mail.example",
				"phone":"912 34 599","national_id":"811218-9876","national_id_country":"SE","address":{"street":"Fjellveien 77"}}`,
			`{"given_name":"Ola","family_name":"Solheimsvik"}`,
			`{"given_name":"Signe","family_name":"Brattbakk","language":"nb"}`,
		} {
			w := r.do("POST", "/api/v1/people", cw, body)
			wantStatus(t, w, 201)
			var p tillit.Person
			decode(t, w, &p)
			people = append(people, p)
		}
		ingeborg := people[0]
		target := fmt.Sprintf("person:%d", ingeborg.ID)

		wantStatus(t, r.do("GET", personPath(ingeborg.ID), cw, ""), 200)
		reads := e.events(auditor, "action=person.read&target="+target)
		if len(reads) != 1 {
			t.Fatalf("%d person.read events of %s, want 1", len(reads), target)
		}
		for _, f := range []string{"given_name", "family_name", "email", "phone", "national_id", "birth_date", "address"} {
			if !slices.Contains(reads[0].Fields, f) {
				t.Errorf("the read's fields %v lack %s", reads[0].Fields, f)
			}
		}
		if reads[0].Outcome != tillit.OutcomeOK || reads[0].Actor == "" {
			t.Errorf("read event %+v", reads[0])
		}

		w := r.do("GET", "/api/v1/people", cw, "")
		wantStatus(t, w, 200)
		// The request's own event, and one of each person answered.
		var listed []*tillit.Event
		for _, ev := range e.events(auditor, "action=person.list") {
			if ev.Target != "" {
				listed = append(listed, ev)
			}
		}
		if len(listed) != len(people) {
			t.Fatalf("%d person.list events for a list of %d: %+v", len(listed), len(people), listed)
		}
		for _, p := range people {
			want := fmt.Sprintf("person:%d", p.ID)
			if !slices.ContainsFunc(listed, func(ev *tillit.Event) bool { return ev.Target == want && slices.Contains(ev.Fields, "given_name") }) {
				t.Errorf("no person.list event names %s with its fields: %+v", want, listed)
			}
		}
		if listed[0].RequestID == "" || listed[0].RequestID != listed[1].RequestID {
			t.Errorf("the list's events are not of one request: %+v", listed)
		}

		wantStatus(t, r.do("POST", "/api/v1/people/lookup", cw, `{"phone":"+4791234599"}`), 200)
		looked := e.events(auditor, "action=person.lookup")
		if !slices.ContainsFunc(looked, func(ev *tillit.Event) bool { return ev.Target == target && slices.Contains(ev.Fields, "phone") }) {
			t.Errorf("no person.lookup event names %s: %+v", target, looked)
		}

		// Nothing the API answered or logged carries a value beyond the bodies.
		all := e.events(auditor, "limit=1000")
		data, err := json.Marshal(all)
		if err != nil {
			t.Fatal(err)
		}
		logs := e.logs.String()
		for _, s := range secrets {
			if strings.Contains(strings.ToLower(string(data)), strings.ToLower(s)) {
				t.Errorf("the audit log holds %q", s)
			}
			if strings.Contains(strings.ToLower(logs), strings.ToLower(s)) {
				t.Errorf("the server's log holds %q", s)
			}
			for _, w := range r.responses {
				for k, v := range w.Header() {
					if strings.Contains(strings.ToLower(strings.Join(v, " ")), strings.ToLower(s)) {
						t.Errorf("response header %s holds %q", k, s)
					}
				}
			}
		}
	})
}
