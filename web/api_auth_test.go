package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb/sqldbtest"
	"tillit/totp"
	"tillit/web"
)

const apiPassword = "correct horse battery staple"

// browser carries the cookies of one API client between requests.
type browser struct {
	e       *env
	cookies map[string]string
}

func (e *env) browser() *browser { return &browser{e: e, cookies: map[string]string{}} }

// call serves a request with the browser's cookies and keeps the ones it
// sets.
func (b *browser) call(method, target, body string, opts ...reqOption) *httptest.ResponseRecorder {
	b.e.tb.Helper()
	opts = append(opts, func(r *http.Request) {
		for k, v := range b.cookies {
			r.AddCookie(&http.Cookie{Name: k, Value: v})
		}
	})
	w := b.e.do(method, target, "", body, opts...)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
			continue
		}
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
			b.e.tb.Fatalf("cookie %s is not Secure, HttpOnly, SameSite=Strict, Path=/", c.Name)
		}
		b.cookies[c.Name] = c.Value
	}
	return w
}

// user creates a user of the tenant with apiPassword.
func (e *env) user(t *tillit.Tenant, email string, role tillit.Role) *tillit.Account {
	e.tb.Helper()
	a, _, err := e.cfg.Accounts.CreateAccount(sqldbtest.System(), tillit.AccountCreate{
		Kind: tillit.KindUser, TenantID: t.ID, Email: email, Role: role, Password: apiPassword})
	if err != nil {
		e.tb.Fatal(err)
	}
	return a
}

// signIn signs a new user in through the API, enrolling TOTP, and returns
// the browser and the TOTP secret.
func (e *env) signIn(t *tillit.Tenant, email string) (*browser, string) {
	e.tb.Helper()
	b := e.browser()
	w := b.call("POST", "/api/v1/auth/login", fmt.Sprintf(`{"tenant":%q,"email":%q,"password":%q}`, t.Slug, email, apiPassword))
	wantStatus(e.tb, w, 200)
	if !strings.Contains(w.Body.String(), `"next":"mfa_enroll"`) || b.cookies["__Host-tillit_pending"] == "" {
		e.tb.Fatalf("login: %s, cookies %v", w.Body.String(), b.cookies)
	}
	w = b.call("POST", "/api/v1/auth/totp/enroll", "")
	wantStatus(e.tb, w, 200)
	var enrol struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
	decode(e.tb, w, &enrol)
	code, _ := totp.Code(enrol.Secret, e.clock.Now())
	w = b.call("POST", "/api/v1/auth/totp/confirm", fmt.Sprintf(`{"code":%q}`, code))
	wantStatus(e.tb, w, 200)
	if !strings.Contains(w.Body.String(), `"recovery_codes":["`) || b.cookies["__Host-tillit_session"] == "" || b.cookies["__Host-tillit_pending"] != "" {
		e.tb.Fatalf("confirm: %s, cookies %v", w.Body.String(), b.cookies)
	}
	return b, enrol.Secret
}

// nextCode moves the clock to the next TOTP step and returns its code.
func (e *env) nextCode(secret string) string {
	e.clock.Add(30 * time.Second)
	code, _ := totp.Code(secret, e.clock.Now())
	return code
}

func TestSignInWithTOTP(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		e.user(acme, "kari@acme.example", tillit.RoleAdmin)
		b, secret := e.signIn(acme, "kari@acme.example")

		w := b.call("GET", "/api/v1/me", "")
		wantStatus(t, w, 200)
		if !strings.Contains(w.Body.String(), `"kind":"user"`) || !strings.Contains(w.Body.String(), `"idle_until":"`) {
			t.Fatalf("me: %s", w.Body.String())
		}
		// A browser's cross-origin state change is refused.
		w = b.call("POST", "/api/v1/auth/logout", "", header("Origin", "https://evil.example"), header("Sec-Fetch-Site", "cross-site"))
		wantProblem(t, w, 403, tillit.EForbidden, "")
		wantStatus(t, b.call("POST", "/api/v1/auth/logout", ""), 204)
		wantProblem(t, b.call("GET", "/api/v1/me", ""), 401, tillit.EUnauthenticated, "")

		// Again: now the second factor is asked, and a wrong code refused.
		b = e.browser()
		w = b.call("POST", "/api/v1/auth/login", fmt.Sprintf(`{"tenant":"acme","email":"kari@acme.example","password":%q}`, apiPassword))
		if !strings.Contains(w.Body.String(), `"next":"mfa"`) {
			t.Fatalf("second login: %s", w.Body.String())
		}
		w = b.call("POST", "/api/v1/auth/mfa", `{"method":"totp","code":"000000"}`)
		if w.Code != 401 || b.cookies["__Host-tillit_session"] != "" {
			t.Fatalf("wrong code: %d %s", w.Code, w.Body.String())
		}
		code := e.nextCode(secret)
		wantStatus(t, b.call("POST", "/api/v1/auth/mfa", fmt.Sprintf(`{"method":"totp","code":%q}`, code)), 200)
		wantStatus(t, b.call("GET", "/api/v1/me", ""), 200)

		// Tenant settings are sensitive: a step-up first.
		wantProblem(t, b.call("PATCH", "/api/v1/tenant", `{"session_idle_minutes":5}`), 403, tillit.EStepUp, "")
		old := b.cookies["__Host-tillit_session"]
		w = b.call("POST", "/api/v1/auth/step-up", fmt.Sprintf(`{"password":%q,"code":%q}`, apiPassword, e.nextCode(secret)))
		wantStatus(t, w, 200)
		if b.cookies["__Host-tillit_session"] == old {
			t.Fatal("the session id did not change at step-up")
		}
		wantStatus(t, b.call("PATCH", "/api/v1/tenant", `{"session_idle_minutes":5}`), 200)

		// Idle for longer than the tenant's 5 minutes: signed out.
		e.clock.Add(4 * time.Minute)
		wantStatus(t, b.call("GET", "/api/v1/me", ""), 200)
		e.clock.Add(5*time.Minute + time.Second)
		wantProblem(t, b.call("GET", "/api/v1/me", ""), 401, tillit.EUnauthenticated, "")
	})
}

