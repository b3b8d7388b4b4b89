package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tillit"
)

// The web console: server-rendered pages for people, in Norwegian, Swedish
// and English. Each page is a template of templates/ in the shared layout,
// parsed once per language so that {{t "key"}} speaks the page's language.
// Forms post to their own path and answer with a redirect (303) on success;
// on failure they render the form again, with what is wrong, as the error
// of the request, so that its audit event has the failure as its outcome.

//go:embed templates/*.html
var templateFS embed.FS

// ui is everything the console needs that is built once: catalogs, assets
// and the pages of every language.
type ui struct {
	catalogs map[string]*catalog
	assets   *assets
	pages    map[string]map[string]*template.Template // language → page → template
}

// consoleUI returns the console's parsed templates, catalogs and assets,
// loading them on first use. A template that does not parse is a bug in
// the build, so it panics.
var consoleUI = sync.OnceValue(func() *ui {
	u := &ui{catalogs: loadCatalogs(), assets: loadAssets(), pages: map[string]map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, lang := range tillit.Locales {
		u.pages[lang] = map[string]*template.Template{}
	}
	for _, file := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		base := template.Must(template.New(name).Funcs(u.funcs(u.catalogs[defaultLang])).
			ParseFS(templateFS, "templates/layout.html", file))
		for _, lang := range tillit.Locales {
			t := template.Must(base.Clone())
			u.pages[lang][name] = t.Funcs(u.funcs(u.catalogs[lang]))
		}
	}
	return u
})

// funcs returns the template functions of a language.
func (u *ui) funcs(c *catalog) template.FuncMap {
	return template.FuncMap{
		"t":     c.t,
		"tf":    c.tf,
		"asset": u.assets.url,
		"time":  timeHTML,
		"join":  func(s []string) string { return strings.Join(s, ",") },
		"has":   slices.Contains[[]string],
		"dict":  dict,
	}
}

// dict returns a map of its key and value pairs, so that a template can
// pass several values to another.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// timeHTML renders an instant as a <time> element: UTC text that the
// console's script shows in the person's own time zone.
func timeHTML(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`,
		t.Format(time.RFC3339), t.Format("2006-01-02 15:04 UTC")))
}

// render answers the page name with status, in the view's language. Pages
// hold personal data, so no one may cache them.
func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) error {
	body, err := renderPage(name, v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
	return nil
}

// renderPage executes the page name of the view's language.
func renderPage(name string, v *view) ([]byte, error) {
	t, ok := consoleUI().pages[v.Lang][name]
	if !ok {
		return nil, tillit.Internal(fmt.Errorf("console: no page %q", name))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, tillit.Internal(fmt.Errorf("console: render %s: %w", name, err))
	}
	return buf.Bytes(), nil
}

// pageError is a failure answered with a page its handler rendered: a form
// again, showing what is wrong. The wrapped error decides the status and
// the audit event's outcome; header carries what the handler had set, such
// as the cookie of a session that a step-up just renewed.
type pageError struct {
	err    error
	header http.Header
	body   []byte
}

func (e *pageError) Error() string { return e.err.Error() }
func (e *pageError) Unwrap() error { return e.err }

// formError returns err as a pageError: the page name rendered again with
// err shown on the form in the view's language, prefix naming the form's
// texts for err ("signin" looks up "err.signin.unauthenticated" first).
func (s *Server) formError(w http.ResponseWriter, name, prefix string, v *view, err error) error {
	if code := tillit.ErrorCode(err); code == tillit.EInternal || code == tillit.EUnavailable {
		return err // not the person's mistake: the error page says so
	}
	v.addError(prefix, err)
	return pageFailure(w, name, v, err)
}

// pageFailure returns err as a pageError whose page is name, rendered from
// the view as it is.
func pageFailure(w http.ResponseWriter, name string, v *view, err error) error {
	body, rerr := renderPage(name, v)
	if rerr != nil {
		return rerr
	}
	h := w.Header().Clone()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	return &pageError{err: err, header: h, body: body}
}

// seeOther redirects the browser to target with a GET (POST/redirect/GET).
func seeOther(w http.ResponseWriter, target string) error {
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

// parseForm reads a posted form of at most 64 KiB. Errors: EInvalid,
// ETooLarge.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		if strings.Contains(err.Error(), "too large") {
			return tillit.Errorf(tillit.ETooLarge, "the form is larger than 64 KiB")
		}
		return tillit.Errorf(tillit.EInvalid, "the form could not be read")
	}
	return nil
}

// The console's assets: one style sheet, one script and an icon, embedded
// and served under content-hashed names, so that they can be cached for a
// year and a new build is fetched at once.

//go:embed static/*
var staticFS embed.FS

// asset is one embedded file under its content-hashed name.
type asset struct {
	name        string // "console.css"
	url         string // "/static/console.3f2a9c1d0b7e.css"
	contentType string
	body        []byte
}

// assets are the console's files by name and by hashed URL.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

// loadAssets hashes every embedded static file. A file that cannot be read
// is a bug in the build, so it panics.
func loadAssets() *assets {
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic(fmt.Sprintf("web: static assets: %v", err))
	}
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	for _, e := range entries {
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("web: static asset %s: %v", e.Name(), err))
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		f := &asset{name: e.Name(), url: "/static/" + hashed, contentType: ct, body: body}
		a.byName[f.name], a.byURL[f.url] = f, f
	}
	return a
}

// url returns the hashed URL of the asset name. An unknown name is a bug in
// a template, so it panics (and every page's test fails).
func (a *assets) url(name string) string {
	f, ok := a.byName[name]
	if !ok {
		panic(fmt.Sprintf("web: no static asset %q", name))
	}
	return f.url
}

// staticCacheControl lets browsers keep an asset for a year: its name
// changes with its content.
const staticCacheControl = "public, max-age=31536000, immutable"

// serveStatic answers an embedded asset by its hashed name. An old or
// unknown name is not found.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) error {
	f, ok := consoleUI().assets.byURL[r.URL.Path]
	if !ok {
		return tillit.Errorf(tillit.ENotFound, "no such file")
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", staticCacheControl)
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(f.body)
	}
	return nil
}
