package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tillit"
)

// requestPath is the path of a request, with more path segments after it.
func requestPath(id int64, more ...string) string {
	return fmt.Sprintf("/api/v1/requests/%d", id) + strings.Join(more, "")
}

// mustSubjectRequest creates a request through the API and returns it.
func (e *env) mustSubjectRequest(secret, body string) tillit.SubjectRequest {
	e.tb.Helper()
	w := e.do("POST", "/api/v1/requests", secret, body)
	wantStatus(e.tb, w, http.StatusCreated)
	var r tillit.SubjectRequest
	decode(e.tb, w, &r)
	if r.ID == 0 {
		e.tb.Fatalf("created a request without an id: %s", w.Body.String())
	}
	return r
}

// patchRequest sends a PATCH of a request and decodes the answer.
func (e *env) patchRequest(secret string, id int64, body string) tillit.SubjectRequest {
	e.tb.Helper()
	w := e.do("PATCH", requestPath(id), secret, body)
	wantStatus(e.tb, w, http.StatusOK)
	var r tillit.SubjectRequest
	decode(e.tb, w, &r)
	return r
}

func TestRequestAPICreate(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, reader := e.token(acme, tillit.RoleReader)
		_, auditor := e.token(acme, tillit.RoleAuditor)
		p := e.mustPerson(cw, `{"given_name":"Kari","family_name":"Nordmann"}`)

		r := e.mustSubjectRequest(cw, fmt.Sprintf(`{"type":"access","person_id":%d,"received_at":"2026-11-20T09:00:00+01:00",
			"channel":"email","note":"Asked by e-mail what we hold."}`, p.ID))
		want := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		if !r.ReceivedAt.Equal(want) || !r.DueAt.Equal(want.AddDate(0, 1, 0)) || r.Status != tillit.StatusReceived ||
			r.PersonID == nil || *r.PersonID != p.ID || r.Note != "Asked by e-mail what we hold." || r.Overdue {
			t.Fatalf("created %+v", r)
		}
		d := e.mustSubjectRequest(cw, `{"type":"erasure","received_at":"2026-11-21","channel":"letter"}`)
		if want := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC); !d.ReceivedAt.Equal(want) || d.PersonID != nil {
			t.Errorf("a date as received_at: %+v", d)
		}

		for _, tt := range []struct{ name, body, field string }{
			{"unknown type", `{"type":"complaint","received_at":"2026-11-21","channel":"email"}`, "type"},
			{"unknown channel", `{"type":"access","received_at":"2026-11-21","channel":"fax"}`, "channel"},
			{"no received_at", `{"type":"access","channel":"email"}`, "received_at"},
			{"received_at not a time", `{"type":"access","received_at":"yesterday","channel":"email"}`, "received_at"},
			{"received_at a number", `{"type":"access","received_at":20261121,"channel":"email"}`, "received_at"},
			{"received_at in the future", `{"type":"access","received_at":"2026-11-23","channel":"email"}`, "received_at"},
			{"status is not the client's", `{"type":"access","received_at":"2026-11-21","channel":"email","status":"completed"}`, "status"},
			{"person_id a string", `{"type":"access","received_at":"2026-11-21","channel":"email","person_id":"12"}`, "person_id"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantProblem(t, e.do("POST", "/api/v1/requests", cw, tt.body), 400, tillit.EInvalid, tt.field)
			})
		}
		wantProblem(t, e.do("POST", "/api/v1/requests", cw, fmt.Sprintf(`{"type":"access","received_at":"2026-11-21","channel":"email","person_id":%d}`, p.ID+1000)),
			404, tillit.ENotFound, "person_id")
		wantProblem(t, e.do("POST", "/api/v1/requests", reader, `{"type":"access","received_at":"2026-11-21","channel":"email"}`), 403, tillit.EForbidden, "")

		w := e.do("GET", requestPath(r.ID), cw, "")
		wantStatus(t, w, 200)
		var got tillit.SubjectRequest
		decode(t, w, &got)
		if got.ID != r.ID || got.Note != r.Note || !got.DueAt.Equal(r.DueAt) {
			t.Errorf("read back %+v, want %+v", got, r)
		}
		wantProblem(t, e.do("GET", requestPath(r.ID), auditor, ""), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("GET", requestPath(r.ID), reader, ""), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("GET", requestPath(r.ID+1000), cw, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", "/api/v1/requests/first", cw, ""), 400, tillit.EInvalid, "id")
		// Another tenant's caseworker does not see it.
		_, otherCW := e.token(e.tenant("other"), tillit.RoleCaseworker)
		wantProblem(t, e.do("GET", requestPath(r.ID), otherCW, ""), 404, tillit.ENotFound, "")

		// The audit log names the request and what was set, never the note.
		evs := e.events(auditor, "action=request.create&target="+fmt.Sprintf("request:%d", r.ID))
		if len(evs) != 1 || evs[0].Outcome != tillit.OutcomeOK || strings.Join(evs[0].Fields, ",") != "type,channel,received_at,person_id,note" {
			t.Fatalf("create events %+v", evs)
		}
		for _, ev := range e.events(auditor, "limit=1000") {
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), "what we hold") {
				t.Errorf("event %s holds the note", ev.Action)
			}
		}
	})
}

