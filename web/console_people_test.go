package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// The register's console pages over plain HTTP: every page in every
// language, who may see and do what, lookups, the forms' errors, tenant
// isolation, and no personal value in a URL.

// kari is the test person, as the new-person form is filled in.
var kari = url.Values{
	"given_name": {"Kari"}, "family_name": {"Nordmann-Ås"}, "national_id": {"19811218-9876"},
	"national_id_country": {"SE"}, "birth_date": {""}, "email": {"Kari.Nordmann@example.test"},
	"phone": {"+46 70 123 45 67"}, "language": {"sv"}, "address.street": {"Storgatan 1"},
	"address.postal_code": {"111 22"}, "address.city": {"Stockholm"}, "address.country": {"SE"},
}

// kariValues are the values of kari that must never be in a URL.
var kariValues = []string{"Kari", "Nordmann", "example.test", "198112189876", "811218-9876", "46701234567", "Storgatan"}

// registerEnv is the console with an administrator, a caseworker, a
// reader and an auditor of acme, each signed in.
type registerEnv struct {
	*browserEnv
	admin, worker, reader, auditor *consoleClient
}

func newRegisterEnv(t *testing.T) *registerEnv {
	t.Helper()
	e := newConsoleEnv(t, nil)
	r := &registerEnv{browserEnv: e}
	for _, u := range []struct {
		email string
		role  tillit.Role
		c     **consoleClient
	}{{"ad@acme.test", tillit.RoleAdmin, &r.admin}, {"cw@acme.test", tillit.RoleCaseworker, &r.worker}, {"rd@acme.test", tillit.RoleReader, &r.reader},
		{"au@acme.test", tillit.RoleAuditor, &r.auditor}} {
		e.user(u.email, u.role)
		*u.c = newConsoleClient(t, e)
		(*u.c).signIn(u.email)
	}
	return r
}

