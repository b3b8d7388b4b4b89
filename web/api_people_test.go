package web_test

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"tillit"
)

// sePNR returns a valid Swedish personal identity number YYMMDD-NNNC for
// the nine digits given ("811218987" → "811218-9876"): C is the Luhn digit.
func sePNR(nine string) string {
	sum := 0
	for i, c := range nine {
		d := int(c-'0') * (2 - i%2)
		sum += d/10 + d%10
	}
	return fmt.Sprintf("%s-%s%d", nine[:6], nine[6:], (10-sum%10)%10)
}

// mustPerson creates a person through the API and returns it.
func (e *env) mustPerson(secret, body string) tillit.Person {
	e.tb.Helper()
	w := e.do("POST", "/api/v1/people", secret, body)
	wantStatus(e.tb, w, http.StatusCreated)
	var p tillit.Person
	decode(e.tb, w, &p)
	if p.ID == 0 {
		e.tb.Fatalf("created a person without an id: %s", w.Body.String())
	}
	return p
}

// personPath is the path of a person, with more path segments after it.
func personPath(id int64, more ...string) string {
	return fmt.Sprintf("/api/v1/people/%d", id) + strings.Join(more, "")
}

func TestPeopleAPICreate(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleCaseworker)

		p := e.mustPerson(secret, `{"given_name":" Kari ","family_name":"Nordmann","national_id":"811218-9876",
			"national_id_country":"se","email":" Kari.Nordmann@Example.COM ","phone":"91 23 45 67",
			"address":{"street":"Storgata 1","postal_code":"0150","city":"Oslo","country":"no"},"language":"nb"}`)
		switch {
		case p.GivenName != "Kari" || p.FamilyName != "Nordmann":
			t.Errorf("names %q %q", p.GivenName, p.FamilyName)
		case p.Phone != "+4791234567":
			t.Errorf("phone %q, want E.164 +4791234567", p.Phone)
		case p.NationalID != "198112189876" || p.NationalIDCountry != "SE":
			t.Errorf("national id %q %q, want 198112189876 SE", p.NationalID, p.NationalIDCountry)
		case p.BirthDate != "1981-12-18":
			t.Errorf("birth date %q, want it derived: 1981-12-18", p.BirthDate)
		case p.Email != "Kari.Nordmann@Example.COM":
			t.Errorf("email %q, want it as given, trimmed", p.Email)
		case p.Address == nil || p.Address.Country != "NO" || p.Address.City != "Oslo":
			t.Errorf("address %+v", p.Address)
		case p.CollectedAt.IsZero() || p.UpdatedAt.IsZero():
			t.Errorf("times not set: %+v", p)
		}

		for _, tt := range []struct{ name, body, field string }{
			{"bad national id", `{"national_id":"811218-9877","national_id_country":"SE"}`, "national_id"},
			{"bad email", `{"given_name":"Ola","email":"ola.example.com"}`, "email"},
			{"bad phone", `{"phone":"12"}`, "phone"},
			{"unknown attribute", `{"given_name":"Ola","attributes":{"shoe_size":42}}`, "attributes.shoe_size"},
			{"unknown top-level field", `{"given_name":"Ola","shoe_size":42}`, "shoe_size"},
			{"wrong type", `{"given_name":42}`, "given_name"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantProblem(t, e.do("POST", "/api/v1/people", secret, tt.body), 400, tillit.EInvalid, tt.field)
			})
		}
		// The same e-mail in another case is the same person.
		wantProblem(t, e.do("POST", "/api/v1/people", secret, `{"email":"kari.nordmann@example.com"}`), 409, tillit.EConflict, "email")
		wantProblem(t, e.do("POST", "/api/v1/people", secret, `{"national_id":"198112189876"}`), 409, tillit.EConflict, "national_id")

		w := e.do("GET", personPath(p.ID), secret, "")
		wantStatus(t, w, 200)
		var got tillit.Person
		decode(t, w, &got)
		if got.ID != p.ID || got.Email != p.Email || got.Phone != p.Phone || got.NationalID != p.NationalID || got.Address == nil {
			t.Errorf("read back %+v, want %+v", got, p)
		}
		wantProblem(t, e.do("GET", personPath(p.ID+1), secret, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", "/api/v1/people/kari", secret, ""), 400, tillit.EInvalid, "id")
		wantProblem(t, e.do("GET", "/api/v1/people/0", secret, ""), 400, tillit.EInvalid, "id")
	})
}

