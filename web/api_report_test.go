package web_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// cp1252 encodes s as the PDF's core fonts write it; s must have only
// Latin-1 letters.
func cp1252(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}

var pdfStreamRE = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)

// pdfText returns the page streams of a PDF, inflated.
func pdfText(tb testing.TB, pdf []byte) []byte {
	tb.Helper()
	var out []byte
	for _, m := range pdfStreamRE.FindAllSubmatch(pdf, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue // not deflated (an uncompressed stream)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			tb.Fatalf("inflate a PDF stream: %v", err)
		}
		out = append(out, b...)
	}
	return out
}

func TestReportAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, admin := e.token(acme, tillit.RoleAdmin)
		_, reader := e.token(acme, tillit.RoleReader)
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, auditor := e.token(acme, tillit.RoleAuditor)

		// Purposes.
		purposes := `{"purposes":[{"name":"Medlemskap","legal_basis":"contract","description":"Medlemsregisteret.","categories":["given_name","note"]}]}`
		w := e.do("PUT", "/api/v1/purposes", admin, purposes)
		wantStatus(t, w, http.StatusOK)
		w = e.do("GET", "/api/v1/purposes", auditor, "")
		wantStatus(t, w, http.StatusOK)
		var pl struct {
			Purposes []tillit.Purpose `json:"purposes"`
		}
		decode(t, w, &pl)
		if len(pl.Purposes) != 1 || pl.Purposes[0].Name != "Medlemskap" || pl.Purposes[0].LegalBasis != tillit.BasisContract {
			t.Fatalf("purposes %+v", pl)
		}
		wantProblem(t, e.do("PUT", "/api/v1/purposes", cw, purposes), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("PUT", "/api/v1/purposes", admin, `{"purposes":[{"name":"x","legal_basis":"whim"}]}`), 400, tillit.EInvalid, "purposes[0].legal_basis")
		wantProblem(t, e.do("PUT", "/api/v1/purposes", admin, `{}`), 400, tillit.EInvalid, "purposes")

		// A person, two records, read by two readers; another person read too.
		p := e.mustPerson(cw, `{"given_name":"Åse Øydis","family_name":"Ærø-Lindqvist","email":"ase@example.no"}`)
		for _, title := range []string{"Første møte", "Andre møte"} {
			wantStatus(t, e.do("POST", personPath(p.ID, "/records"), cw, fmt.Sprintf(`{"category":"note","title":%q,"body":"Snakket om æøå."}`, title)), 201)
		}
		other := e.mustPerson(cw, `{"given_name":"Ola","email":"ola@example.no"}`)
		wantStatus(t, e.do("GET", personPath(p.ID), reader, ""), 200)
		wantStatus(t, e.do("GET", personPath(other.ID), reader, ""), 200)
		wantStatus(t, e.do("GET", personPath(p.ID), cw, ""), 200)
		kari := e.user(acme, "kari@acme.example", tillit.RolePrivacy) // a user, by session
		browser, _ := e.signIn(acme, "kari@acme.example")
		wantStatus(t, browser.call("GET", personPath(p.ID), ""), 200)

		// JSON, the default.
		w = e.do("GET", personPath(p.ID, "/report"), cw, "")
		wantStatus(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), `"recipients":[]`) || !strings.Contains(w.Body.String(), `"sub_processors":[]`) {
			t.Fatalf("recipients not empty lists: %s", w.Body.String())
		}
		var rep tillit.PersonReport
		decode(t, w, &rep)
		if rep.Person.GivenName != "Åse Øydis" || len(rep.Records) != 2 || len(rep.Purposes) != 1 || rep.Language != "nb" ||
			!slices.Equal(rep.Sources, []string{"api"}) {
			t.Fatalf("report %+v", rep)
		}
		var readers []string
		for _, a := range rep.AccessHistory {
			if a.Action == "person.read" {
				readers = append(readers, a.Name+"/"+string(a.Role))
			}
			if a.Action == "person.create" && !slices.Contains(a.Attributes, "given_name") {
				t.Fatalf("create without its attributes: %+v", a)
			}
		}
		if !slices.Equal(readers, []string{"reader token/reader", "caseworker token/caseworker", "/privacy"}) {
			t.Fatalf("readers %v in %+v", readers, rep.AccessHistory)
		}
		if last := rep.AccessHistory[len(rep.AccessHistory)-1]; last.Actor != fmt.Sprintf("user:%d", kari.ID) {
			t.Fatalf("the user's read %+v", last)
		}
		if n := len(rep.AccessHistory); n != 1+2+3 { // create, 2 records, 3 reads: nothing of Ola
			t.Fatalf("%d accesses: %+v", n, rep.AccessHistory)
		}
		evs := e.events(admin, "action=person.report&target="+fmt.Sprintf("person:%d", p.ID))
		if len(evs) != 1 || !slices.Contains(evs[0].Fields, "records") || !slices.Contains(evs[0].Fields, "email") {
			t.Fatalf("report events %+v", evs)
		}

		// Who may not, and what is not there.
		wantProblem(t, e.do("GET", personPath(p.ID, "/report"), auditor, ""), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("GET", personPath(p.ID, "/report"), reader, ""), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("GET", personPath(p.ID, "/export"), auditor, ""), 403, tillit.EForbidden, "")
		_, otherAdmin := e.token(e.tenant("globex"), tillit.RoleAdmin)
		wantProblem(t, e.do("GET", personPath(p.ID, "/report"), otherAdmin, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", personPath(p.ID, "/report?format=pdf"), otherAdmin, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", personPath(p.ID, "/export"), otherAdmin, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("GET", personPath(p.ID, "/report?format=xml"), admin, ""), 400, tillit.EInvalid, "format")

		// HTML in the tenant's language, self-contained, its style allowed
		// by hash and nothing else.
		w = e.do("GET", personPath(p.ID, "/report?format=html"), admin, "")
		wantStatus(t, w, http.StatusOK)
		page := w.Body.String()
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		for _, want := range []string{`<html lang="nb">`, "Registerutskrift", "Åse Øydis", "Ærø-Lindqvist", "Første møte", "Snakket om æøå.",
			"Medlemskap", "Avtale (GDPR", "Personopplysninger", "Oppføringer", "Formål og rettslig grunnlag",
			"Kategorier av opplysninger", "Hvor opplysningene kom fra", "Mottakere", "Underleverandører",
			"Hvor lenge opplysningene lagres", "Hvem som har lest eller endret opplysningene", "Integrasjon «reader token»", "Leser"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page has no %q", want)
			}
		}
		if strings.Contains(page, "Ola") || strings.Contains(page, "kari@") || strings.Contains(page, "<script") {
			t.Fatal("the page names another person, a user's e-mail, or has a script")
		}
		if want := fmt.Sprintf("Ansatt nr. %d", kari.ID); !strings.Contains(page, want) {
			t.Errorf("the page has no %q", want)
		}
		// The console links to the page: a user's session may open it.
		if w := browser.call("GET", personPath(p.ID, "/report?format=html"), ""); w.Code != 200 || !strings.Contains(w.Body.String(), "Åse Øydis") {
			t.Fatalf("the page by session: %d", w.Code)
		}
		style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
		if style == nil {
			t.Fatal("no style element")
		}
		sum := sha256.Sum256([]byte(style[1]))
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.HasPrefix(csp, "default-src 'none'") {
			t.Fatalf("CSP %q does not allow the style by its hash", csp)
		}
		if !strings.Contains(style[1], "@media print") {
			t.Fatal("no print style")
		}

		// In English when the tenant speaks it.
		_, owner, err := sqldb.NewTokenService(e.db).CreateToken(sqldbtest.System(),
			tillit.TokenCreate{TenantID: acme.ID, Name: "settings", Role: tillit.RoleOwner, Sensitive: true})
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.do("PATCH", "/api/v1/tenant", owner, `{"locale":"en"}`), 200)
		w = e.do("GET", personPath(p.ID, "/report?format=html"), admin, "")
		if page := w.Body.String(); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "Who has read or changed the data") {
			t.Fatalf("English page: %s", page)
		}

		// PDF: a real one, the Nordic letters intact.
		w = e.do("GET", personPath(p.ID, "/report?format=pdf"), admin, "")
		wantStatus(t, w, http.StatusOK)
		if !bytes.HasPrefix(w.Body.Bytes(), []byte("%PDF-")) || w.Header().Get("Content-Type") != "application/pdf" {
			t.Fatalf("not a PDF: %q", w.Body.Bytes()[:min(20, w.Body.Len())])
		}
		if cd := w.Header().Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="person-%d-report.pdf"`, p.ID) {
			t.Fatalf("Content-Disposition %q", cd)
		}
		text := pdfText(t, w.Body.Bytes())
		for _, want := range []string{"Åse Øydis", "Ærø-Lindqvist", "Første møte", "Medlemskap", "Who has read or changed the data"} {
			if !bytes.Contains(text, cp1252(want)) {
				t.Errorf("the PDF has no %q", want)
			}
		}

		// The export: a zip of four files, streamed.
		w = e.do("GET", personPath(p.ID, "/export"), cw, "")
		wantStatus(t, w, http.StatusOK)
		if w.Header().Get("Content-Type") != "application/zip" ||
			w.Header().Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="person-%d-export.zip"`, p.ID) {
			t.Fatalf("export headers %v", w.Header())
		}
		if cl := w.Header().Get("Content-Length"); cl != "" {
			t.Fatalf("the export was buffered (Content-Length %s), not streamed", cl)
		}
		files := unzip(t, w.Body.Bytes())
		if names := slices.Sorted(maps.Keys(files)); !slices.Equal(names, []string{"person.csv", "person.json", "records.csv", "records.json"}) {
			t.Fatalf("export files %v", names)
		}
		var person tillit.Person
		if err := json.Unmarshal(files["person.json"], &person); err != nil || person.ID != p.ID || person.FamilyName != "Ærø-Lindqvist" {
			t.Fatalf("person.json %s: %v", files["person.json"], err)
		}
		var records []tillit.Record
		if err := json.Unmarshal(files["records.json"], &records); err != nil || len(records) != 2 || records[0].Body != "Snakket om æøå." {
			t.Fatalf("records.json %s: %v", files["records.json"], err)
		}
		rows, err := csv.NewReader(bytes.NewReader(files["person.csv"])).ReadAll()
		if err != nil || !slices.Equal(rows[0], []string{"attribute", "value"}) || !slices.ContainsFunc(rows, func(r []string) bool {
			return r[0] == "given_name" && r[1] == "Åse Øydis"
		}) {
			t.Fatalf("person.csv %q: %v", rows, err)
		}
		rows, err = csv.NewReader(bytes.NewReader(files["records.csv"])).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][3] != "title" || !slices.ContainsFunc(rows, func(r []string) bool { return r[3] == "Andre møte" }) {
			t.Fatalf("records.csv %q: %v", rows, err)
		}
		var exports []*tillit.Event // the auditor's refused one, then this one
		for _, ev := range e.events(admin, "action=person.export") {
			if ev.Outcome == tillit.OutcomeOK {
				exports = append(exports, ev)
			}
		}
		if len(exports) != 1 || exports[0].Target != fmt.Sprintf("person:%d", p.ID) || !slices.Contains(exports[0].Fields, "records") {
			t.Fatalf("export events %+v", exports)
		}

		// A value a spreadsheet would run as a formula is text in the CSV
		// files, with a quote before it (OWASP), and exact in the JSON files.
		m := e.mustPerson(cw, `{"given_name":"=HYPERLINK(\"http://evil.example\")","family_name":"@SUM(A1)","phone":"+4791234567"}`)
		wantStatus(t, e.do("POST", personPath(m.ID, "/records"), cw, `{"category":"note","title":"-2+3","body":"\tcmd"}`), 201)
		w = e.do("GET", personPath(m.ID, "/export"), cw, "")
		wantStatus(t, w, http.StatusOK)
		files = unzip(t, w.Body.Bytes())
		rows, err = csv.NewReader(bytes.NewReader(files["person.csv"])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		cells := map[string]string{}
		for _, r := range rows {
			cells[r[0]] = r[1]
		}
		if cells["given_name"] != `'=HYPERLINK("http://evil.example")` || cells["family_name"] != "'@SUM(A1)" || cells["phone"] != "'+4791234567" {
			t.Fatalf("person.csv not escaped: %q", rows)
		}
		if !strings.HasPrefix(cells["collected_at"], "20") || cells["source"] != "api" {
			t.Fatalf("person.csv escaped a time: %q", rows)
		}
		rows, err = csv.NewReader(bytes.NewReader(files["records.csv"])).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][3] != "'-2+3" || rows[1][4] != "'\tcmd" || rows[1][2] != "note" {
			t.Fatalf("records.csv not escaped: %q: %v", rows, err)
		}
		person = tillit.Person{}
		if err := json.Unmarshal(files["person.json"], &person); err != nil || person.GivenName != `=HYPERLINK("http://evil.example")` || person.Phone != "+4791234567" {
			t.Fatalf("person.json changed: %s: %v", files["person.json"], err)
		}
		records = nil
		if err := json.Unmarshal(files["records.json"], &records); err != nil || len(records) != 1 || records[0].Title != "-2+3" || records[0].Body != "\tcmd" {
			t.Fatalf("records.json changed: %s: %v", files["records.json"], err)
		}
	})
}

func unzip(tb testing.TB, b []byte) map[string][]byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}
