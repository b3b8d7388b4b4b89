package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"tillit"
	"tillit/receipt"
)

// TestRightsDoneWhen walks the "done when" through the API: a
// person created, read by two users, then reported, exported and erased;
// the report shows both readers; after erasure nothing of them opens or is
// found, the receipt verifies with the platform key and the audit log
// verifies; anonymisation keeps the statistics; an expired person is
// flagged and, in automatic mode, erased by the job.
func TestRightsDoneWhen(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, admin := e.token(acme, tillit.RoleAdmin)
		_, cw := e.token(acme, tillit.RoleCaseworker)
		officer := e.sensitiveToken(acme, tillit.RolePrivacy)
		wantStatus(t, e.do("PUT", "/api/v1/schema", admin,
			`{"attributes":[{"name":"municipality","type":"string","classification":"non_personal"}],"categories":["note"]}`), 200)

		p := e.mustPerson(cw, `{"given_name":"Kari","family_name":"Nordmann","email":"kari@example.no","phone":"+4791234567"}`)
		kari := e.user(acme, "kari@acme.example", tillit.RoleCaseworker)
		ola := e.user(acme, "ola@acme.example", tillit.RoleReader)
		for _, email := range []string{"kari@acme.example", "ola@acme.example"} {
			b, _ := e.signIn(acme, email)
			wantStatus(t, b.call("GET", personPath(p.ID), ""), 200)
		}

		var rep tillit.PersonReport
		decode(t, e.do("GET", personPath(p.ID, "/report?format=json"), officer, ""), &rep)
		readers := map[string]bool{}
		for _, a := range rep.AccessHistory {
			if a.Action == "person.read" {
				readers[a.Actor] = true
			}
		}
		for _, u := range []*tillit.Account{kari, ola} {
			if !readers[fmt.Sprintf("user:%d", u.ID)] {
				t.Fatalf("the report lacks reader user:%d: %+v", u.ID, rep.AccessHistory)
			}
		}
		w := e.do("GET", personPath(p.ID, "/export"), officer, "")
		wantStatus(t, w, 200)
		zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"person.csv", "person.json", "records.csv", "records.json"}) {
			t.Fatalf("export holds %v", names)
		}

		w = e.do("DELETE", personPath(p.ID), officer, "")
		wantStatus(t, w, 200)
		r, err := receipt.Verify(w.Body.Bytes(), e.vkey)
		if err != nil || r.PersonID != p.ID || r.Kind != tillit.ReceiptErasure || r.Erased.Keys != 1 {
			t.Fatalf("receipt %+v: %v", r, err)
		}
		wantProblem(t, e.do("GET", personPath(p.ID), admin, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", personPath(p.ID, "/report?format=json"), officer, ""), 404, tillit.ENotFound, "")
		for _, lookup := range []string{`{"email":"kari@example.no"}`, `{"phone":"+4791234567"}`} {
			var found struct {
				People []tillit.Person `json:"people"`
			}
			decode(t, e.do("POST", "/api/v1/people/lookup", admin, lookup), &found)
			if len(found.People) != 0 {
				t.Fatalf("lookup %s after erasure finds %+v", lookup, found.People)
			}
		}
		if _, err := e.db.WriteCheckpoints(context.Background(), e.signer); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.VerifyAudit(context.Background(), &acme.ID, e.vkey); err != nil {
			t.Fatalf("audit verify after erasure: %v", err)
		}

		// Anonymisation keeps the statistics.
		q := e.mustPerson(cw, `{"given_name":"Ada","birth_date":"1980-02-03","address":{"postal_code":"0150","city":"Oslo","country":"NO"},
			"attributes":{"municipality":"Oslo"}}`)
		wantStatus(t, e.do("POST", personPath(q.ID, "/anonymise"), officer, ""), 200)
		var remnant tillit.Person
		decode(t, e.do("GET", personPath(q.ID), admin, ""), &remnant)
		if remnant.AnonymisedAt == nil || remnant.BirthYear != 1980 || remnant.PostalArea != "01" ||
			remnant.Attributes["municipality"] != "Oslo" || remnant.GivenName != "" || remnant.Address != nil {
			t.Fatalf("remnant %+v", remnant)
		}

		// An expired person is flagged and, in automatic mode, erased.
		old := e.mustPerson(cw, fmt.Sprintf(`{"given_name":"Gammel","collected_at":%q}`, e.clock.Now().AddDate(0, -13, 0).Format(time.RFC3339)))
		fresh := e.mustPerson(cw, `{"given_name":"Ny"}`)
		wantStatus(t, e.do("PUT", "/api/v1/retention/policy", officer, `{"months":12,"from":"collected_at","mode":"review","grace_days":0}`), 200)
		wantStatus(t, e.do("POST", "/api/v1/retention/run", officer, ""), 200)
		var flagged struct {
			People []tillit.FlaggedPerson `json:"people"`
		}
		if err := json.Unmarshal(e.do("GET", "/api/v1/retention/flagged", officer, "").Body.Bytes(), &flagged); err != nil {
			t.Fatal(err)
		}
		if len(flagged.People) != 1 || flagged.People[0].ID != old.ID {
			t.Fatalf("flagged %+v", flagged.People)
		}
		wantStatus(t, e.do("PUT", "/api/v1/retention/policy", officer, `{"months":12,"from":"collected_at","mode":"automatic","grace_days":0}`), 200)
		wantStatus(t, e.do("POST", "/api/v1/retention/run", officer, ""), 200)
		wantProblem(t, e.do("GET", personPath(old.ID), admin, ""), 404, tillit.ENotFound, "")
		wantStatus(t, e.do("GET", personPath(fresh.ID), admin, ""), http.StatusOK)
	})
}
