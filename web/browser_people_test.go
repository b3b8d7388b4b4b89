package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"tillit"
)

// TestBrowserRegister: an administrator adds two people with the form,
// filters the list by name in the page, opens one, adds a record and sees
// it in the timeline with its line breaks, deletes it again, changes the
// family name, defines an attribute in the schema editor and imports a
// CSV file through the import page, whose progress bar reaches the end
// and which then shows what was created and refused. No page logs an
// error or breaks the content security policy.
func TestBrowserRegister(t *testing.T) {
	t.Parallel()
	e := newBrowserEnv(t)
	const ada = "ada@acme.test"
	e.user(ada, tillit.RoleAdmin)
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
			if ev.Entry.Level == log.EntryLevelError {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	e.signIn(t, ctx, ada)

	// Two people, through the form.
	for _, p := range [][2]string{{"Kari", "Nordmann"}, {"Ola", "Hansen"}} {
		e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/people"), chromedp.WaitVisible(chromedp.CSS(`a[href="/people/new"]`)),
			chromedp.Click(chromedp.CSS(`a[href="/people/new"]`)), chromedp.WaitVisible(chromedp.ID("f-given_name")))
		e.fill(t, ctx, map[string]string{"f-given_name": p[0], "f-family_name": p[1],
			"f-email": strings.ToLower(p[0]) + "@example.test"}, `form[action="/people/new"] button[type="submit"]`, "main .notice")
		if h1 := text(t, ctx, "h1"); h1 != p[0]+" "+p[1] {
			t.Fatalf("new person's page h1 %q", h1)
		}
	}
	if n := text(t, ctx, "main .notice"); n != "Personen er lagt til." {
		t.Fatalf("notice %q", n)
	}

	// The list, filtered in the page.
	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/people"), chromedp.WaitVisible(chromedp.ID("people-filter")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#people tbody tr").length`); n != 2 {
		t.Fatalf("%d people listed", n)
	}
	e.do(t, ctx, chromedp.SendKeys(chromedp.ID("people-filter"), "kar"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#people tbody tr")].filter(r => !r.hidden).length === 1`))
	if row := text(t, ctx, "#people tbody tr:not([hidden])"); !strings.HasPrefix(row, "Kari Nordmann") {
		t.Fatalf("filtered row %q", row)
	}
	if s := text(t, ctx, "#people-filter-status"); s != "1 av 2 personer på denne siden vises." {
		t.Fatalf("filter status %q", s)
	}
	e.shot(t, ctx, "people-filtered")

	// The person: a record in the timeline, then deleted.
	e.do(t, ctx, chromedp.Click(chromedp.CSS("#people tbody tr:not([hidden]) a")), chromedp.WaitVisible(chromedp.ID("records-title")),
		chromedp.SetValue(chromedp.ID("f-category"), "case"))
	e.fill(t, ctx, map[string]string{"f-title": "Samtale <1>", "f-body": "Linje én\nLinje <to>"},
		`form[action$="/records"] button`, "main .notice")
	if h3 := text(t, ctx, "#timeline li h3"); h3 != "Samtale <1>" {
		t.Fatalf("timeline title %q", h3)
	}
	if body := eval[string](t, ctx, `document.querySelector("#timeline .record-body").innerText`); body != "Linje én\nLinje <to>" {
		t.Fatalf("record body %q", body)
	}
	if tag := text(t, ctx, "#timeline .tag"); tag != "Sak" {
		t.Fatalf("category %q", tag)
	}
	e.shot(t, ctx, "person-record")
	e.do(t, ctx, chromedp.Click(chromedp.CSS("details.confirm summary")), chromedp.WaitVisible(chromedp.CSS("details.confirm button")))
	e.clickThrough(t, ctx, "details.confirm button", "main .notice")
	if n := text(t, ctx, "main .notice"); n != "Oppføringen er slettet." {
		t.Fatalf("after delete: %q", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#timeline li").length`); n != 0 {
		t.Fatalf("%d records after the delete", n)
	}

	// The family name, edited.
	e.do(t, ctx, chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)), chromedp.WaitVisible(chromedp.ID("f-family_name")))
	if v := run(t, ctx, chromedp.Value(chromedp.ID("f-email"))); v != "kari@example.test" {
		t.Fatalf("the edit form's e-mail %q", v)
	}
	e.shot(t, ctx, "person-edit")
	e.fill(t, ctx, map[string]string{"f-family_name": "Hansen"}, `.person-form button[type="submit"]`, "main .notice")
	if h1 := text(t, ctx, "h1"); h1 != "Kari Hansen" {
		t.Fatalf("after the edit: h1 %q", h1)
	}

	// An attribute of the tenant's own.
	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/schema"), chromedp.WaitVisible(chromedp.CSS(`[name="attributes[0].name"]`)),
		chromedp.SetValue(chromedp.CSS(`[name="attributes[0].name"]`), "member_no"),
		chromedp.SetValue(chromedp.CSS(`[name="attributes[0].type"]`), "number"),
		chromedp.Click(chromedp.CSS(`form[action="/schema"] button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("main .notice")))
	if row := text(t, ctx, "#schema-attributes tbody tr"); !strings.HasPrefix(row, "member_no") || !strings.Contains(row, "Tall") {
		t.Fatalf("schema row %q", row)
	}
	e.shot(t, ctx, "schema")

	// An import of a CSV file, with one refused line.
	var csv strings.Builder
	csv.WriteString("given_name;family_name;email;member_no\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "Person;Nummer %d;p%d@example.test;%d\n", i, i, i)
	}
	csv.WriteString("Feil;Adresse;not-an-address;1\n")
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.do(t, ctx, chromedp.Navigate(e.ts.URL+"/people/import"), chromedp.WaitVisible(chromedp.ID("f-file")),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`form[data-import] button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("import-result")))
	if done := eval[bool](t, ctx, `(() => { const p = document.getElementById("import-progress");
		return !document.getElementById("import-progress-box").hidden && p.max > 100 && p.value === p.max })()`); !done {
		t.Fatalf("progress bar: %s", eval[string](t, ctx, `(p => p.value + "/" + p.max)(document.getElementById("import-progress"))`))
	}
	if s := text(t, ctx, "#import-summary"); s != "Personer lagt til: 40." {
		t.Fatalf("import summary %q; status %q", s, text(t, ctx, "#import-status"))
	}
	refused := eval[[]string](t, ctx, `[...document.querySelectorAll("#import-refused tbody td")].map(td => td.textContent)`)
	if len(refused) != 3 || refused[0] != "42" || refused[1] != "email" {
		t.Fatalf("refused lines %q", refused)
	}
	e.shot(t, ctx, "import-done")

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console problems: %q", problems)
	}
}

// clickThrough clicks the element sel, which leads to another page, and
// waits for that page to show wait: the page clicked on is marked, so that
// what it shows itself does not count.
func (e *browserEnv) clickThrough(t *testing.T, ctx context.Context, sel, wait string) {
	t.Helper()
	e.do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.body.dataset.left = "1"`),
		chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS("body:not([data-left]) "+wait)))
}
