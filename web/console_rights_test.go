package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tillit"
	"tillit/auditlog"
	"tillit/receipt"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/web"
)

// The console's pages of people's rights over plain HTTP: the person
// page's actions (restriction, hold, erasure with a step-up and its
// receipt), the requests inbox and a request's page, the retention page
// with its preview and review list, and the purposes editor; in every
// language; each refused with the error on its field; and who may see
// and do what.

// consoleRightsEnv is the console with a register whose erasures are signed,
// people collected five months before anyone signed in, and signed-in
// users of every role that matters here.
type consoleRightsEnv struct {
	*browserEnv
	vkey                                    string // the receipts' verifier key
	token                                   context.Context
	admin, privacy, worker, reader, auditor *consoleClient
	old                                     []int64 // people collected five months ago
}

// consoleReceiptSigner makes the register of e sign receipts, as `tillit serve`
// does, and returns the verifier key.
func consoleReceiptSigner(t *testing.T, e *browserEnv) string {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.People.(*sqldb.PeopleService).WithReceipts(signer)
	return vkey
}

func newConsoleRightsEnv(t *testing.T, old int) *consoleRightsEnv {
	t.Helper()
	return newConsoleRightsEnvOn(t, newConsoleEnv(t, nil), old)
}

// newConsoleRightsEnvOn is newConsoleRightsEnv on the console env be.
func newConsoleRightsEnvOn(t *testing.T, be *browserEnv, old int) *consoleRightsEnv {
	t.Helper()
	e := &consoleRightsEnv{browserEnv: be}
	e.vkey = consoleReceiptSigner(t, e.browserEnv)
	_, _, ctx := sqldbtest.MustToken(t, e.db, e.acme, tillit.RoleCaseworker)
	for i := range old {
		p := &tillit.Person{GivenName: "Gammel", FamilyName: "Person " + strconv.Itoa(i)}
		if err := e.cfg.People.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		e.old = append(e.old, p.ID)
	}
	if old > 0 {
		e.clock.Add(5 * 30 * 24 * time.Hour)
	}
	_, _, e.token = sqldbtest.MustToken(t, e.db, e.acme, tillit.RoleAdmin)
	for _, u := range []struct {
		email string
		role  tillit.Role
		c     **consoleClient
	}{{"ad@acme.test", tillit.RoleAdmin, &e.admin}, {"pv@acme.test", tillit.RolePrivacy, &e.privacy},
		{"cw@acme.test", tillit.RoleCaseworker, &e.worker}, {"rd@acme.test", tillit.RoleReader, &e.reader},
		{"au@acme.test", tillit.RoleAuditor, &e.auditor}} {
		e.user(u.email, u.role)
		*u.c = newConsoleClient(t, e.browserEnv)
		(*u.c).signIn(u.email)
	}
	return e
}