func TestPeopleAPIPatch(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleCaseworker)
		p := e.mustPerson(secret, `{"given_name":"Kari","family_name":"Nordmann","phone":"+4791234567","address":{"city":"Oslo"}}`)

		w := e.do("PATCH", personPath(p.ID), secret, `{"family_name":"Hansen","phone":null,"address":{"street":"Kirkegata 2"}}`,
			header("Content-Type", "application/merge-patch+json"))
		wantStatus(t, w, 200)
		var got tillit.Person
		decode(t, w, &got)
		if got.FamilyName != "Hansen" || got.GivenName != "Kari" || got.Phone != "" ||
			got.Address == nil || got.Address.City != "Oslo" || got.Address.Street != "Kirkegata 2" {
			t.Fatalf("merge patch: %+v %+v", got, got.Address)
		}

		w = e.do("PATCH", personPath(p.ID), secret, `{"phone":"22 33 44 55","language":"sv"}`) // application/json
		wantStatus(t, w, 200)
		got = tillit.Person{}
		decode(t, w, &got)
		if got.Phone != "+4722334455" || got.Language != "sv" || got.FamilyName != "Hansen" {
			t.Fatalf("patch as application/json: %+v", got)
		}

		wantProblem(t, e.do("PATCH", personPath(p.ID), secret, `{"language":"nb"}`, header("Content-Type", "text/plain")),
			400, tillit.EInvalid, "")
		wantProblem(t, e.do("PATCH", personPath(p.ID), secret, `{"email":"nope"}`), 400, tillit.EInvalid, "email")
		wantProblem(t, e.do("PATCH", personPath(p.ID), secret, `{"id":1}`), 400, tillit.EInvalid, "id")
		wantProblem(t, e.do("PATCH", personPath(p.ID+1), secret, `{"language":"nb"}`), 404, tillit.ENotFound, "")

		// The refused patches changed nothing.
		w = e.do("GET", personPath(p.ID), secret, "")
		got = tillit.Person{}
		decode(t, w, &got)
		if got.Language != "sv" || got.Email != "" {
			t.Fatalf("after refused patches: %+v", got)
		}
	})
}

// listPage reads a page of people.
func (e *env) listPage(secret, query string) tillit.PersonPage {
	e.tb.Helper()
	w := e.do("GET", "/api/v1/people?"+query, secret, "")
	wantStatus(e.tb, w, 200)
	var page tillit.PersonPage
	decode(e.tb, w, &page)
	return page
}

