package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tillit"
)

// TestConsoleRetentionAutomaticStepUp: saving an automatic policy erases
// people by itself, so the console asks for a step-up, as erasing does; a
// review policy saves without one.
func TestConsoleRetentionAutomaticStepUp(t *testing.T) {
	e := newConsoleRightsEnv(t, 1)
	e.privacy.setLang("en")
	auto := url.Values{"months": {"3"}, "from": {"collected_at"}, "mode": {"automatic"}, "grace_days": {"30"}}
	resp, body := e.privacy.do("POST", "/retention", auto)
	want(t, resp, body, http.StatusForbidden, "")
	if !strings.Contains(body, `id="stepup-title"`) || !strings.Contains(body, `action="/retention"`) ||
		!strings.Contains(body, `name="mode" value="automatic"`) {
		t.Fatalf("no step-up carrying the policy: %.4000s", mainOf(body))
	}
	if p, err := e.cfg.People.RetentionPolicy(e.token); err != nil || p != nil {
		t.Fatalf("saved without a step-up: %+v %v", p, err)
	}
	// A wrong code: the step-up form again, nothing saved.
	bad := e.stepUp(auto, "pv@acme.test")
	bad.Set("stepup_code", "000000")
	resp, body = e.privacy.do("POST", "/retention", bad)
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, `id="stepup-title"`) {
		t.Fatalf("a wrong step-up code: %d %.3000s", resp.StatusCode, mainOf(body))
	}
	if p, _ := e.cfg.People.RetentionPolicy(e.token); p != nil {
		t.Fatalf("saved with a wrong step-up code: %+v", p)
	}
	resp, body = e.privacy.do("POST", "/retention", e.stepUp(auto, "pv@acme.test"))
	want(t, resp, body, http.StatusSeeOther, "/retention?notice=retention_saved")
	if p, err := e.cfg.People.RetentionPolicy(e.token); err != nil || p == nil || p.Mode != tillit.RetentionAutomatic {
		t.Fatalf("policy after the step-up %+v %v", p, err)
	}
	// The admin, signed in without a step-up, saves a review policy.
	review := url.Values{"months": {"6"}, "from": {"collected_at"}, "mode": {"review"}, "grace_days": {"30"}}
	resp, body = e.admin.do("POST", "/retention", review)
	want(t, resp, body, http.StatusSeeOther, "/retention?notice=retention_saved")
}

// TestConsoleRequestCompleteUnverified: an access request whose person's
// identity was not verified does not complete from the console either.
func TestConsoleRequestCompleteUnverified(t *testing.T) {
	e := newConsoleRightsEnv(t, 0)
	person := e.createPerson(t, "Kari", "Nordmann")
	e.worker.setLang("en")
	r := postRequest(t, e.worker, url.Values{"type": {"access"}, "channel": {"email"},
		"received_at": {e.clock.Now().UTC().Format(time.DateOnly)}, "person_id": {strings.TrimPrefix(person, "/people/")}})
	resp, body := e.worker.do("POST", r, url.Values{"change": {"status"}, "status": {"completed"}})
	want(t, resp, body, http.StatusBadRequest, "")
	body = consolePageOK(t, e.worker, r, "en")
	if !strings.Contains(body, `value="identity_verified"`) || strings.Contains(body, `/report"`) {
		t.Fatalf("the unverified request after a refused completion: %s", mainOf(body))
	}
}
