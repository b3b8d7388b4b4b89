package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"tillit"
	"tillit/auditlog"
	"tillit/receipt"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
	"tillit/web"
)

// privacyToken creates a token of the privacy role; sensitive may erase
// without a step-up.
func (e *env) privacyToken(t *tillit.Tenant, sensitive bool) string {
	e.tb.Helper()
	_, secret, err := sqldb.NewTokenService(e.db).CreateToken(sqldbtest.System(),
		tillit.TokenCreate{TenantID: t.ID, Name: "privacy", Role: tillit.RolePrivacy, Sensitive: sensitive})
	if err != nil {
		e.tb.Fatal(err)
	}
	return secret
}

func TestRetentionAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		privacy := e.privacyToken(acme, false)
		_, cw := e.token(acme, tillit.RoleCaseworker)
		collected := e.clock.Now().AddDate(0, -13, 0).Format(time.RFC3339)
		old := e.mustPerson(cw, fmt.Sprintf(`{"given_name":"Kari","family_name":"Nordmann","collected_at":%q}`, collected))
		fresh := e.mustPerson(cw, `{"given_name":"Ola","family_name":"Nordmann"}`)

		w := e.do("GET", "/api/v1/retention/policy", privacy, "")
		wantStatus(t, w, http.StatusOK)
		if w.Body.String() != `{"policy":null}`+"\n" {
			t.Fatalf("policy of a tenant without one: %s", w.Body.String())
		}
		policy := `{"months":12,"from":"collected_at","mode":"review","grace_days":0}`
		w = e.do("PUT", "/api/v1/retention/policy?dry_run=true", privacy, policy)
		wantStatus(t, w, http.StatusOK)
		var pv tillit.RetentionPreview
		decode(t, w, &pv)
		if pv.Saved || pv.WouldFlag != 1 || pv.Policy.Months != 12 {
			t.Fatalf("preview %+v", pv)
		}
		if w := e.do("GET", "/api/v1/retention/policy", privacy, ""); w.Body.String() != `{"policy":null}`+"\n" {
			t.Fatalf("the dry run saved: %s", w.Body.String())
		}
		for _, c := range []struct{ target, body, field string }{
			{"/api/v1/retention/policy?dry_run=maybe", policy, "dry_run"},
			{"/api/v1/retention/policy", `{"months":0,"from":"collected_at","mode":"review"}`, "months"},
			{"/api/v1/retention/policy", `{"months":3,"from":"collected_at","mode":"review","keep":true}`, "keep"},
			{"/api/v1/retention/policy", `{"months":3,"from":"collected_at","mode":"review","categories":{"invoice":2}}`, "categories"},
		} {
			wantProblem(t, e.do("PUT", c.target, privacy, c.body), 400, tillit.EInvalid, c.field)
		}
		wantProblem(t, e.do("PUT", "/api/v1/retention/policy", cw, policy), 403, tillit.EForbidden, "")
		wantProblem(t, e.do("GET", "/api/v1/retention/flagged", cw, ""), 403, tillit.EForbidden, "")
		w = e.do("PUT", "/api/v1/retention/policy", privacy, policy)
		wantStatus(t, w, http.StatusOK)
		decode(t, w, &pv)
		if !pv.Saved {
			t.Fatalf("not saved: %+v", pv)
		}

		w = e.do("POST", "/api/v1/retention/run", privacy, "")
		wantStatus(t, w, http.StatusOK)
		var run tillit.RetentionRun
		decode(t, w, &run)
		if run.Tenant != "acme" || !run.Policy || run.Flagged != 1 || run.Erased != 0 {
			t.Fatalf("run %+v", run)
		}

		w = e.do("GET", "/api/v1/retention/flagged?limit=10", privacy, "")
		wantStatus(t, w, http.StatusOK)
		var flagged struct {
			People     []*tillit.FlaggedPerson `json:"people"`
			NextCursor string                  `json:"next_cursor"`
		}
		decode(t, w, &flagged)
		if len(flagged.People) != 1 || flagged.People[0].ID != old.ID || flagged.People[0].Name != "Kari Nordmann" {
			t.Fatalf("flagged %s", w.Body.String())
		}
		wantProblem(t, e.do("GET", "/api/v1/retention/flagged?limit=x", privacy, ""), 400, tillit.EInvalid, "limit")

		wantProblem(t, e.do("POST", "/api/v1/retention/decide", privacy, fmt.Sprintf(`{"ids":[%d],"action":"keep"}`, old.ID)), 400, tillit.EInvalid, "reason")
		// Erasing needs a step-up: this token was not created sensitive.
		wantProblem(t, e.do("POST", "/api/v1/retention/decide", privacy, fmt.Sprintf(`{"ids":[%d],"action":"erase","reason":"past the date"}`, old.ID)), 403, tillit.EForbidden, "")
		w = e.do("POST", "/api/v1/retention/decide", privacy, fmt.Sprintf(`{"ids":[%d,%d],"action":"keep","reason":"ongoing case"}`, old.ID, fresh.ID))
		wantStatus(t, w, http.StatusOK)
		var res tillit.RetentionDecisionResult
		decode(t, w, &res)
		if !slices.Equal(res.Kept, []int64{old.ID}) || !slices.Equal(res.NotFlagged, []int64{fresh.ID}) {
			t.Fatalf("decision %s", w.Body.String())
		}

		evs := e.events(privacy, "action=retention.run")
		if len(evs) != 1 || evs[0].Target != fmt.Sprintf("tenant:%d", acme.ID) || !slices.Contains(evs[0].Fields, "flagged:1") {
			t.Fatalf("summary events %+v", evs)
		}
		if !slices.ContainsFunc(e.events(privacy, "action=retention.flagged"), func(ev *tillit.Event) bool {
			return ev.Target == fmt.Sprintf("person:%d", old.ID) && slices.Contains(ev.Fields, tillit.AttrGivenName)
		}) {
			t.Fatal("the review list is not audited per person")
		}
	})
}