func TestRequestAPIList(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, auditor := e.token(acme, tillit.RoleAuditor)
		old := e.mustSubjectRequest(cw, `{"type":"export","received_at":"2026-10-15T12:00:00Z","channel":"web"}`)       // due 15 Nov
		soon := e.mustSubjectRequest(cw, `{"type":"objection","received_at":"2026-10-25T12:00:00Z","channel":"phone"}`) // due 25 Nov
		fresh := e.mustSubjectRequest(cw, `{"type":"restriction","received_at":"2026-11-22","channel":"other"}`)        // due 22 Dec

		list := func(query string) []int64 {
			t.Helper()
			w := e.do("GET", "/api/v1/requests"+query, cw, "")
			wantStatus(t, w, 200)
			var page tillit.RequestPage
			decode(t, w, &page)
			var ids []int64
			for _, r := range page.Requests {
				ids = append(ids, r.ID)
				if r.Overdue != (r.ID == old.ID) {
					t.Errorf("%s: request %d overdue %v", query, r.ID, r.Overdue)
				}
			}
			return ids
		}
		same := func(got []int64, want ...int64) string { return fmt.Sprint(got) + " want " + fmt.Sprint(want) }
		for _, tt := range []struct {
			query string
			want  []int64
		}{
			{"", []int64{old.ID, soon.ID, fresh.ID}},
			{"?due=overdue", []int64{old.ID}},
			{"?due=soon", []int64{soon.ID}},
			{"?open=true&status=received", []int64{old.ID, soon.ID, fresh.ID}},
			{"?status=completed", nil},
		} {
			if got := list(tt.query); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%q: %s", tt.query, same(got, tt.want...))
			}
		}
		// Pages of two.
		w := e.do("GET", "/api/v1/requests?limit=2", cw, "")
		wantStatus(t, w, 200)
		var page tillit.RequestPage
		decode(t, w, &page)
		if len(page.Requests) != 2 || page.NextCursor == "" {
			t.Fatalf("first page %+v", page)
		}
		if got := list("?limit=2&cursor=" + page.NextCursor); fmt.Sprint(got) != fmt.Sprint([]int64{fresh.ID}) {
			t.Errorf("second page %v", got)
		}
		for _, tt := range []struct{ query, field string }{
			{"?due=later", "due"},
			{"?status=lost", "status"},
			{"?open=maybe", "open"},
			{"?limit=0", "limit"},
			{"?limit=many", "limit"},
			{"?cursor=abc", "cursor"},
		} {
			wantProblem(t, e.do("GET", "/api/v1/requests"+tt.query, cw, ""), 400, tillit.EInvalid, tt.field)
		}
		wantProblem(t, e.do("GET", "/api/v1/requests", auditor, ""), 403, tillit.EForbidden, "")
	})
}