func TestPeopleAPIList(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleCaseworker)
		families := []string{"Olsen", "berg", "Aas", "Nilsen", "Hansen", "Olsen", "Ødegård"}
		want := map[int64]string{}
		for i, f := range families {
			p := e.mustPerson(secret, fmt.Sprintf(`{"given_name":"G%d","family_name":%q}`, i, f))
			want[p.ID] = f
		}

		for _, sort := range []string{"", "sort=id&", "sort=family_name&"} {
			seen := map[int64]int{}
			var order []*tillit.Person
			cursor, pages := "", 0
			for {
				page := e.listPage(secret, sort+"limit=3&cursor="+cursor)
				pages++
				if len(page.People) > 3 {
					t.Fatalf("%q: a page of %d with limit 3", sort, len(page.People))
				}
				for _, p := range page.People {
					seen[p.ID]++
					order = append(order, p)
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
				if pages > 10 {
					t.Fatalf("%q: the cursor does not end", sort)
				}
			}
			if len(seen) != len(want) || len(order) != len(want) {
				t.Fatalf("%q: %d people listed (%d distinct), want %d once each", sort, len(order), len(seen), len(want))
			}
			for id := range want {
				if seen[id] != 1 {
					t.Errorf("%q: person %d listed %d times", sort, id, seen[id])
				}
			}
			if sort == "sort=family_name&" {
				var names []string
				for _, p := range order {
					names = append(names, p.FamilyName)
				}
				if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) ||
					names[0] != "Aas" || names[1] != "berg" {
					t.Errorf("by family name: %v", names)
				}
			} else if !slices.IsSortedFunc(order, func(a, b *tillit.Person) int { return cmp.Compare(a.ID, b.ID) }) {
				t.Errorf("%q: not by id", sort)
			}
		}
		if all := e.listPage(secret, ""); len(all.People) != len(want) || all.NextCursor != "" {
			t.Errorf("default page: %d people, cursor %q", len(all.People), all.NextCursor)
		}

		for _, q := range []string{"limit=0", "limit=-1", "limit=1001", "limit=ten", "limit=1.5"} {
			wantProblem(t, e.do("GET", "/api/v1/people?"+q, secret, ""), 400, tillit.EInvalid, "limit")
		}
		wantProblem(t, e.do("GET", "/api/v1/people?sort=age", secret, ""), 400, tillit.EInvalid, "sort")
		wantProblem(t, e.do("GET", "/api/v1/people?cursor=abc", secret, ""), 400, tillit.EInvalid, "cursor")
	})
}

// lookup looks people up and returns their ids.
func (e *env) lookup(secret, body string) []int64 {
	e.tb.Helper()
	w := e.do("POST", "/api/v1/people/lookup", secret, body)
	wantStatus(e.tb, w, 200)
	var resp struct {
		People []*tillit.Person `json:"people"`
	}
	decode(e.tb, w, &resp)
	if resp.People == nil {
		e.tb.Fatalf("lookup answered no list: %s", w.Body.String())
	}
	var ids []int64
	for _, p := range resp.People {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestPeopleAPILookup(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, secret := e.token(acme, tillit.RoleReader)
		_, writer := e.token(acme, tillit.RoleCaseworker)
		_, cw := e.token(e.tenant("beta"), tillit.RoleCaseworker)
		kari := e.mustPerson(writer, `{"given_name":"Kari","email":"Kari@Example.com","phone":"+4791234567",
			"national_id":"811218-9876","national_id_country":"SE"}`)
		e.mustPerson(writer, `{"given_name":"Ola","email":"ola@example.com","phone":"+4791234568"}`)
		// The same values in another tenant are another tenant's person.
		e.mustPerson(cw, `{"given_name":"Kari","email":"kari@example.com","phone":"+4791234567"}`)

		for _, body := range []string{
			`{"email":"KARI@example.COM"}`,
			`{"email":" kari@example.com "}`,
			`{"phone":"91 23 45 67"}`,
			`{"phone":"0047 912 34 567"}`,
			`{"national_id":"198112189876"}`,
			`{"national_id":"8112189876","national_id_country":"SE"}`,
			`{"national_id":"811218-9876"}`,
		} {
			if ids := e.lookup(secret, body); len(ids) != 1 || ids[0] != kari.ID {
				t.Errorf("lookup %s: %v, want [%d]", body, ids, kari.ID)
			}
		}
		if ids := e.lookup(secret, `{"email":"nobody@example.com"}`); len(ids) != 0 {
			t.Errorf("lookup of nobody: %v", ids)
		}
		for _, body := range []string{`{}`, `{"email":"kari@example.com","phone":"+4791234567"}`,
			`{"email":"kari@example.com","national_id":"198112189876"}`, `{"email":"  "}`} {
			wantProblem(t, e.do("POST", "/api/v1/people/lookup", secret, body), 400, tillit.EInvalid, "")
		}
		wantProblem(t, e.do("POST", "/api/v1/people/lookup", secret, `{"email":"x","name":"Kari"}`), 400, tillit.EInvalid, "name")
		wantProblem(t, e.do("POST", "/api/v1/people/lookup", secret, `{"email":"not-an-email"}`), 400, tillit.EInvalid, "email")
	})
}