// createKari creates the test person through the form and returns the
// path of their page.
func (r *registerEnv) createKari(t *testing.T) string {
	t.Helper()
	resp, body := r.worker.do("POST", "/people/new", kari)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/people/\d+\?notice=person_created$`).MatchString(loc) {
		t.Fatalf("create: %d %q %.2000s", resp.StatusCode, loc, mainOf(body))
	}
	return strings.TrimSuffix(loc, "?notice=person_created")
}

// keyRE finds what looks like a catalog key shown as text or in an
// attribute: a missing text shows as its key.
var keyRE = regexp.MustCompile(`(?:>|")\s*([a-z][a-z0-9_]*(?:\.[a-zA-Z0-9_]+)+)\s*(?:<|")`)

// missingKeys returns the catalog keys a page shows as themselves, leaving
// out the names of inputs ("address.city", "attributes.level").
func missingKeys(body string) []string {
	var out []string
	for _, m := range keyRE.FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "address.") && !strings.HasPrefix(m[1], "attributes.") {
			out = append(out, m[1])
		}
	}
	return out
}

func TestConsoleRegisterPages(t *testing.T) {
	if keys := missingKeys(`<p>people.nope</p><nav aria-label="nav.nope">`); len(keys) != 2 {
		t.Fatalf("missingKeys finds %q", keys)
	}
	e := newRegisterEnv(t)
	person := e.createKari(t)
	resp, body := e.worker.do("POST", person+"/records", url.Values{"category": {"note"}, "title": {"Met <b>Kari</b>"},
		"body": {"First line\r\nSecond <script>line</script>"}})
	want(t, resp, body, http.StatusSeeOther, person+"?notice=record_added#records")
	resp, body = e.admin.do("POST", "/schema", url.Values{"rows": {"1"}, "attributes[0].name": {"level"},
		"attributes[0].type": {"enum"}, "attributes[0].classification": {"special"}, "attributes[0].values": {"low, high"},
		"categories": {"note, case, visit"}})
	want(t, resp, body, http.StatusSeeOther, "/schema?notice=schema_saved")

	pages := []string{"/people", "/people?sort=family_name", person, person + "/edit", "/people/new", "/people/import", "/schema"}
	for _, lang := range []string{"nb", "sv", "en"} {
		e.worker.setLang(lang)
		for _, p := range pages {
			t.Run(lang+p, func(t *testing.T) {
				resp, body := e.worker.do("GET", p, nil)
				want(t, resp, body, http.StatusOK, "")
				if !strings.Contains(body, `<html lang="`+lang+`">`) {
					t.Fatalf("not in %s", lang)
				}
				if keys := missingKeys(body); len(keys) > 0 {
					t.Fatalf("texts missing from the catalogs: %q", keys)
				}
				if !strings.Contains(body, `href="/people" aria-current="page"`) && !strings.Contains(body, `href="/schema" aria-current="page"`) {
					t.Fatal("the navigation does not show the register's section")
				}
			})
		}
	}

	t.Run("person page", func(t *testing.T) {
		e.worker.setLang("en")
		resp, body := e.worker.do("GET", person, nil)
		want(t, resp, body, http.StatusOK, "")
		for _, s := range []string{"Nordmann-Ås", "Kari.Nordmann@example.test", "198112189876", "1981-12-18", "&#43;46701234567",
			"Storgatan 1", "Met &lt;b&gt;Kari&lt;/b&gt;", "First line\nSecond &lt;script&gt;line&lt;/script&gt;", "<dt>level ", "Special category"} {
			if !strings.Contains(body, s) {
				t.Errorf("the page does not show %q: %s", s, mainOf(body))
			}
		}
		if strings.Contains(body, "<script>line") || strings.Contains(body, "<b>Kari") {
			t.Error("a record is not escaped")
		}
		ev := e.event(t, resp.Header.Get("X-Request-Id"))
		if ev.Action != "person.read" || ev.Target != "person:"+strings.TrimPrefix(person, "/people/") ||
			!slices.Contains(ev.Fields, "email") || !slices.Contains(ev.Fields, "records") {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("edit", func(t *testing.T) {
		_, form := e.worker.do("GET", person+"/edit", nil)
		if !strings.Contains(form, `name="address.postal_code" type="text" value="111 22"`) {
			t.Fatalf("the form is not filled in: %.3000s", form)
		}
		f := cloneValues(kari)
		f.Set("family_name", "Hansen")
		f.Set("national_id", "198112189876")
		f.Set("birth_date", "1981-12-18")
		f.Set("attributes.level", "high")
		resp, body := e.worker.do("POST", person+"/edit", f)
		want(t, resp, body, http.StatusSeeOther, person+"?notice=person_saved")
		ev := e.event(t, resp.Header.Get("X-Request-Id"))
		if ev.Action != "person.update" || !slices.Equal(ev.Fields, []string{"attributes.level", "family_name"}) {
			t.Fatalf("event %+v: want only what changed", ev)
		}
		_, body = e.worker.do("GET", person, nil)
		if !strings.Contains(body, "Kari Hansen") || !strings.Contains(body, ">high<") {
			t.Fatalf("not saved: %.2000s", body)
		}
	})
	t.Run("lookup", func(t *testing.T) {
		for _, l := range [][2]string{{"email", "KARI.nordmann@example.test"}, {"phone", "+46 70-123 45 67"}, {"national_id", "811218-9876"}} {
			e.worker.setLang("en")
			resp, body := e.worker.do("POST", "/people/lookup", url.Values{"by": {l[0]}, "lookup_value": {l[1]}})
			want(t, resp, body, http.StatusOK, "")
			if !strings.Contains(body, `<a href="`+person+`">Kari Hansen</a>`) {
				t.Fatalf("lookup by %s did not find Kari: %.3000s", l[0], mainOf(body))
			}
		}
		e.worker.setLang("en")
		resp, body := e.worker.do("POST", "/people/lookup", url.Values{"by": {"email"}, "lookup_value": {"nobody@example.test"}})
		want(t, resp, body, http.StatusOK, "")
		if !strings.Contains(body, "No one in the register has this value.") {
			t.Fatalf("no matches: %.2000s", body)
		}
		e.worker.setLang("nb")
		resp, body = e.worker.do("POST", "/people/lookup", url.Values{"by": {"national_id"}, "lookup_value": {"123"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-lookup_value-error"`) {
			t.Fatalf("no error on the input: %.3000s", body)
		}
	})
	t.Run("bad e-mail", func(t *testing.T) {
		f := cloneValues(kari)
		f.Set("email", "not an address")
		f.Set("national_id", "")
		f.Set("national_id_country", "")
		e.worker.setLang("en")
		resp, body := e.worker.do("POST", "/people/new", f)
		want(t, resp, body, http.StatusBadRequest, "")
		for _, s := range []string{`id="f-email-error"`, `href="#f-email"`, `name="email" type="email" value="not an address"`,
			`aria-invalid="true" aria-describedby="f-email-error"`, `name="given_name" type="text" value="Kari"`} {
			if !strings.Contains(body, s) {
				t.Fatalf("form again without %q: %.4000s", s, mainOf(body))
			}
		}
		e.worker.setLang("sv")
		resp, body = e.worker.do("POST", "/people/new", f)
		if !strings.Contains(body, "Ange en e-postadress") {
			t.Fatalf("no Swedish text of the error: %.3000s", body)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		e.worker.setLang("nb")
		resp, body := e.worker.do("POST", "/people/new", kari)
		want(t, resp, body, http.StatusConflict, "")
		if !strings.Contains(body, "En annen person i registeret har denne e-postadressen") {
			t.Fatalf("conflict: %.3000s", body)
		}
	})
	t.Run("bad schema", func(t *testing.T) {
		e.admin.setLang("nb")
		resp, body := e.admin.do("POST", "/schema", url.Values{"rows": {"2"}, "attributes[0].name": {"level"},
			"attributes[0].type": {"enum"}, "attributes[0].classification": {"special"}, "attributes[0].values": {"low"},
			"attributes[1].name": {"Bad Name"}, "attributes[1].type": {"string"}, "attributes[1].classification": {"personal"},
			"categories": {"note"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-attributes[1].name-error"`) || !strings.Contains(body, "Bruk små bokstaver") {
			t.Fatalf("no error on the name: %.4000s", body)
		}
	})
	t.Run("records", func(t *testing.T) {
		e.worker.setLang("en")
		resp, body := e.worker.do("POST", person+"/records", url.Values{"category": {"nonsense"}, "title": {""}, "body": {"x"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-category-error"`) || !strings.Contains(body, `<textarea id="f-body"`) {
			t.Fatalf("record form again: %.3000s", body)
		}
		id := regexp.MustCompile(`action="` + person + `/records/(\d+)/delete"`).FindStringSubmatch(body)
		if id == nil {
			t.Fatal("no delete form")
		}
		resp, body = e.worker.do("POST", person+"/records/"+id[1]+"/delete", url.Values{})
		want(t, resp, body, http.StatusBadRequest, "")
		resp, body = e.worker.do("POST", person+"/records/"+id[1]+"/delete", url.Values{"confirm": {"yes"}})
		want(t, resp, body, http.StatusSeeOther, person+"?notice=record_deleted#records")
		e.worker.setLang("en")
		_, body = e.worker.do("GET", person, nil)
		if !strings.Contains(body, "This person has no records yet.") {
			t.Fatal("the record is still there")
		}
	})
	t.Run("import without script", func(t *testing.T) {
		resp, body := e.worker.importForm(t, "people.csv", "given_name,family_name,email\nOla,Nordmann,ola@example.test\nPer,Hansen,not-an-address\n")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "People added: 1.") ||
			!strings.Contains(body, "<tr><td>3</td><td><code>email</code></td>") {
			t.Fatalf("import %d: %.4000s", resp.StatusCode, mainOf(body))
		}
		resp, body = e.worker.importForm(t, "", "")
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-file-error"`) {
			t.Fatalf("no error on the file input: %.3000s", body)
		}
	})
}

// importForm posts a file to the import page as a form without the page's
// script does.
func (c *consoleClient) importForm(t *testing.T, name, content string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.ts.URL+"/people/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// cloneValues returns a copy of v.
func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = slices.Clone(vals)
	}
	return out
}

func TestConsoleRegisterAccess(t *testing.T) {
	e := newRegisterEnv(t)
	person := e.createKari(t)

	t.Run("reader", func(t *testing.T) {
		_, body := e.reader.do("GET", "/people", nil)
		if !strings.Contains(body, person) || strings.Contains(body, `href="/people/new"`) || strings.Contains(body, `href="/people/import"`) {
			t.Fatalf("reader's list: %.3000s", body)
		}
		_, body = e.reader.do("GET", person, nil)
		if !strings.Contains(body, "Nordmann") || strings.Contains(body, "/edit") || strings.Contains(body, "/records") {
			t.Fatalf("reader's person page has forms: %.3000s", body)
		}
		_, body = e.reader.do("GET", "/schema", nil)
		if strings.Contains(body, `action="/schema"`) {
			t.Fatal("reader sees the schema form")
		}
		for _, r := range []struct {
			method, path string
		}{{"GET", "/people/new"}, {"POST", "/people/new"}, {"GET", person + "/edit"}, {"POST", person + "/edit"},
			{"POST", person + "/records"}, {"POST", person + "/records/1/delete"}, {"GET", "/people/import"},
			{"POST", "/people/import"}, {"POST", "/schema"}} {
			var form url.Values
			if r.method == "POST" {
				form = cloneValues(kari)
			}
			resp, body := e.reader.do(r.method, r.path, form)
			want(t, resp, body, http.StatusForbidden, "")
		}
	})
	t.Run("auditor", func(t *testing.T) {
		_, home := e.auditor.do("GET", "/", nil)
		if strings.Contains(home, `href="/people"`) || !strings.Contains(home, `href="/schema"`) {
			t.Fatalf("auditor's navigation: %.2000s", home)
		}
		for _, p := range []string{"/people", person, "/people/new", "/people/import"} {
			resp, body := e.auditor.do("GET", p, nil)
			want(t, resp, body, http.StatusForbidden, "")
			if strings.Contains(body, "Nordmann") {
				t.Fatal("a 403 page shows personal data")
			}
		}
		resp, body := e.auditor.do("POST", "/people/lookup", url.Values{"by": {"email"}, "lookup_value": {"kari.nordmann@example.test"}})
		want(t, resp, body, http.StatusForbidden, "")
		if ev := e.event(t, resp.Header.Get("X-Request-Id")); ev.Action != "console.person.lookup" || ev.Outcome != tillit.EForbidden {
			t.Fatalf("event %+v", ev)
		}
	})
	t.Run("another tenant's person", func(t *testing.T) {
		other := sqldbtest.MustTenant(t, e.db, "other")
		_, _, ctx := sqldbtest.MustToken(t, e.db, other, tillit.RoleCaseworker)
		p := &tillit.Person{GivenName: "Olle", FamilyName: "Other"}
		if err := e.cfg.People.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		path := "/people/" + strconv.FormatInt(p.ID, 10)
		for _, r := range []struct{ method, path string }{{"GET", path}, {"GET", path + "/edit"}, {"POST", path + "/edit"},
			{"POST", path + "/records"}, {"POST", path + "/records/1/delete"}} {
			var form url.Values
			if r.method == "POST" {
				form = url.Values{"category": {"note"}, "title": {"x"}, "confirm": {"yes"}, "given_name": {"X"}}
			}
			resp, body := e.worker.do(r.method, r.path, form)
			want(t, resp, body, http.StatusNotFound, "")
			if strings.Contains(body, "Olle") {
				t.Fatal("the 404 page shows the other tenant's person")
			}
		}
		_, body := e.worker.do("GET", "/people", nil)
		if strings.Contains(body, "Olle") || strings.Contains(body, path) {
			t.Fatal("the list shows the other tenant's person")
		}
		if n := countPeople(t, ctx, e); n != 1 {
			t.Fatalf("the other tenant has %d people", n)
		}
	})
}

// countPeople counts the people of the tenant of ctx.
func countPeople(t *testing.T, ctx context.Context, e *registerEnv) int {
	t.Helper()
	page, err := e.cfg.People.FindPeople(ctx, tillit.PersonFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.People)
}

// urlAttrRE finds the URLs a page links to, posts to or loads.
var urlAttrRE = regexp.MustCompile(`(?:href|action|src|data-[a-z-]*url|data-api|formaction)="([^"]*)"`)

// TestConsoleRegisterURLs: no page of the register links to, posts to or
// loads a URL with a personal value in it; redirects carry ids only.
func TestConsoleRegisterURLs(t *testing.T) {
	e := newRegisterEnv(t)
	person := e.createKari(t)
	resp, body := e.worker.do("POST", person+"/records", url.Values{"category": {"note"}, "title": {"Kari called"}, "body": {"Kari"}})
	want(t, resp, body, http.StatusSeeOther, person+"?notice=record_added#records")
	e.worker.setLang("en")
	var csv strings.Builder
	csv.WriteString("given_name;family_name\n")
	for i := range 60 { // more than a page
		fmt.Fprintf(&csv, "Extra;Person %02d\n", i)
	}
	if resp, body := e.worker.importForm(t, "people.csv", csv.String()); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, "People added: 60.") {
		t.Fatalf("import %d: %.3000s", resp.StatusCode, mainOf(body))
	}
	var pages []string
	for _, p := range []string{"/people", "/people?sort=family_name", person, person + "/edit", "/people/import", "/schema"} {
		_, body := e.worker.do("GET", p, nil)
		pages = append(pages, body)
		if next := regexp.MustCompile(`href="(/people\?[^"]+)" rel="next"`).FindStringSubmatch(body); next != nil {
			resp, body := e.worker.do("GET", html.UnescapeString(next[1]), nil)
			want(t, resp, body, http.StatusOK, "")
			if !strings.Contains(body, "First page") && !strings.Contains(body, "Første side") {
				t.Fatalf("the next page has no way back: %.2000s", body)
			}
			pages = append(pages, body)
		} else if strings.HasPrefix(p, "/people?") || p == "/people" {
			t.Fatalf("%s: no next page", p)
		}
	}
	_, body = e.worker.do("POST", "/people/lookup", url.Values{"by": {"email"}, "lookup_value": {"kari.nordmann@example.test"}})
	pages = append(pages, body)
	f := cloneValues(kari)
	f.Set("email", "Kari@@example.test")
	_, body = e.worker.do("POST", person+"/edit", f)
	pages = append(pages, body)
	seen := 0
	for _, page := range pages {
		for _, m := range urlAttrRE.FindAllStringSubmatch(page, -1) {
			u, _ := url.QueryUnescape(html.UnescapeString(m[1]))
			seen++
			for _, v := range kariValues {
				if strings.Contains(strings.ToLower(u), strings.ToLower(v)) {
					t.Errorf("URL %q holds %q", m[1], v)
				}
			}
		}
	}
	if seen < 50 {
		t.Fatalf("only %d URLs seen", seen)
	}
}

// mainOf returns the page from its main element on, for failure messages.
func mainOf(page string) string {
	if i := strings.Index(page, "<main"); i >= 0 {
		return page[i:]
	}
	return page
}

// setLang chooses the language of the pages, as the switcher does.
func (c *consoleClient) setLang(lang string) {
	c.t.Helper()
	resp, body := c.do("POST", "/lang", url.Values{"lang": {lang}, "next": {"/"}})
	want(c.t, resp, body, http.StatusSeeOther, "/")
}
