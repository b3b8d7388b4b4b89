package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tillit"
	"tillit/auditlog"
	"tillit/receipt"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/web"
)

// newRightsEnv is newEnv with a receipt signer on the register; it returns
// the key that verifies the receipts.
func newRightsEnv(t *testing.T, dialect string) (*env, string) {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, dialect, func(c *web.Config) {
		c.People = c.People.(*sqldb.PeopleService).WithReceipts(signer)
	})
	return e, vkey
}

// sensitiveToken returns the secret of a token of the role created with
// permission for sensitive actions.
func (e *env) sensitiveToken(t *tillit.Tenant, role tillit.Role) string {
	e.tb.Helper()
	_, secret, err := e.cfg.Tokens.CreateToken(sqldbtest.System(), tillit.TokenCreate{TenantID: t.ID, Name: "sensitive " + string(role),
		Role: role, Sensitive: true})
	if err != nil {
		e.tb.Fatal(err)
	}
	return secret
}

func TestRightsAPIErase(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e, vkey := newRightsEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, admin := e.token(acme, tillit.RoleAdmin)
		officer := e.sensitiveToken(acme, tillit.RolePrivacy)
		p := e.mustPerson(cw, `{"given_name":"Kari","email":"kari@example.com","national_id":"811218-9876","national_id_country":"SE"}`)
		wantStatus(t, e.do("POST", personPath(p.ID, "/records"), cw, `{"category":"note","title":"Samtale"}`), http.StatusCreated)

		// The register sets source and the rest, never a client.
		wantProblem(t, e.do("POST", "/api/v1/people", cw, `{"given_name":"X","source":"import"}`), 400, tillit.EInvalid, "source")
		wantProblem(t, e.do("PATCH", personPath(p.ID), cw, `{"hold":null}`), 400, tillit.EInvalid, "hold")

		wantProblem(t, e.do("DELETE", personPath(p.ID), cw, ""), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("DELETE", personPath(p.ID), admin, ""), 403, tillit.EForbidden, "") // not a sensitive token
		wantProblem(t, e.do("DELETE", "/api/v1/people/abc", officer, ""), 400, tillit.EInvalid, "id")

		// A session needs a step-up.
		e.user(acme, "pia@acme.example", tillit.RolePrivacy)
		b, totpSecret := e.signIn(acme, "pia@acme.example")
		wantProblem(t, b.call("DELETE", personPath(p.ID), ""), 403, tillit.EStepUp, "")
		wantStatus(t, e.do("GET", personPath(p.ID), cw, ""), 200)
		wantStatus(t, b.call("POST", "/api/v1/auth/step-up", fmt.Sprintf(`{"password":%q,"code":%q}`, apiPassword, e.nextCode(totpSecret))), 200)
		w := b.call("DELETE", personPath(p.ID), "")
		wantStatus(t, w, 200)
		var rc tillit.Receipt
		decode(t, w, &rc)
		got, err := receipt.Verify(w.Body.Bytes(), vkey)
		if err != nil {
			t.Fatalf("the receipt does not verify: %v\n%s", err, w.Body.String())
		}
		if got.PersonID != p.ID || got.Kind != tillit.ReceiptErasure || got.Tenant != "acme" || got.Erased.Records != 1 || got.Erased.Keys != 1 {
			t.Fatalf("receipt %+v", got)
		}
		wantProblem(t, e.do("GET", personPath(p.ID), cw, ""), 404, tillit.ENotFound, "")
		wantProblem(t, e.do("DELETE", personPath(p.ID), officer, ""), 404, tillit.ENotFound, "")
		if ids := e.lookup(cw, `{"email":"kari@example.com"}`); len(ids) != 0 {
			t.Fatalf("lookup after erasure: %v", ids)
		}
		var evs []*tillit.Event // the refused attempts are events too
		for _, ev := range e.events(admin, "action=person.erase") {
			if ev.Outcome == tillit.OutcomeOK {
				evs = append(evs, ev)
			}
		}
		if len(evs) != 1 || evs[0].Target != fmt.Sprintf("person:%d", p.ID) || !strings.Contains(strings.Join(evs[0].Fields, ","), "records:1") {
			t.Fatalf("events %+v", evs)
		}

		// Bulk.
		a := e.mustPerson(cw, `{"given_name":"A"}`)
		wantProblem(t, e.do("POST", "/api/v1/people/erase", officer, `{"ids":[]}`), 400, tillit.EInvalid, "ids")
		wantProblem(t, e.do("POST", "/api/v1/people/erase", admin, `{"ids":[1]}`), 403, tillit.EForbidden, "")
		w = e.do("POST", "/api/v1/people/erase", officer, fmt.Sprintf(`{"ids":[%d,%d]}`, a.ID, p.ID))
		wantStatus(t, w, 200)
		var bulk tillit.BulkErasure
		decode(t, w, &bulk)
		if len(bulk.Receipts) != 1 || bulk.Receipts[0].PersonID != a.ID || len(bulk.NotFound) != 1 || bulk.NotFound[0] != p.ID {
			t.Fatalf("bulk %s", w.Body.String())
		}
		if _, err := receipt.Verify([]byte(bulk.Receipts[0].Note), vkey); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRightsAPIHoldAndRestriction(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e, vkey := newRightsEnv(t, dialect)
		acme := e.tenant("acme")
		_, cw := e.token(acme, tillit.RoleCaseworker)
		_, reader := e.token(acme, tillit.RoleReader)
		officer := e.sensitiveToken(acme, tillit.RolePrivacy)
		p := e.mustPerson(cw, `{"given_name":"Kari","email":"kari@example.com","birth_date":"1981-12-18",
			"address":{"street":"Storgata 1","postal_code":"0150","city":"Oslo","country":"NO"}}`)
		other := e.mustPerson(cw, `{"given_name":"Ola"}`)

		hold := personPath(p.ID, "/hold")
		wantProblem(t, e.do("POST", hold, cw, `{"reason":"x"}`), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("POST", hold, officer, `{"reason":" "}`), 400, tillit.EInvalid, "reason")
		wantProblem(t, e.do("POST", hold, officer, `{"reason":"x","until":"2020-01-01T00:00:00Z"}`), 400, tillit.EInvalid, "until")
		wantProblem(t, e.do("POST", hold, officer, `{"reason":"x","until":"soon"}`), 400, tillit.EInvalid, "until")
		wantProblem(t, e.do("POST", hold, officer, `{"reason":"x","why":"y"}`), 400, tillit.EInvalid, "why")
		wantProblem(t, e.do("POST", personPath(424242, "/hold"), officer, `{"reason":"x"}`), 404, tillit.ENotFound, "")
		const reason = "Bokføringsloven § 13"
		w := e.do("POST", hold, officer, `{"reason":"`+reason+`","until":"2031-01-01T00:00:00Z"}`)
		wantStatus(t, w, 200)
		var h tillit.Hold
		decode(t, w, &h)
		if h.Reason != reason || h.Until == nil || h.Until.Year() != 2031 {
			t.Fatalf("hold %s", w.Body.String())
		}
		pr := wantProblem(t, e.do("DELETE", personPath(p.ID), officer, ""), 409, tillit.EConflict, "")
		if !strings.Contains(pr.Detail, reason) {
			t.Fatalf("409 without the reason: %+v", pr)
		}
		wantProblem(t, e.do("POST", personPath(p.ID, "/anonymise"), officer, ""), 409, tillit.EConflict, "")
		w = e.do("POST", "/api/v1/people/erase", officer, fmt.Sprintf(`{"ids":[%d]}`, p.ID))
		wantStatus(t, w, 200)
		if !strings.Contains(w.Body.String(), fmt.Sprintf(`"held":[%d]`, p.ID)) {
			t.Fatalf("bulk under hold: %s", w.Body.String())
		}
		wantStatus(t, e.do("DELETE", hold, officer, ""), 204)

		// Restriction: hidden from the caseworker's and reader's lists and
		// lookups, still read by id.
		restriction := personPath(p.ID, "/restriction")
		wantProblem(t, e.do("POST", restriction, cw, `{"reason":"x"}`), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("POST", restriction, officer, `{}`), 400, tillit.EInvalid, "reason")
		wantStatus(t, e.do("POST", restriction, officer, `{"reason":"Bestrider riktigheten"}`), 200)
		for _, secret := range []string{cw, reader} {
			if page := e.listPage(secret, ""); len(page.People) != 1 || page.People[0].ID != other.ID {
				t.Fatalf("restricted person listed: %+v", page.People)
			}
			if ids := e.lookup(secret, `{"email":"kari@example.com"}`); len(ids) != 0 {
				t.Fatalf("restricted person looked up: %v", ids)
			}
			w := e.do("GET", personPath(p.ID), secret, "")
			wantStatus(t, w, 200)
			if !strings.Contains(w.Body.String(), `"restriction":{"reason":"Bestrider riktigheten"`) {
				t.Fatalf("read of a restricted person: %s", w.Body.String())
			}
		}
		if page := e.listPage(officer, ""); len(page.People) != 2 {
			t.Fatalf("the privacy officer lists %d people", len(page.People))
		}
		wantStatus(t, e.do("DELETE", restriction, officer, ""), 204)
		if ids := e.lookup(cw, `{"email":"kari@example.com"}`); len(ids) != 1 {
			t.Fatalf("lifted restriction, lookup %v", ids)
		}

		// Anonymisation: a receipt, then the remnant.
		w = e.do("POST", personPath(p.ID, "/anonymise"), officer, "")
		wantStatus(t, w, 200)
		got, err := receipt.Verify(w.Body.Bytes(), vkey)
		if err != nil || got.Kind != tillit.ReceiptAnonymisation || got.PersonID != p.ID {
			t.Fatalf("anonymisation receipt %+v %v", got, err)
		}
		w = e.do("GET", personPath(p.ID), reader, "")
		wantStatus(t, w, 200)
		var rem tillit.Person
		decode(t, w, &rem)
		if rem.AnonymisedAt == nil || rem.BirthYear != 1981 || rem.PostalArea != "01" || rem.GivenName != "" || rem.Email != "" || rem.Address != nil {
			t.Fatalf("remnant %s", w.Body.String())
		}
		wantProblem(t, e.do("POST", personPath(p.ID, "/anonymise"), officer, ""), 409, tillit.EConflict, "")
		wantProblem(t, e.do("PATCH", personPath(p.ID), cw, `{"given_name":"Back"}`), 409, tillit.EConflict, "")
	})
}