// importResult posts an import and decodes its result.
func (e *env) importResult(secret, query, ctype, body string, opts ...reqOption) tillit.ImportResult {
	e.tb.Helper()
	w := e.do("POST", "/api/v1/people/import"+query, secret, body, append([]reqOption{header("Content-Type", ctype)}, opts...)...)
	wantStatus(e.tb, w, 200)
	var res tillit.ImportResult
	decode(e.tb, w, &res)
	return res
}

// refusal returns the refusal of line, if any.
func refusal(res tillit.ImportResult, line int) (tillit.ImportRefusal, bool) {
	for _, r := range res.Refused {
		if r.Line == line {
			return r, true
		}
	}
	return tillit.ImportRefusal{}, false
}

func TestPeopleAPIImport(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, secret := e.token(acme, tillit.RoleCaseworker)
		_, auditor := e.token(acme, tillit.RoleAuditor)
		e.mustPerson(secret, `{"given_name":"Before","email":"before@example.com"}`)

		t.Run("csv", func(t *testing.T) {
			csv := "given_name;family_name;email;phone;national_id;national_id_country;city\n" + // line 1
				"Kari;Nordmann;kari@example.com;91234567;" + sePNR("811218987") + ";SE;Oslo\n" + // 2
				"Ola;Hansen;ola@example.com;;811218-9877;SE;Bergen\n" + // 3: bad national id
				"Nora;Berg;KARI@example.com;;;;\n" + // 4: the e-mail of line 2
				"Per;Olsen;before@example.com;;;;\n" + // 5: the e-mail of a person there before
				"Åse;Søreide;ase@example.com;+46 70 123 45 67;;;Trondheim\n" // 6
			res := e.importResult(secret, "", "text/csv; charset=utf-8", csv)
			if res.Created != 2 || !res.Imported || len(res.Refused) != 3 {
				t.Fatalf("csv import: %+v", res)
			}
			if r, ok := refusal(res, 3); !ok || r.Field != "national_id" || r.Duplicate || r.Reason == "" {
				t.Errorf("line 3: %+v", r)
			}
			for _, line := range []int{4, 5} {
				if r, ok := refusal(res, line); !ok || !r.Duplicate || r.Field != "email" {
					t.Errorf("line %d: %+v, want a duplicate e-mail", line, r)
				}
			}
			imports := e.events(auditor, "action=person.import")
			if len(imports) != 1 || !slices.Equal(imports[0].Fields, []string{"created:2", "refused:3"}) {
				t.Errorf("the import's event: %+v", imports)
			}
			if creates := e.events(auditor, "action=person.create"); len(creates) != 3 {
				t.Errorf("%d person.create events, want one for the person before and each created", len(creates))
			}
			if ids := e.lookup(secret, `{"phone":"+46701234567"}`); len(ids) != 1 {
				t.Errorf("imported Åse not found by phone: %v", ids)
			}
			if ids := e.lookup(secret, `{"national_id":"198112189876"}`); len(ids) != 1 {
				t.Errorf("imported Kari not found by national id: %v", ids)
			}
		})

		t.Run("ndjson", func(t *testing.T) {
			nd := `{"given_name":"Lars","email":"lars@example.com","address":{"city":"Tromsø"}}` + "\n" + // 1
				`{"given_name":"Lars","email":"lars@example.com"}` + "\n" + // 2: duplicate of line 1
				`{"given_name":"Sara","shoe_size":41}` + "\n" + // 3: unknown key
				`not json` + "\n" + // 4
				`{"given_name":"Emil","phone":"+4791000001"}` + "\n" // 5
			res := e.importResult(secret, "?all_or_nothing=false", "application/x-ndjson", nd)
			if res.Created != 2 || !res.Imported || len(res.Refused) != 3 {
				t.Fatalf("ndjson import: %+v", res)
			}
			if r, ok := refusal(res, 2); !ok || !r.Duplicate {
				t.Errorf("line 2: %+v", r)
			}
			for _, line := range []int{3, 4} {
				if r, ok := refusal(res, line); !ok || r.Duplicate || r.Reason == "" {
					t.Errorf("line %d: %+v", line, r)
				}
			}
		})

		t.Run("all or nothing", func(t *testing.T) {
			nd := `{"given_name":"Filip","email":"filip@example.com"}` + "\n" +
				`{"given_name":"Maja","email":"maja@example"}` + "\n" +
				`{"given_name":"Magnus","email":"magnus@example.com"}` + "\n"
			res := e.importResult(secret, "?all_or_nothing=true", "application/x-ndjson", nd)
			if res.Imported || res.Created != 0 || len(res.Refused) != 1 || res.Refused[0].Line != 2 || res.Refused[0].Field != "email" {
				t.Fatalf("all or nothing: %+v", res)
			}
			for _, email := range []string{"filip@example.com", "magnus@example.com"} {
				if ids := e.lookup(secret, fmt.Sprintf(`{"email":%q}`, email)); len(ids) != 0 {
					t.Errorf("%s was created by a refused import: %v", email, ids)
				}
			}
			// The same file without the bad line goes in whole.
			nd = strings.Replace(nd, `{"given_name":"Maja","email":"maja@example"}`+"\n", "", 1)
			if res := e.importResult(secret, "?all_or_nothing=true", "application/x-ndjson", nd); !res.Imported || res.Created != 2 {
				t.Fatalf("all or nothing, all good: %+v", res)
			}
		})

		t.Run("refused requests", func(t *testing.T) {
			nd := `{"given_name":"X"}` + "\n"
			for _, ct := range []string{"application/json", "text/plain", ""} {
				w := e.do("POST", "/api/v1/people/import", secret, nd, header("Content-Type", ct))
				wantProblem(t, w, 400, tillit.EInvalid, "")
			}
			w := e.do("POST", "/api/v1/people/import?all_or_nothing=maybe", secret, nd, header("Content-Type", "application/x-ndjson"))
			wantProblem(t, w, 400, tillit.EInvalid, "all_or_nothing")
			w = e.do("POST", "/api/v1/people/import", secret, "given_name;shoe_size\nKari;41\n", header("Content-Type", "text/csv"))
			wantProblem(t, w, 400, tillit.EInvalid, "shoe_size")
			// The refused file is audited as an import, not as what the
			// import read first (the schema).
			ev := eventOf(t, e.events(auditor, "limit=1000"), w.Header().Get("X-Request-Id"))
			if ev.Action != "person.import" || ev.Outcome != tillit.EInvalid {
				t.Errorf("the refused import's event: %+v", ev)
			}
		})
	})
}