// withReceipts makes the env's register sign erasure receipts.
func withReceipts(tb testing.TB) func(*web.Config) {
	return func(cfg *web.Config) {
		skey, _, err := auditlog.GenerateKey()
		if err != nil {
			tb.Fatal(err)
		}
		signer, err := receipt.NewSigner(skey)
		if err != nil {
			tb.Fatal(err)
		}
		cfg.People = cfg.People.(*sqldb.PeopleService).WithReceipts(signer)
	}
}

func TestRetentionAPIEraseDecision(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, withReceipts(t))
		acme := e.tenant("acme")
		privacy := e.privacyToken(acme, true)
		collected := e.clock.Now().AddDate(0, -13, 0).Format(time.RFC3339)
		old := e.mustPerson(privacy, fmt.Sprintf(`{"given_name":"Kari","collected_at":%q}`, collected))
		wantStatus(t, e.do("PUT", "/api/v1/retention/policy", privacy, `{"months":12,"from":"collected_at","mode":"review","grace_days":0}`), http.StatusOK)
		wantStatus(t, e.do("POST", "/api/v1/retention/run", privacy, ""), http.StatusOK)
		w := e.do("POST", "/api/v1/retention/decide", privacy, fmt.Sprintf(`{"ids":[%d],"action":"erase","reason":"past the date"}`, old.ID))
		wantStatus(t, w, http.StatusOK)
		var res tillit.RetentionDecisionResult
		decode(t, w, &res)
		if len(res.Erased) != 1 || res.Erased[0].PersonID != old.ID {
			t.Fatalf("decision %s", w.Body.String())
		}
		wantProblem(t, e.do("GET", personPath(old.ID), privacy, ""), 404, tillit.ENotFound, "")
	})
}