// createPerson adds a person through the form and returns the path of
// their page.
func (e *consoleRightsEnv) createPerson(t *testing.T, given, family string) string {
	t.Helper()
	resp, body := e.worker.do("POST", "/people/new", url.Values{"given_name": {given}, "family_name": {family}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "?notice=person_created") {
		t.Fatalf("create: %d %q %.2000s", resp.StatusCode, loc, mainOf(body))
	}
	return strings.TrimSuffix(loc, "?notice=person_created")
}

// stepUp returns form with the step-up of email filled in.
func (e *consoleRightsEnv) stepUp(form url.Values, email string) url.Values {
	f := cloneValues(form)
	f.Set("stepup_password", testPassword)
	f.Set("stepup_method", "totp")
	f.Set("stepup_code", e.code(email))
	return f
}

// consolePageOK gets path and fails unless it is a page in lang without missing
// texts.
func consolePageOK(t *testing.T, c *consoleClient, path, lang string) string {
	t.Helper()
	resp, body := c.do("GET", path, nil)
	want(t, resp, body, http.StatusOK, "")
	if !strings.Contains(body, `<html lang="`+lang+`">`) {
		t.Fatalf("%s: not in %s", path, lang)
	}
	if keys := missingKeys(body); len(keys) > 0 {
		t.Fatalf("%s: texts missing from the catalogs: %q", path, keys)
	}
	return body
}

func TestConsoleRightsPages(t *testing.T) {
	e := newConsoleRightsEnv(t, 0)
	person := e.createPerson(t, "Kari", "Nordmann")
	req := postRequest(t, e.privacy, url.Values{"type": {"access"}, "channel": {"email"},
		"received_at": {e.clock.Now().Format(time.DateOnly)}, "note": {"Ringte"}})
	for _, lang := range []string{"nb", "sv", "en"} {
		e.privacy.setLang(lang)
		for _, p := range []string{person, "/requests", "/requests?show=all", req, "/retention", "/purposes"} {
			t.Run(lang+p, func(t *testing.T) {
				body := consolePageOK(t, e.privacy, p, lang)
				for _, nav := range []string{`href="/requests"`, `href="/retention"`, `href="/purposes"`} {
					if !strings.Contains(body, nav) {
						t.Fatalf("no navigation link %s", nav)
					}
				}
			})
		}
	}
	e.privacy.setLang("en")
	body := consolePageOK(t, e.privacy, person, "en")
	id := strings.TrimPrefix(person, "/people/")
	for _, s := range []string{`href="/api/v1/people/` + id + `/report?format=pdf"`, `href="/api/v1/people/` + id + `/export"`,
		`action="` + person + `/restriction"`, `action="` + person + `/hold"`, `action="` + person + `/erase"`,
		`action="` + person + `/anonymise"`} {
		if !strings.Contains(body, s) {
			t.Errorf("the privacy officer's person page has no %s", s)
		}
	}
}

func TestConsolePersonRights(t *testing.T) {
	e := newConsoleRightsEnv(t, 0)
	person := e.createPerson(t, "Kari", "Nordmann")
	other := e.createPerson(t, "Ola", "Hansen")
	e.privacy.setLang("en")

	t.Run("restriction", func(t *testing.T) {
		resp, body := e.privacy.do("POST", person+"/restriction", url.Values{"change": {"restrict"}, "restriction_reason": {" "}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-restriction_reason-error"`) || !strings.Contains(body, "Give a reason") {
			t.Fatalf("no error on the reason: %.3000s", mainOf(body))
		}
		resp, body = e.privacy.do("POST", person+"/restriction", url.Values{"change": {"restrict"}, "restriction_reason": {"Disputes the address"}})
		want(t, resp, body, http.StatusSeeOther, person+"?notice=restricted#rights")
		if ev := e.event(t, resp.Header.Get("X-Request-Id")); ev.Action != "person.restrict" || ev.Outcome != tillit.OutcomeOK {
			t.Fatalf("event %+v", ev)
		}
		_, body = e.privacy.do("GET", person, nil)
		if !strings.Contains(body, `id="state-restricted"`) || !strings.Contains(body, "Disputes the address") ||
			!strings.Contains(body, "Lift the restriction") {
			t.Fatalf("the restriction is not shown: %.3000s", mainOf(body))
		}
		_, list := e.reader.do("GET", "/people", nil)
		if strings.Contains(list, person+`"`) {
			t.Fatal("a reader still sees the restricted person in the list")
		}
		resp, body = e.privacy.do("POST", person+"/restriction", url.Values{"change": {"lift"}})
		want(t, resp, body, http.StatusSeeOther, person+"?notice=restriction_lifted#rights")
		_, body = e.privacy.do("GET", person+"?notice=restriction_lifted", nil)
		if strings.Contains(body, `id="state-restricted"`) || !strings.Contains(body, "The restriction has been lifted.") {
			t.Fatalf("the lifted restriction is still shown: %.3000s", mainOf(body))
		}
	})
	t.Run("hold blocks erasure", func(t *testing.T) {
		resp, body := e.privacy.do("POST", person+"/hold", url.Values{"change": {"hold"}, "hold_reason": {"Bookkeeping law"}, "hold_until": {"31.12.2099"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-hold_until-error"`) {
			t.Fatalf("no error on the day: %.3000s", mainOf(body))
		}
		resp, body = e.privacy.do("POST", person+"/hold", url.Values{"change": {"hold"}, "hold_reason": {"Bookkeeping law"}, "hold_until": {"2001-12-31"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-hold_until-error"`) || !strings.Contains(body, "has not passed") {
			t.Fatalf("a day passed: %.3000s", mainOf(body))
		}
		resp, body = e.privacy.do("POST", person+"/hold", url.Values{"change": {"hold"}, "hold_reason": {"Bookkeeping law"}, "hold_until": {"2099-12-31"}})
		want(t, resp, body, http.StatusSeeOther, person+"?notice=hold_set#rights")
		_, body = e.privacy.do("GET", person, nil)
		if !strings.Contains(body, `id="state-held"`) || !strings.Contains(body, "Bookkeeping law") || !strings.Contains(body, "through 2099-12-31") {
			t.Fatalf("the hold is not shown: %.3000s", mainOf(body))
		}
		f := e.stepUp(url.Values{"confirm": {"yes"}}, "pv@acme.test")
		resp, body = e.privacy.do("POST", person+"/erase", f)
		want(t, resp, body, http.StatusConflict, "")
		if !strings.Contains(body, "legal hold and cannot be erased or anonymised. Reason: Bookkeeping law") {
			t.Fatalf("the refusal does not give the hold's reason: %.3000s", mainOf(body))
		}
		resp, body = e.privacy.do("POST", person+"/hold", url.Values{"change": {"release"}})
		want(t, resp, body, http.StatusSeeOther, person+"?notice=hold_released#rights")
		_, body = e.privacy.do("GET", person, nil)
		if strings.Contains(body, `id="state-held"`) {
			t.Fatal("the released hold is still shown")
		}
	})
	t.Run("erase", func(t *testing.T) {
		resp, body := e.admin.do("POST", other+"/erase", url.Values{})
		want(t, resp, body, http.StatusBadRequest, "")
		e.admin.setLang("en")
		resp, body = e.admin.do("POST", other+"/erase", url.Values{"confirm": {"yes"}})
		want(t, resp, body, http.StatusForbidden, "")
		if !strings.Contains(body, `id="stepup-title"`) || !strings.Contains(body, `action="`+other+`/erase"`) ||
			!strings.Contains(body, `name="confirm" value="yes"`) {
			t.Fatalf("no step-up form carrying the confirmation: %.3000s", mainOf(body))
		}
		f := e.stepUp(url.Values{"confirm": {"yes"}}, "ad@acme.test")
		f.Set("stepup_code", "000000")
		resp, body = e.admin.do("POST", other+"/erase", f)
		want(t, resp, body, http.StatusUnauthorized, "")
		if _, err := e.cfg.People.FindPersonByID(e.token, pathID(t, other)); err != nil {
			t.Fatalf("erased after a failed step-up: %v", err)
		}
		resp, body = e.admin.do("POST", other+"/erase", e.stepUp(url.Values{"confirm": {"yes"}}, "ad@acme.test"))
		want(t, resp, body, http.StatusOK, "")
		if evs := e.events(t, resp.Header.Get("X-Request-Id")); len(evs) != 2 || evs[0].Action != "auth.step_up" ||
			evs[1].Action != "person.erase" || evs[1].Target != "person:"+strconv.FormatInt(pathID(t, other), 10) {
			t.Fatalf("events %+v: want the step-up's, then the erasure's", evs)
		}
		if !strings.Contains(body, "The person has been erased.") || !strings.Contains(body, `<pre class="receipt"`) ||
			strings.Contains(body, "Hansen") {
			t.Fatalf("receipt page: %.3000s", mainOf(body))
		}
		m := regexp.MustCompile(`(?s)<pre class="receipt" id="receipt" tabindex="0">(.*?)</pre>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no receipt")
		}
		rc, err := receipt.Verify([]byte(html.UnescapeString(m[1])), e.vkey)
		if err != nil || rc.PersonID != pathID(t, other) || rc.Kind != tillit.ReceiptErasure {
			t.Fatalf("the receipt shown does not verify: %+v %v", rc, err)
		}
		dl := regexp.MustCompile(`href="data:application/json;base64,([A-Za-z0-9+/=]+)" download="erasure-receipt-\d+\.json"`).FindStringSubmatch(body)
		if dl == nil {
			t.Fatal("no download of the receipt")
		}
		resp, body = e.admin.do("GET", other, nil)
		want(t, resp, body, http.StatusNotFound, "")
		_, list := e.admin.do("GET", "/people", nil)
		if strings.Contains(list, other+`"`) || strings.Contains(list, "Hansen") {
			t.Fatal("the erased person is still in the list")
		}
	})
	t.Run("anonymise", func(t *testing.T) {
		// The admin stepped up in the last test: no second step-up.
		resp, body := e.admin.do("POST", person+"/anonymise", url.Values{"confirm": {"yes"}})
		want(t, resp, body, http.StatusOK, "")
		if !strings.Contains(body, "The person has been anonymised.") {
			t.Fatalf("receipt page: %.3000s", mainOf(body))
		}
		_, body = e.admin.do("GET", person, nil)
		if strings.Contains(body, "Kari") || strings.Contains(body, `action="`+person+`/anonymise"`) {
			t.Fatalf("the anonymised person's page: %.3000s", mainOf(body))
		}
	})
}

// racedRegister is the register with an erasure or anonymisation that,
// while conflict is set, loses the race to another request: the store's
// own answer then, a conflict that is not the legal hold's.
type racedRegister struct {
	tillit.Register
	conflict atomic.Bool
}

func (r *racedRegister) AnonymisePerson(ctx context.Context, id int64) (*tillit.Receipt, error) {
	if r.conflict.Load() {
		return nil, tillit.Errorf(tillit.EConflict, "this person was erased or anonymised by another request meanwhile")
	}
	return r.Register.AnonymisePerson(ctx, id)
}

// newConsoleEnvServing is newConsoleEnv whose server uses the register
// wrap returns in place of e.cfg.People (which stays the store's own).
func newConsoleEnvServing(t *testing.T, wrap func(tillit.Register) tillit.Register) *browserEnv {
	t.Helper()
	e := &browserEnv{t: t, mail: &mailbox{}, secrets: map[string]string{},
		clock: &testClock{t: time.Now().UTC().Truncate(time.Second)}, shots: t.TempDir()}
	e.db = sqldbtest.Open(t, sqldb.SQLite, e.clock)
	var h http.Handler
	e.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.ts.Close)
	e.cfg = e.config()
	cfg := e.cfg
	cfg.People = wrap(e.cfg.People)
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = srv.Handler()
	e.acme = sqldbtest.MustTenant(t, e.db, "acme")
	return e
}

// A legal hold that has expired holds nothing: the person is anonymised,
// and a conflict of another kind is shown with its own message, not as
// the old hold with its reason.
func TestConsoleExpiredHold(t *testing.T) {
	reg := &racedRegister{}
	be := newConsoleEnvServing(t, func(r tillit.Register) tillit.Register {
		reg.Register = r
		return reg
	})
	// A person held until tomorrow; three days later, the users sign in.
	_, _, cw := sqldbtest.MustToken(t, be.db, be.acme, tillit.RoleCaseworker)
	_, _, pv := sqldbtest.MustToken(t, be.db, be.acme, tillit.RolePrivacy)
	kari := &tillit.Person{GivenName: "Kari", FamilyName: "Nordmann"}
	if err := be.cfg.People.CreatePerson(cw, kari); err != nil {
		t.Fatal(err)
	}
	until := be.clock.Now().Add(24 * time.Hour)
	if _, err := be.cfg.People.SetHold(pv, kari.ID, "Bookkeeping law", &until); err != nil {
		t.Fatal(err)
	}
	be.clock.Add(3 * 24 * time.Hour)
	e := newConsoleRightsEnvOn(t, be, 0)
	person := "/people/" + strconv.FormatInt(kari.ID, 10)
	e.privacy.setLang("en")
	p, err := e.cfg.People.FindPersonByID(e.token, kari.ID)
	if err != nil || p.Hold == nil || p.Hold.Active(e.clock.Now()) {
		t.Fatalf("want a person with an expired hold: %+v %v", p, err)
	}

	f := e.stepUp(url.Values{"confirm": {"yes"}}, "pv@acme.test")
	reg.conflict.Store(true)
	resp, body := e.privacy.do("POST", person+"/anonymise", f)
	want(t, resp, body, http.StatusConflict, "")
	if strings.Contains(body, "under a legal hold") || strings.Contains(body, "Bookkeeping law") {
		t.Fatalf("another conflict is shown as the expired hold: %.3000s", mainOf(body))
	}
	if !strings.Contains(body, "anonymised by another request meanwhile") {
		t.Fatalf("the conflict's own message is not shown: %.3000s", mainOf(body))
	}

	reg.conflict.Store(false)
	resp, body = e.privacy.do("POST", person+"/anonymise", url.Values{"confirm": {"yes"}}) // stepped up above
	want(t, resp, body, http.StatusOK, "")
	if !strings.Contains(body, "The person has been anonymised.") {
		t.Fatalf("the expired hold blocked the anonymisation: %.3000s", mainOf(body))
	}
}

// pathID returns the id at the end of a path.
func pathID(t *testing.T, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(path[strings.LastIndexByte(path, '/')+1:], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestConsoleRequests(t *testing.T) {
	e := newConsoleRightsEnv(t, 0)
	person := e.createPerson(t, "Kari", "Nordmann")
	e.worker.setLang("en")
	today := e.clock.Now().UTC()

	resp, body := e.worker.do("POST", "/requests", url.Values{"type": {"access"}, "channel": {"email"}, "received_at": {"yesterday"}})
	want(t, resp, body, http.StatusBadRequest, "")
	if !strings.Contains(body, `id="f-received_at-error"`) || !strings.Contains(body, `<option value="email" selected>`) {
		t.Fatalf("no error on the day: %.3000s", mainOf(body))
	}
	resp, body = e.worker.do("POST", "/requests", url.Values{"type": {"access"}, "channel": {"email"},
		"received_at": {today.Format(time.DateOnly)}, "person_id": {"999999"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-person_id-error"`) ||
		!strings.Contains(body, "No one in the register has this number.") {
		t.Fatalf("an unknown person: %d %.3000s", resp.StatusCode, mainOf(body))
	}
	e.worker.setLang("nb")
	resp, body = e.worker.do("POST", "/requests", url.Values{"type": {"access"}, "channel": {"email"},
		"received_at": {today.AddDate(0, 0, 10).Format(time.DateOnly)}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "ikke i fremtiden") {
		t.Fatalf("a day in the future: %d %.3000s", resp.StatusCode, mainOf(body))
	}
	e.worker.setLang("en")
	r1 := postRequest(t, e.worker, url.Values{"type": {"erasure"}, "channel": {"letter"},
		"received_at": {today.AddDate(0, -2, 0).Format(time.DateOnly)}, "note": {"Letter of 3 pages"}})
	r2 := postRequest(t, e.worker, url.Values{"type": {"access"}, "channel": {"email"},
		"received_at": {today.Format(time.DateOnly)}, "person_id": {strings.TrimPrefix(person, "/people/")}})
	r3 := postRequest(t, e.worker, url.Values{"type": {"objection"}, "channel": {"phone"},
		"received_at": {today.AddDate(0, 0, -25).Format(time.DateOnly)}})

	t.Run("inbox", func(t *testing.T) {
		resp, body := e.worker.do("GET", "/requests", nil)
		if ev := e.event(t, resp.Header.Get("X-Request-Id")); ev.Action != "request.list" || len(ev.Fields) != 3 {
			t.Fatalf("the inbox's event %+v: want the requests shown", ev)
		}
		body = consolePageOK(t, e.worker, "/requests", "en")
		rows := regexp.MustCompile(`<tr class="([a-z-]*)">\s*<td>(.*?)</td>\s*<td><a href="(/requests/\d+)"`).FindAllStringSubmatch(body, -1)
		if len(rows) != 3 {
			t.Fatalf("%d rows: %s", len(rows), mainOf(body))
		}
		// Soonest deadline first: the overdue one, the one due soon, the new one.
		if rows[0][3] != r1 || rows[0][1] != "overdue" || !strings.Contains(rows[0][2], `<span class="badge overdue">Overdue</span>`) ||
			rows[1][3] != r3 || rows[1][1] != "due-soon" || !strings.Contains(rows[1][2], "Due soon") ||
			rows[2][3] != r2 || rows[2][1] != "" || strings.Contains(rows[2][2], "badge") {
			t.Fatalf("rows %q", rows)
		}
		if strings.Contains(body, "Letter of 3 pages") {
			t.Fatal("the inbox shows a note")
		}
	})
	t.Run("request page", func(t *testing.T) {
		body := consolePageOK(t, e.worker, r1, "en")
		if !strings.Contains(body, `id="request-overdue"`) || !strings.Contains(body, "Letter of 3 pages") ||
			!strings.Contains(body, `value="identity_verified"`) {
			t.Fatalf("request page: %s", mainOf(body))
		}
		resp, body := e.worker.do("POST", r1, url.Values{"change": {"refuse"}, "reason": {""}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-reason-error"`) {
			t.Fatalf("no error on the reason: %.3000s", mainOf(body))
		}
		if strings.Contains(body, `action="`+r1+`"`) && strings.Contains(body, `value="extend"`) {
			t.Fatal("an overdue request offers an extension")
		}
		resp, body = e.worker.do("POST", r3, url.Values{"change": {"extend"}, "extend_months": {"3"}, "extension_reason": {"Many"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-extend_months-error"`) {
			t.Fatalf("no error on the months: %.3000s", mainOf(body))
		}
		resp, body = e.worker.do("POST", r3, url.Values{"change": {"extend"}, "extend_months": {"2"}, "extension_reason": {"Many requests"}})
		want(t, resp, body, http.StatusSeeOther, r3+"?notice=request_updated")
		body = consolePageOK(t, e.worker, r3, "en")
		if strings.Contains(body, `class="state due-soon"`) || !strings.Contains(body, "Many requests") || strings.Contains(body, `value="extend"`) {
			t.Fatalf("after the extension: %s", mainOf(body))
		}
		resp, body = e.worker.do("POST", r3, url.Values{"change": {"extend"}, "extend_months": {"1"}, "extension_reason": {"Again"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, "extended only once") {
			t.Fatalf("a second extension: %.3000s", mainOf(body))
		}
		resp, body = e.worker.do("POST", r1, url.Values{"change": {"extend"}, "extend_months": {"1"}, "extension_reason": {"Late"}})
		want(t, resp, body, http.StatusBadRequest, "")
		for _, st := range []string{"identity_verified", "in_progress", "completed"} {
			resp, body = e.worker.do("POST", r2, url.Values{"change": {"status"}, "status": {st}})
			want(t, resp, body, http.StatusSeeOther, r2+"?notice=request_updated")
		}
		body = consolePageOK(t, e.worker, r2, "en")
		if !strings.Contains(body, `href="/api/v1`+r2+`/report"`) || strings.Contains(body, `id="request-next"`) {
			t.Fatalf("the completed request: %s", mainOf(body))
		}
		resp, rep := e.worker.do("GET", "/api/v1"+r2+"/report", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(rep, "Nordmann") {
			t.Fatalf("the attached report through the session: %d %.300s", resp.StatusCode, rep)
		}
		body = consolePageOK(t, e.worker, "/requests", "en")
		if strings.Contains(body, `href="`+r2+`"`) {
			t.Fatal("the open inbox shows the completed request")
		}
		body = consolePageOK(t, e.worker, "/requests?show=all", "en")
		if !strings.Contains(body, `href="`+r2+`"`) {
			t.Fatalf("all requests do not show the completed one: %s", mainOf(body))
		}
	})
	t.Run("access", func(t *testing.T) {
		for _, p := range []string{"/requests", r1} {
			resp, body := e.reader.do("GET", p, nil)
			want(t, resp, body, http.StatusForbidden, "")
		}
		resp, body := e.reader.do("POST", "/requests", url.Values{"type": {"access"}})
		want(t, resp, body, http.StatusForbidden, "")
		_, home := e.reader.do("GET", "/", nil)
		if strings.Contains(home, `href="/requests"`) || strings.Contains(home, `href="/retention"`) {
			t.Fatal("a reader's navigation links to requests or retention")
		}
		_, home = e.worker.do("GET", "/", nil)
		if !strings.Contains(home, `href="/requests"`) || strings.Contains(home, `href="/retention"`) {
			t.Fatal("a caseworker's navigation")
		}
	})
}

func TestConsoleRetention(t *testing.T) {
	e := newConsoleRightsEnv(t, 3)
	e.privacy.setLang("en")
	body := consolePageOK(t, e.privacy, "/retention", "en")
	if !strings.Contains(body, "There is no policy yet") || !strings.Contains(body, "No one is flagged.") {
		t.Fatalf("retention page: %s", mainOf(body))
	}
	policy := url.Values{"months": {"3"}, "from": {"collected_at"}, "mode": {"review"}, "grace_days": {"30"}}

	t.Run("refused", func(t *testing.T) {
		f := cloneValues(policy)
		f.Set("months", "121")
		resp, body := e.privacy.do("POST", "/retention", f)
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-months-error"`) || !strings.Contains(body, `name="months" type="number" value="121"`) {
			t.Fatalf("no error on the months: %.3000s", mainOf(body))
		}
		f = cloneValues(policy)
		f.Set("from", "birth")
		resp, body = e.privacy.do("POST", "/retention", f)
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-from-error"`) {
			t.Fatalf("no error on from: %.3000s", mainOf(body))
		}
	})
	t.Run("preview, then save", func(t *testing.T) {
		f := cloneValues(policy)
		f.Set("preview", "1")
		resp, body := e.privacy.do("POST", "/retention", f)
		want(t, resp, body, http.StatusOK, "")
		if !strings.Contains(body, "People this policy would flag now: 3.") || !strings.Contains(body, "Nothing is saved yet.") {
			t.Fatalf("no preview: %.3000s", mainOf(body))
		}
		if p, err := e.cfg.People.RetentionPolicy(e.token); err != nil || p != nil {
			t.Fatalf("the preview saved the policy: %+v %v", p, err)
		}
		resp, body = e.privacy.do("POST", "/retention", policy)
		want(t, resp, body, http.StatusSeeOther, "/retention?notice=retention_saved")
		if p, err := e.cfg.People.RetentionPolicy(e.token); err != nil || p == nil || p.Months != 3 {
			t.Fatalf("policy %+v %v", p, err)
		}
	})
	t.Run("review", func(t *testing.T) {
		if _, err := e.cfg.People.RunRetention(e.token, "acme", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cfg.People.SetHold(e.token, e.old[2], "Dispute", nil); err != nil {
			t.Fatal(err)
		}
		resp, body := e.privacy.do("GET", "/retention", nil)
		if ev := e.event(t, resp.Header.Get("X-Request-Id")); ev.Action != "retention.flagged" {
			t.Fatalf("the retention page's event %+v", ev)
		}
		body = consolePageOK(t, e.privacy, "/retention", "en")
		if n := strings.Count(body, `name="id" value="`); n != 3 {
			t.Fatalf("%d flagged people listed: %s", n, mainOf(body))
		}
		if !strings.Contains(body, "Gammel Person 1") || !strings.Contains(body, `<tr class="held">`) || !strings.Contains(body, "Dispute") {
			t.Fatalf("flagged list: %s", mainOf(body))
		}
		ids := func(ii ...int) url.Values {
			f := url.Values{}
			for _, i := range ii {
				f.Add("id", strconv.FormatInt(e.old[i], 10))
			}
			return f
		}
		f := ids(0)
		f.Set("action", "keep")
		resp, body = e.privacy.do("POST", "/retention/decide", f)
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, `id="f-reason-error"`) || !strings.Contains(body, `value="`+strconv.FormatInt(e.old[0], 10)+`" id="flag-`+strconv.FormatInt(e.old[0], 10)+`" checked`) {
			t.Fatalf("no error on the reason, or the ticks are lost: %.4000s", mainOf(body))
		}
		resp, body = e.privacy.do("POST", "/retention/decide", url.Values{"action": {"erase"}})
		want(t, resp, body, http.StatusBadRequest, "")
		if !strings.Contains(body, "Select at least one person.") {
			t.Fatalf("nothing selected: %.3000s", mainOf(body))
		}
		f.Set("reason", "Still a customer")
		resp, body = e.privacy.do("POST", "/retention/decide", f)
		want(t, resp, body, http.StatusOK, "")
		if !strings.Contains(body, "Erased: 0. Kept: 1.") {
			t.Fatalf("keep: %.3000s", mainOf(body))
		}
		f = ids(1, 2)
		f.Set("action", "erase")
		f.Set("reason", "Past the date")
		resp, body = e.privacy.do("POST", "/retention/decide", f)
		want(t, resp, body, http.StatusForbidden, "")
		if !strings.Contains(body, `id="stepup-title"`) || !strings.Contains(body, `action="/retention/decide"`) {
			t.Fatalf("no step-up: %.3000s", mainOf(body))
		}
		resp, body = e.privacy.do("POST", "/retention/decide", e.stepUp(f, "pv@acme.test"))
		want(t, resp, body, http.StatusOK, "")
		if !strings.Contains(body, "Erased: 1. Kept: 0.") || !strings.Contains(body, "Not erased because of a legal hold: 1.") {
			t.Fatalf("erase: %.3000s", mainOf(body))
		}
		if _, err := e.cfg.People.FindPersonByID(e.token, e.old[1]); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("the erased person: %v", err)
		}
		if n := strings.Count(body, `name="id" value="`); n != 1 {
			t.Fatalf("%d flagged people left, want the held one: %s", n, mainOf(body))
		}
	})
	t.Run("access", func(t *testing.T) {
		for _, c := range []*consoleClient{e.worker, e.reader, e.auditor} {
			resp, body := c.do("GET", "/retention", nil)
			want(t, resp, body, http.StatusForbidden, "")
			resp, body = c.do("POST", "/retention", policy)
			want(t, resp, body, http.StatusForbidden, "")
			resp, body = c.do("POST", "/retention/decide", url.Values{"id": {"1"}, "action": {"erase"}})
			want(t, resp, body, http.StatusForbidden, "")
		}
	})
}

func TestConsolePurposes(t *testing.T) {
	e := newConsoleRightsEnv(t, 0)
	e.privacy.setLang("en")
	body := consolePageOK(t, e.privacy, "/purposes", "en")
	if !strings.Contains(body, "No purposes have been described yet.") || !strings.Contains(body, `<option value="legitimate_interests">Legitimate interests</option>`) {
		t.Fatalf("purposes page: %s", mainOf(body))
	}
	resp, body := e.privacy.do("POST", "/purposes", url.Values{"rows": {"1"}, "purposes[0].new": {"1"},
		"purposes[0].name": {"Membership"}, "purposes[0].legal_basis": {"whim"}})
	want(t, resp, body, http.StatusBadRequest, "")
	if !strings.Contains(body, `id="f-purposes[0].legal_basis-error"`) || !strings.Contains(body, `value="Membership"`) {
		t.Fatalf("no error on the legal basis: %.4000s", mainOf(body))
	}
	resp, body = e.privacy.do("POST", "/purposes", url.Values{"rows": {"1"}, "purposes[0].new": {"1"},
		"purposes[0].name": {"Membership"}, "purposes[0].legal_basis": {"contract"},
		"purposes[0].description": {"Keeping the members' list"}, "purposes[0].categories": {"given_name, note"}})
	want(t, resp, body, http.StatusSeeOther, "/purposes?notice=purposes_saved")
	body = consolePageOK(t, e.privacy, "/purposes", "en")
	if !strings.Contains(body, "<td>Membership</td>") || !strings.Contains(body, "<td>Contract</td>") ||
		!strings.Contains(body, `name="purposes[0].remove"`) || !strings.Contains(body, `name="purposes[1].new"`) {
		t.Fatalf("saved purposes: %s", mainOf(body))
	}
	list, err := e.cfg.People.Purposes(e.token)
	if err != nil || len(list) != 1 || list[0].LegalBasis != tillit.BasisContract || len(list[0].Categories) != 2 {
		t.Fatalf("purposes %+v %v", list, err)
	}
	resp, body = e.privacy.do("POST", "/purposes", url.Values{"rows": {"2"}, "purposes[0].name": {"Membership"},
		"purposes[0].legal_basis": {"contract"}, "purposes[0].remove": {"on"}, "purposes[1].new": {"1"}})
	want(t, resp, body, http.StatusSeeOther, "/purposes?notice=purposes_saved")
	if list, _ := e.cfg.People.Purposes(e.token); len(list) != 0 {
		t.Fatalf("not removed: %+v", list)
	}

	_, body = e.reader.do("GET", "/purposes", nil)
	if strings.Contains(body, `action="/purposes"`) {
		t.Fatal("a reader sees the purposes form")
	}
	resp, body = e.reader.do("POST", "/purposes", url.Values{"rows": {"0"}})
	want(t, resp, body, http.StatusForbidden, "")
	resp, body = e.auditor.do("GET", "/purposes", nil)
	want(t, resp, body, http.StatusOK, "")
}

func TestConsoleRightsAccess(t *testing.T) {
	e := newConsoleRightsEnv(t, 0)
	person := e.createPerson(t, "Kari", "Nordmann")
	t.Run("caseworker", func(t *testing.T) {
		_, body := e.worker.do("GET", person, nil)
		if !strings.Contains(body, "/report?format=html") || strings.Contains(body, person+"/erase") ||
			strings.Contains(body, person+"/restriction") {
			t.Fatalf("the caseworker's actions: %s", mainOf(body))
		}
		for _, p := range []string{"/erase", "/anonymise", "/restriction", "/hold"} {
			resp, body := e.worker.do("POST", person+p, url.Values{"confirm": {"yes"}, "change": {"restrict"}, "restriction_reason": {"x"}, "hold_reason": {"x"}})
			want(t, resp, body, http.StatusForbidden, "")
		}
	})
	t.Run("reader", func(t *testing.T) {
		_, body := e.reader.do("GET", person, nil)
		if strings.Contains(body, `id="rights"`) || strings.Contains(body, "/report?") {
			t.Fatalf("the reader's person page has rights: %s", mainOf(body))
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
		for _, a := range []string{"/erase", "/anonymise", "/restriction", "/hold"} {
			resp, body := e.admin.do("POST", path+a, e.stepUp(url.Values{"confirm": {"yes"}, "change": {"restrict"},
				"restriction_reason": {"x"}, "hold_reason": {"x"}}, "ad@acme.test"))
			want(t, resp, body, http.StatusNotFound, "")
			if strings.Contains(body, "Olle") {
				t.Fatal("the 404 page shows the other tenant's person")
			}
		}
		if _, err := e.cfg.People.FindPersonByID(ctx, p.ID); err != nil {
			t.Fatalf("the other tenant's person: %v", err)
		}
	})
}

// postRequest registers a request through the inbox's form and returns
// the path of its page.
func postRequest(t *testing.T, c *consoleClient, form url.Values) string {
	t.Helper()
	resp, body := c.do("POST", "/requests", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/requests/\d+\?notice=request_created$`).MatchString(loc) {
		t.Fatalf("register a request: %d %q %.2000s", resp.StatusCode, loc, mainOf(body))
	}
	return strings.TrimSuffix(loc, "?notice=request_created")
}

// events returns the events of the request in acme's audit log, oldest
// first.
func (e *consoleRightsEnv) events(t *testing.T, requestID string) []tillit.Event {
	t.Helper()
	ctx := tillit.NewContextWithPrincipal(context.Background(),
		&tillit.Principal{Kind: tillit.KindUser, ID: 1, TenantID: e.acme.ID, Role: tillit.RoleAuditor})
	events, err := sqldb.NewAuditService(e.db).FindEvents(ctx, tillit.EventFilter{After: -1, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []tillit.Event
	for _, ev := range events {
		if ev.RequestID == requestID {
			out = append(out, *ev)
		}
	}
	return out
}