// eventOf returns the event of the request with the id.
func eventOf(tb testing.TB, events []*tillit.Event, requestID string) *tillit.Event {
	tb.Helper()
	for _, ev := range events {
		if ev.RequestID == requestID {
			return ev
		}
	}
	tb.Fatalf("no event of request %q", requestID)
	return nil
}

// TestPeopleAPIImportLarge sends an import far larger than the API's 1 MiB
// limit of other bodies, once with its length and once streamed.
func TestPeopleAPIImportLarge(t *testing.T) {
	const n = 20000
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleCaseworker)
		for run, opts := range [][]reqOption{nil, {chunked}} {
			var b strings.Builder
			for i := range n {
				fmt.Fprintf(&b, `{"given_name":"Person","family_name":"Number %d","email":"p%d-%d@example.com"}`+"\n", i, run, i)
			}
			if b.Len() <= 1<<20 {
				t.Fatalf("the body has %d bytes, not more than 1 MiB", b.Len())
			}
			res := e.importResult(secret, "", "application/x-ndjson", b.String(), opts...)
			if res.Created != n || !res.Imported || len(res.Refused) != 0 {
				t.Fatalf("run %d: created %d of %d, refused %v", run, res.Created, n, res.Refused[:min(len(res.Refused), 3)])
			}
		}
		if ids := e.lookup(secret, fmt.Sprintf(`{"email":"p1-%d@example.com"}`, n-1)); len(ids) != 1 {
			t.Errorf("the last person of the streamed import is not there: %v", ids)
		}
	})
}