func TestSignInFailuresLookAlike(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		e.user(acme, "kari@acme.example", tillit.RoleReader)
		bodies := map[string]string{}
		for name, body := range map[string]string{
			"wrong password":  `{"tenant":"acme","email":"kari@acme.example","password":"wrong password here"}`,
			"unknown account": `{"tenant":"acme","email":"nobody@acme.example","password":"wrong password here"}`,
			"unknown tenant":  `{"tenant":"nope","email":"kari@acme.example","password":"wrong password here"}`,
		} {
			w := e.browser().call("POST", "/api/v1/auth/login", body)
			p := wantProblem(t, w, 401, tillit.EUnauthenticated, "")
			bodies[name] = p.Detail
		}
		if bodies["wrong password"] != bodies["unknown account"] || bodies["unknown account"] != bodies["unknown tenant"] {
			t.Fatalf("the answers differ: %v", bodies)
		}
	})
}

func TestUsersAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		e.user(acme, "kari@acme.example", tillit.RoleAdmin)
		b, secret := e.signIn(acme, "kari@acme.example")

		w := b.call("POST", "/api/v1/users", `{"email":"ola@acme.example","role":"caseworker"}`)
		wantStatus(t, w, 201)
		var ola tillit.Account
		if err := json.Unmarshal(w.Body.Bytes(), &ola); err != nil || ola.ID == 0 || ola.Active {
			t.Fatalf("invite: %s", w.Body.String())
		}
		if link := e.mail.link(t, "ola@acme.example"); !strings.Contains(link, "/invite#") {
			t.Fatalf("invitation link %q", link)
		}
		wantProblem(t, b.call("POST", "/api/v1/users", `{"email":"ola@acme.example","role":"reader"}`), 409, tillit.EConflict, "email")
		wantProblem(t, b.call("POST", "/api/v1/users", `{"email":"x@acme.example","role":"owner"}`), 403, tillit.EForbidden, "role")

		target := fmt.Sprintf("/api/v1/users/%d", ola.ID)
		wantProblem(t, b.call("PATCH", target, `{"blocked":true}`), 403, tillit.EStepUp, "")
		wantStatus(t, b.call("POST", "/api/v1/auth/step-up", fmt.Sprintf(`{"password":%q,"code":%q}`, apiPassword, e.nextCode(secret))), 200)
		w = b.call("PATCH", target, `{"blocked":true}`)
		wantStatus(t, w, 200)
		if !strings.Contains(w.Body.String(), `"blocked":true`) {
			t.Fatalf("block: %s", w.Body.String())
		}
		w = b.call("GET", "/api/v1/users", "")
		if !strings.Contains(w.Body.String(), "ola@acme.example") {
			t.Fatalf("list: %s", w.Body.String())
		}
	})
}

