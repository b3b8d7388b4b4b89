package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tillit"
)

// TestRightsPagesRender renders the pages of people's rights in every
// language with every part in use (TestEveryPageRenders sees them
// without data): no template fails, no text is missing, nothing is
// inline, no value is refused, and each shows what it is for.
func TestRightsPagesRender(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	until := now.AddDate(1, 0, 0)
	pid := int64(7)
	held := &tillit.Hold{Reason: "Bookkeeping <law>", Until: &until, SetAt: now, SetBy: "user:1"}
	person := &tillit.Person{ID: 7, GivenName: "Kari", FamilyName: "Nordmann", CollectedAt: now, UpdatedAt: now,
		Restriction: &tillit.Restriction{Reason: "Disputes", SetAt: now, SetBy: "user:1"}, Hold: held}
	rc := &tillit.Receipt{Kind: tillit.ReceiptErasure, Tenant: "acme", PersonID: 7, At: now,
		Erased: tillit.ErasureCounts{Attributes: 3, Records: 2, Keys: 1, IndexEntries: 2}, Note: "tillit/receipt/v1\n…"}
	rp, err := newReceiptPage(rc)
	if err != nil {
		t.Fatal(err)
	}
	extended := now.Add(-time.Hour)
	overdue := &tillit.SubjectRequest{ID: 1, Type: tillit.RequestErasure, Status: tillit.StatusReceived, Channel: "letter",
		Note: "A <letter>", ReceivedAt: now.AddDate(0, -2, 0), DueAt: now.AddDate(0, -1, 0), Overdue: true, CreatedAt: now, UpdatedAt: now}
	soon := &tillit.SubjectRequest{ID: 2, Type: tillit.RequestAccess, Status: tillit.StatusInProgress, Channel: "email",
		PersonID: &pid, ReceivedAt: now.AddDate(0, 0, -25), DueAt: now.AddDate(0, 0, 5), CreatedAt: now, UpdatedAt: now}
	done := &tillit.SubjectRequest{ID: 3, Type: tillit.RequestExport, Status: tillit.StatusCompleted, Channel: "web",
		PersonID: &pid, ReceivedAt: now, DueAt: now.AddDate(0, 3, 0), ExtendedAt: &extended, ExtensionReason: "Many",
		CompletedAt: &now, HasReport: true, CreatedAt: now, UpdatedAt: now}
	policy := &tillit.RetentionPolicy{Months: 6, From: tillit.RetentionFromLastActivity, Mode: tillit.RetentionAutomatic, GraceDays: 14}
	purposes := []tillit.Purpose{{Name: "Membership", LegalBasis: tillit.BasisContract, Description: "The list", Categories: []string{"email", "note"}}}
	pages := map[string]func(v *view) (any, []string){
		"person": func(v *view) (any, []string) {
			return &personPage{Person: personItem{person}, CanWrite: true,
					Rights: personRights{CanReport: true, CanRestrict: true, CanErase: true, HoldActive: true}},
				[]string{`id="state-restricted"`, `id="state-held"`, "Bookkeeping &lt;law&gt;", `/api/v1/people/7/report?format=pdf`,
					`action="/people/7/erase"`, `value="lift"`, `value="release"`}
		},
		"receipt": func(v *view) (any, []string) {
			return rp, []string{`<pre class="receipt"`, `download="erasure-receipt-7.json"`, `href="data:application/json;base64,`}
		},
		"requests": func(v *view) (any, []string) {
			return &requestsPage{Requests: []requestRow{newRequestRow(overdue, now), newRequestRow(soon, now), newRequestRow(done, now)},
					All: true, Next: "/requests?cursor=3&show=all", Paged: true, CanWrite: true, Types: requestTypeOptions(), Channels: channelOptions()},
				[]string{`<tr class="overdue">`, `<tr class="due-soon">`, `class="badge overdue"`, `href="/people/7"`, `rel="next"`, `action="/requests"`}
		},
		"request": func(v *view) (any, []string) {
			return &requestPage{Request: newRequestRow(soon, now), CanWrite: true, Months: extensionOptions},
				[]string{`value="completed"`, `value="extend"`, `value="refuse"`, `class="state due-soon"`}
		},
		"retention": func(v *view) (any, []string) {
			v.Form = url.Values{"months": {"6"}, "id": {"7"}}
			return &retentionPage{Policy: policy, Preview: &tillit.RetentionPreview{Policy: policy, WouldFlag: 12, WouldDelete: 3},
					Flagged: []flaggedRow{{FlaggedPerson: &tillit.FlaggedPerson{ID: 7, Name: "Kari Nordmann", FlaggedAt: now, DueAt: now, EraseAt: &until, Hold: held}, Held: true},
						{FlaggedPerson: &tillit.FlaggedPerson{ID: 8, FlaggedAt: now, DueAt: now}}},
					Result:   &tillit.RetentionDecisionResult{Erased: []*tillit.Receipt{rc}, Kept: []int64{}, Held: []int64{7}, NotFlagged: []int64{9}},
					Next:     "/retention?cursor=x#flagged",
					CanWrite: true, CanErase: true, Froms: retentionFromOptions, Modes: retentionModeOptions, Automatic: true},
				[]string{`id="retention-preview"`, `id="flag-7" checked`, `<tr class="held">`, `id="retention-erase"`, `id="retention-result"`}
		},
		"purposes": func(v *view) (any, []string) {
			v.Form = purposeFormValues(purposes)
			return newPurposesPage(purposes, v.Form, true),
				[]string{`name="purposes[0].name" type="text" value="Membership"`, `name="purposes[1].new"`, `<option value="contract" selected>`}
		},
	}
	keyRE := regexp.MustCompile(`(?:>|")\s*((?:rights|receipt|requests|request|retention|purposes|nav|notice|err)\.[a-z0-9_.]+)\s*(?:<|")`)
	for _, lang := range tillit.Locales {
		for name, data := range pages {
			t.Run(lang+"/"+name, func(t *testing.T) {
				r := httptest.NewRequest("GET", "/x", nil)
				r.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
				v := newView(r, name+".title", "")
				v.Me = &consoleMe{Name: "user:1", Kind: tillit.KindUser, Role: tillit.RolePrivacy, TenantName: "Acme AS",
					CanPeople: true, CanSchema: true}
				var want []string
				v.Data, want = data(v)
				if name == "receipt" {
					v.Title = "receipt.erasure.title"
				}
				body, err := renderPage(name, v)
				if err != nil {
					t.Fatal(err)
				}
				page := string(body)
				switch {
				case inlineRE.MatchString(page):
					t.Fatalf("inline script or style: %q", inlineRE.FindString(page))
				case strings.Contains(page, "ZgotmplZ"):
					t.Fatal("a value was refused by html/template")
				case keyRE.MatchString(page):
					t.Fatalf("a text is missing: %q", keyRE.FindString(page))
				case !strings.Contains(page, `href="/requests"`) || !strings.Contains(page, `href="/retention"`) || !strings.Contains(page, `href="/purposes"`):
					t.Fatal("the privacy officer's navigation lacks the rights' pages")
				}
				for _, s := range want {
					if !strings.Contains(page, s) {
						t.Errorf("the page does not have %s", s)
					}
				}
			})
		}
	}
}
