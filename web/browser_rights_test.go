package web_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// TestBrowserRights: a privacy officer, in Norwegian, erases a person from
// their page (confirms, steps up, sees the signed receipt, and the person
// is gone from the list); sees an overdue request highlighted at the top
// of the inbox; previews a retention policy, which says how many people
// it would flag before anything is saved, then saves it; and adds a
// purpose with its legal basis in the purposes editor. No page logs an
// error or breaks the content security policy.
func TestBrowserRights(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	consoleReceiptSigner(t, e)
	_, _, tok := sqldbtest.MustToken(t, e.db, e.acme, tillit.RoleAdmin)
	for i := range 2 { // collected five months before today
		if err := e.cfg.People.CreatePerson(tok, &tillit.Person{GivenName: "Gammel", FamilyName: "Kunde " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(5 * 30 * 24 * time.Hour)
	kari := &tillit.Person{GivenName: "Kari", FamilyName: "Nordmann"}
	if err := e.cfg.People.CreatePerson(tok, kari); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	for _, q := range []*tillit.SubjectRequest{
		{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now.AddDate(0, 0, -2)},
		{Type: tillit.RequestErasure, Channel: "letter", ReceivedAt: now.AddDate(0, -2, 0)},
	} {
		if err := e.cfg.People.CreateRequest(tok, q); err != nil {
			t.Fatal(err)
		}
	}
	const pv = "pv@acme.test"
	e.user(pv, tillit.RolePrivacy)
	ctx := e.browser(t)
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			// The erasure's first answer is 403 with the step-up form: expected.
			stepUp := strings.Contains(ev.Entry.Text, "status of 403") && strings.HasSuffix(ev.Entry.URL, "/erase")
			if ev.Entry.Level == log.EntryLevelError && !stepUp {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	e.signIn(t, ctx, pv)

	// Erasure: confirmed, stepped up, the receipt shown.
	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/people/"+strconv.FormatInt(kari.ID, 10)), chromedp.WaitVisible(chromedp.ID("rights-title")),
		chromedp.Click(chromedp.CSS("#erase summary")), chromedp.WaitVisible(chromedp.CSS("#erase button")))
	e.shot(t, ctx, "person-erase-confirm")
	e.clickThrough(t, ctx, "#erase button", "#stepup-title")
	e.fill(t, ctx, map[string]string{"f-stepup_password": testPassword, "f-stepup_code": e.code(pv)},
		`.stepup button[type="submit"]`, "#receipt")
	if s := text(t, ctx, "#receipt-done"); !strings.HasPrefix(s, "Personen er slettet.") {
		t.Fatalf("receipt notice %q", s)
	}
	rc := text(t, ctx, "#receipt")
	if !strings.Contains(rc, `"kind": "erasure"`) || !strings.Contains(rc, `"person_id": `+strconv.FormatInt(kari.ID, 10)) ||
		!strings.Contains(rc, "tillit/receipt/v1") {
		t.Fatalf("receipt %q", rc)
	}
	if dl := eval[string](t, ctx, `document.getElementById("receipt-download").getAttribute("download")`); dl != "erasure-receipt-"+strconv.FormatInt(kari.ID, 10)+".json" {
		t.Fatalf("download name %q", dl)
	}
	e.shot(t, ctx, "erasure-receipt")
	e.clickThrough(t, ctx, `#receipt-download ~ a[href="/people"]`, "#people")
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll("#people tbody tr")].map(r => r.cells[0].textContent.trim())`)
	if len(rows) != 2 || strings.Contains(strings.Join(rows, " "), "Nordmann") {
		t.Fatalf("people after the erasure: %q", rows)
	}

	// The inbox: the overdue request first, marked by a class and a word.
	e.do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/requests"]`)), chromedp.WaitVisible(chromedp.ID("requests")))
	first := eval[[]string](t, ctx, `(r => [r.className, r.querySelector(".badge") ? r.querySelector(".badge").textContent : "",
		getComputedStyle(r.cells[0]).backgroundColor, getComputedStyle(document.querySelectorAll("#requests tbody tr")[1].cells[0]).backgroundColor])(document.querySelector("#requests tbody tr"))`)
	if first[0] != "overdue" || first[1] != "Forfalt" || first[2] == first[3] {
		t.Fatalf("first row of the inbox %q: not highlighted as overdue", first)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#requests tbody tr.overdue").length`); n != 1 {
		t.Fatalf("%d overdue rows", n)
	}
	e.shot(t, ctx, "requests-inbox")

	// Retention: the preview counts before anything is saved.
	e.do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/retention"]`)), chromedp.WaitVisible(chromedp.ID("f-months")),
		chromedp.SetValue(chromedp.ID("f-months"), "3"))
	e.clickThrough(t, ctx, "#retention-preview-button", "#retention-preview")
	if s := text(t, ctx, "#retention-preview strong"); s != "Personer regelen ville flagget nå: 2." {
		t.Fatalf("preview %q", s)
	}
	if s := text(t, ctx, "#policy-now"); !strings.HasPrefix(s, "Det er ingen regel ennå") {
		t.Fatalf("the preview saved the policy: %q", s)
	}
	if v := run(t, ctx, chromedp.Value(chromedp.ID("f-months"))); v != "3" {
		t.Fatalf("the form after the preview: months %q", v)
	}
	e.shot(t, ctx, "retention-preview")
	e.clickThrough(t, ctx, "#retention-save", "main .notice")
	if s := text(t, ctx, "main .notice"); s != "Sletteregelen er lagret." {
		t.Fatalf("after saving: %q", s)
	}
	if s := text(t, ctx, "#policy-now"); !strings.HasPrefix(s, "Nå: 3 måneder") {
		t.Fatalf("saved policy %q", s)
	}

	// A purpose with its legal basis.
	e.do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/purposes"]`)), chromedp.WaitVisible(chromedp.CSS(`[name="purposes[0].name"]`)),
		chromedp.SetValue(chromedp.CSS(`[name="purposes[0].name"]`), "Medlemskap"),
		chromedp.SetValue(chromedp.CSS(`[name="purposes[0].legal_basis"]`), "contract"),
		chromedp.SetValue(chromedp.CSS(`[name="purposes[0].description"]`), "Medlemsregisteret"))
	e.clickThrough(t, ctx, `form[action="/purposes"] button[type="submit"]`, "main .notice")
	if row := text(t, ctx, "#purposes tbody tr"); !strings.HasPrefix(row, "Medlemskap") || !strings.Contains(row, "Avtale") {
		t.Fatalf("purposes row %q", row)
	}
	if v := run(t, ctx, chromedp.Value(chromedp.CSS(`[name="purposes[0].name"]`))); v != "Medlemskap" {
		t.Fatalf("the editor after saving: %q", v)
	}
	e.shot(t, ctx, "purposes")

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console problems: %q", problems)
	}
}