// TestAnotherTenantsObjects walks every route with an {id} and proves a
// principal of another tenant gets 404 for this tenant's object, as if it
// did not exist.
func TestAnotherTenantsObjects(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme, beta := e.tenant("acme"), e.tenant("beta")
		tok, _ := e.token(acme, tillit.RoleReader)
		kari := e.user(acme, "kari@acme.example", tillit.RoleAdmin)
		kb, _ := e.signIn(acme, "kari@acme.example")
		var sessions struct {
			Sessions []*tillit.Session `json:"sessions"`
		}
		decode(t, kb.call("GET", "/api/v1/sessions", ""), &sessions)
		if len(sessions.Sessions) != 1 || !sessions.Sessions[0].Current {
			t.Fatalf("sessions of kari: %+v", sessions.Sessions)
		}
		var person tillit.Person
		var record tillit.Record
		decode(t, kb.call("POST", "/api/v1/people", `{"given_name":"Ola","email":"ola@acme.example"}`), &person)
		decode(t, kb.call("POST", fmt.Sprintf("/api/v1/people/%d/records", person.ID), `{"category":"note","title":"Hei"}`), &record)
		var request tillit.SubjectRequest
		decode(t, kb.call("POST", "/api/v1/requests", fmt.Sprintf(`{"type":"access","person_id":%d,"received_at":"2026-11-20","channel":"email"}`, person.ID)), &request)
		wantStatus(t, kb.call("PATCH", fmt.Sprintf("/api/v1/requests/%d", request.ID), `{"status":"identity_verified"}`), 200)
		wantStatus(t, kb.call("PATCH", fmt.Sprintf("/api/v1/requests/%d", request.ID), `{"status":"completed"}`), 200) // attaches the report
		ids := map[string]int64{"token": tok.ID, "user": kari.ID, "session": sessions.Sessions[0].ID, "person": person.ID, "request": request.ID}
		path := func(rt web.Route) string {
			p := strings.ReplaceAll(rt.Pattern, "{id}", fmt.Sprint(ids[rt.TargetKind]))
			return strings.ReplaceAll(p, "{rid}", fmt.Sprint(record.ID))
		}

		e.user(beta, "per@beta.example", tillit.RoleOwner)
		other, secret := e.signIn(beta, "per@beta.example")
		wantStatus(t, other.call("POST", "/api/v1/auth/step-up", fmt.Sprintf(`{"password":%q,"code":%q}`, apiPassword, e.nextCode(secret))), 200)
		bodies := map[string]string{"PATCH": `{"unlock":true}`,
			"PATCH /api/v1/people/{id}":               `{"family_name":"Hansen"}`,
			"PATCH /api/v1/people/{id}/records/{rid}": `{"title":"Ny"}`,
			"POST /api/v1/people/{id}/records":        `{"category":"note","title":"Hei"}`,
			"POST /api/v1/people/{id}/hold":           `{"reason":"bookkeeping"}`,
			"POST /api/v1/people/{id}/restriction":    `{"reason":"disputed"}`,
			"PATCH /api/v1/requests/{id}":             `{"status":"identity_verified"}`,
		}
		body := func(rt web.Route) string {
			if b, ok := bodies[rt.String()]; ok {
				return b
			}
			return bodies[rt.Method]
		}
		var withID []web.Route
		for _, rt := range e.srv.Routes() {
			if !strings.Contains(rt.Pattern, "{id}") {
				continue
			}
			id, ok := ids[rt.TargetKind]
			if !ok {
				t.Fatalf("route %s: no object of kind %q to try", rt, rt.TargetKind)
			}
			t.Run(rt.String(), func(t *testing.T) {
				_ = id
				w := other.call(rt.Method, path(rt), body(rt))
				if !strings.HasPrefix(rt.Pattern, "/api/") { // a console page: an HTML page
					wantStatus(t, w, 404)
					return
				}
				wantProblem(t, w, 404, tillit.ENotFound, "")
			})
			withID = append(withID, rt)
		}
		// The control: the same ids are found by their own tenant, so the
		// 404s above are not a route that finds nothing. Sessions last: ending
		// one's own session is the one change that stops the rest.
		sort.SliceStable(withID, func(i, j int) bool { return withID[j].TargetKind == "session" && withID[i].TargetKind != "session" })
		for _, rt := range withID {
			if w := kb.call(rt.Method, path(rt), body(rt)); w.Code == 404 {
				t.Errorf("%s: the tenant's own object answers 404", rt)
			}
		}
	})
}

var smsCodeRE = regexp.MustCompile(`\b\d{6}\b`)

