package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"tillit"
)

// TestRetentionAPIAutomaticNeedsStepUp: an automatic policy erases people,
// so neither saving one nor running the job under one is open to a token
// not created sensitive (nor to a session without a step-up), though it
// holds retention:write.
func TestRetentionAPIAutomaticNeedsStepUp(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, admin := e.token(acme, tillit.RoleAdmin) // not sensitive
		sensitive := e.privacyToken(acme, true)
		_, cw := e.token(acme, tillit.RoleCaseworker)
		collected := e.clock.Now().AddDate(0, -13, 0).Format(time.RFC3339)
		old := e.mustPerson(cw, fmt.Sprintf(`{"given_name":"Kari","family_name":"Nordmann","collected_at":%q}`, collected))
		auto := `{"months":1,"from":"collected_at","mode":"automatic","grace_days":0}`

		wantProblem(t, e.do("PUT", "/api/v1/retention/policy", admin, auto), http.StatusForbidden, tillit.EForbidden, "")
		if w := e.do("GET", "/api/v1/retention/policy", admin, ""); w.Body.String() != `{"policy":null}`+"\n" {
			t.Fatalf("saved without a step-up: %s", w.Body.String())
		}
		wantStatus(t, e.do("PUT", "/api/v1/retention/policy?dry_run=true", admin, auto), http.StatusOK)
		wantStatus(t, e.do("PUT", "/api/v1/retention/policy", sensitive, auto), http.StatusOK)

		wantProblem(t, e.do("POST", "/api/v1/retention/run", admin, ""), http.StatusForbidden, tillit.EForbidden, "")
		wantStatus(t, e.do("GET", fmt.Sprintf("/api/v1/people/%d", old.ID), cw, ""), http.StatusOK)
		wantStatus(t, e.do("POST", "/api/v1/retention/run", sensitive, ""), http.StatusOK)
	})
}