func TestRequestAPIUpdate(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, reader := e.token(acme, tillit.RoleReader)
		_, auditor := e.token(acme, tillit.RoleAuditor)
		p := e.mustPerson(cw, `{"given_name":"Kari","family_name":"Nordmann"}`)
		r := e.mustSubjectRequest(cw, `{"type":"access","received_at":"2026-11-21T08:00:00Z","channel":"email"}`)

		if got := e.patchRequest(cw, r.ID, `{"status":"identity_verified"}`); got.Status != tillit.StatusIdentityVerified {
			t.Fatalf("verified: %+v", got)
		}
		got := e.patchRequest(cw, r.ID, `{"extend_months":2,"extension_reason":"The records are in three systems."}`)
		if want := time.Date(2027, 2, 21, 8, 0, 0, 0, time.UTC); !got.DueAt.Equal(want) || got.ExtendedAt == nil ||
			got.ExtensionReason != "The records are in three systems." {
			t.Fatalf("extended: %+v, want due %s", got, want)
		}
		for _, tt := range []struct{ name, body, field string }{
			{"back", `{"status":"received"}`, "status"},
			{"unknown status", `{"status":"lost"}`, "status"},
			{"second extension", `{"extend_months":1,"extension_reason":"more"}`, "extend_months"},
			{"three months", `{"extend_months":3,"extension_reason":"more"}`, "extend_months"},
			{"refused without reason", `{"status":"refused"}`, "reason"},
			{"reason without refusal", `{"reason":"no"}`, "reason"},
			{"complete without person", `{"status":"completed"}`, "person_id"},
			{"unknown field", `{"state":"completed"}`, "state"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantProblem(t, e.do("PATCH", requestPath(r.ID), cw, tt.body), 400, tillit.EInvalid, tt.field)
			})
		}
		wantProblem(t, e.do("PATCH", requestPath(r.ID), cw, `{"person_id":999999}`), 404, tillit.ENotFound, "person_id")
		wantProblem(t, e.do("PATCH", requestPath(r.ID), reader, `{"note":"x"}`), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("PATCH", requestPath(r.ID+1000), cw, `{"note":"x"}`), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", requestPath(r.ID, "/report"), cw, ""), 404, tillit.ENotFound, "")

		// An access request whose person's identity was not verified does
		// not complete: it would hand their register to anyone.
		unverified := e.mustSubjectRequest(cw, fmt.Sprintf(`{"type":"access","person_id":%d,"received_at":"2026-11-21T08:00:00Z","channel":"email"}`, p.ID))
		wantProblem(t, e.do("PATCH", requestPath(unverified.ID), cw, `{"status":"completed"}`), 400, tillit.EInvalid, "status")
		wantProblem(t, e.do("GET", requestPath(unverified.ID, "/report"), cw, ""), 404, tillit.ENotFound, "")
		if got := e.patchRequest(cw, unverified.ID, `{"status":"refused","reason":"Could not verify who asked."}`); got.Status != tillit.StatusRefused {
			t.Fatalf("refused from received: %+v", got)
		}

		// Completing the access request attaches the person's report.
		got = e.patchRequest(cw, r.ID, fmt.Sprintf(`{"person_id":%d,"status":"completed"}`, p.ID))
		if got.Status != tillit.StatusCompleted || !got.HasReport || got.CompletedAt == nil {
			t.Fatalf("completed: %+v", got)
		}
		w := e.do("GET", requestPath(r.ID, "/report"), cw, "")
		wantStatus(t, w, 200)
		var rep tillit.PersonReport
		if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Person == nil || rep.Person.ID != p.ID || rep.Person.FamilyName != "Nordmann" {
			t.Fatalf("attached report %s", w.Body.String())
		}
		wantProblem(t, e.do("GET", requestPath(r.ID, "/report"), auditor, ""), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("PATCH", requestPath(r.ID), cw, `{"status":"refused","reason":"too late"}`), 400, tillit.EInvalid, "status")

		// Every step is an event naming what changed; refused steps too.
		target := fmt.Sprintf("request:%d", r.ID)
		var steps []string
		for _, ev := range e.events(auditor, "action=request.update&target="+target+"&limit=1000") {
			steps = append(steps, ev.Outcome+":"+strings.Join(ev.Fields, ","))
		}
		wantSteps := []string{"ok:status", "ok:due_at,extension_reason", "invalid:status"}
		for i, s := range wantSteps {
			if i >= len(steps) || steps[i] != s {
				t.Fatalf("update events %v, want them to begin with %v", steps, wantSteps)
			}
		}
		if !strings.Contains(strings.Join(steps, " "), "ok:person_id,status,report") {
			t.Errorf("no event of the completion: %v", steps)
		}
		if evs := e.events(auditor, "action=person.report&target="+fmt.Sprintf("person:%d", p.ID)); len(evs) != 1 {
			t.Errorf("report events of the person: %+v", evs)
		}
		if evs := e.events(auditor, "action=request.report&target="+fmt.Sprintf("person:%d", p.ID)); len(evs) != 1 {
			t.Errorf("reading the attached report is not in the person's history: %+v", evs)
		}

		// Overdue: a month and a day on, an open request is past its deadline.
		open := e.mustSubjectRequest(cw, `{"type":"rectification","received_at":"2026-11-22T09:00:00Z","channel":"in_person"}`)
		e.clock.Add(31 * 24 * time.Hour)
		w = e.do("GET", "/api/v1/requests?due=overdue", cw, "")
		wantStatus(t, w, 200)
		var page tillit.RequestPage
		decode(t, w, &page)
		if len(page.Requests) != 1 || page.Requests[0].ID != open.ID || !page.Requests[0].Overdue {
			t.Errorf("overdue a month on: %+v", page.Requests)
		}
	})
}