// TestSignInWithSMS: where the tenant allows SMS, a caseworker who set
// their number signs in with a code sent through the SMS operator's real
// protocol (a Twilio fake); an admin never may.
func TestSignInWithSMS(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		e.user(acme, "kari@acme.example", tillit.RoleAdmin)
		e.user(acme, "ola@acme.example", tillit.RoleCaseworker)
		admin, adminSecret := e.signIn(acme, "kari@acme.example")
		wantStatus(t, admin.call("POST", "/api/v1/auth/step-up", fmt.Sprintf(`{"password":%q,"code":%q}`, apiPassword, e.nextCode(adminSecret))), 200)
		wantStatus(t, admin.call("PATCH", "/api/v1/tenant", `{"sms_allowed":true}`), 200)

		ola, olaSecret := e.signIn(acme, "ola@acme.example")
		wantProblem(t, ola.call("PUT", "/api/v1/auth/phone", `{"phone":"+4791234567"}`), 403, tillit.EStepUp, "")
		wantStatus(t, ola.call("POST", "/api/v1/auth/step-up", fmt.Sprintf(`{"password":%q,"code":%q}`, apiPassword, e.nextCode(olaSecret))), 200)
		wantProblem(t, ola.call("PUT", "/api/v1/auth/phone", `{"phone":"91 23 45 67"}`), 400, tillit.EInvalid, "phone")
		wantStatus(t, ola.call("PUT", "/api/v1/auth/phone", `{"phone":"+4791234567"}`), 204)

		b := e.browser()
		w := b.call("POST", "/api/v1/auth/login", fmt.Sprintf(`{"tenant":"acme","email":"ola@acme.example","password":%q}`, apiPassword))
		if !strings.Contains(w.Body.String(), `"sms"`) {
			t.Fatalf("login methods lack sms: %s", w.Body.String())
		}
		wantStatus(t, b.call("POST", "/api/v1/auth/sms/send", ""), 204)
		msgs := e.sms.WaitFor(t, 1, 5*time.Second)
		code := smsCodeRE.FindString(msgs[0].Body)
		if msgs[0].To != "+4791234567" || code == "" {
			t.Fatalf("sms to %q: %q", msgs[0].To, msgs[0].Body)
		}
		wantStatus(t, b.call("POST", "/api/v1/auth/mfa", fmt.Sprintf(`{"method":"sms","code":%q}`, code)), 200)
		wantStatus(t, b.call("GET", "/api/v1/me", ""), 200)

		// The code was single use.
		b2 := e.browser()
		b2.call("POST", "/api/v1/auth/login", fmt.Sprintf(`{"tenant":"acme","email":"ola@acme.example","password":%q}`, apiPassword))
		wantProblem(t, b2.call("POST", "/api/v1/auth/mfa", fmt.Sprintf(`{"method":"sms","code":%q}`, code)), 401, tillit.EUnauthenticated, "code")

		// An admin never signs in by SMS, even with a number set.
		wantStatus(t, admin.call("PUT", "/api/v1/auth/phone", `{"phone":"+4791234568"}`), 204)
		b3 := e.browser()
		w = b3.call("POST", "/api/v1/auth/login", fmt.Sprintf(`{"tenant":"acme","email":"kari@acme.example","password":%q}`, apiPassword))
		if strings.Contains(w.Body.String(), `"sms"`) {
			t.Fatalf("an admin is offered sms: %s", w.Body.String())
		}
		wantProblem(t, b3.call("POST", "/api/v1/auth/sms/send", ""), 403, tillit.EForbidden, "")
	})
}

// TestSignInWithBadText sends text no database can store where a slug or
// an e-mail belongs: the answer is the ordinary refusal, never a 5xx.
func TestSignInWithBadText(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		e.tenant("acme")
		for _, body := range []string{
			`{"tenant":"a\u0000","email":"kari@acme.example","password":"correct horse battery"}`,
			`{"tenant":"acme","email":"ka\u0000ri@acme.example","password":"correct horse battery"}`,
			"{\"tenant\":\"acme\xff\",\"email\":\"kari@acme.example\",\"password\":\"correct horse battery\"}",
		} {
			if w := e.browser().call("POST", "/api/v1/auth/login", body); w.Code >= 500 {
				t.Fatalf("login %q: %d %s", body, w.Code, w.Body.String())
			}
			reset := strings.Replace(strings.Replace(body, `,"password":"correct horse battery"`, "", 1), "}", "}", 1)
			if w := e.browser().call("POST", "/api/v1/auth/password-reset", reset); w.Code >= 500 {
				t.Fatalf("reset %q: %d %s", reset, w.Code, w.Body.String())
			}
		}
	})
}

// TestInviteWhenMailFails: the account exists, so the inviter gets the link
// to pass on instead of a 503 and an account nobody can activate.
func TestInviteWhenMailFails(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		e.user(acme, "kari@acme.example", tillit.RoleAdmin)
		b, _ := e.signIn(acme, "kari@acme.example")
		e.mail.failWith(&tillit.Error{Code: tillit.EUnavailable, Message: "the mail server did not answer"})
		w := b.call("POST", "/api/v1/users", `{"email":"ola@acme.example","role":"reader"}`)
		wantStatus(t, w, 201)
		var out struct {
			InvitationURL string `json:"invitation_url"`
			Warning       string `json:"warning"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || !strings.Contains(out.InvitationURL, "/invite#") || out.Warning == "" {
			t.Fatalf("answer %s", w.Body.String())
		}
	})
}
