package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// The console speaks Norwegian (bokmål), Swedish and English. Its texts are
// message catalogs, one JSON object per language from key to text, kept in
// i18n/; a text may hold fmt verbs, filled by tf.

//go:embed i18n/*.json
var catalogFS embed.FS

// defaultLang is the language of a person of whom nothing else is known.
const defaultLang = "nb"

// langCookie keeps the language a person chose with the switcher. It is a
// strictly necessary cookie: it only remembers a choice the person made.
const langCookie = "__Host-tillit_lang"

// langCookieLifetime is how long a language choice is remembered.
const langCookieLifetime = 365 * 24 * time.Hour

// langNames names each language in itself, for the switcher.
var langNames = map[string]string{"nb": "Norsk", "sv": "Svenska", "en": "English"}

// catalog is the texts of one language.
type catalog struct {
	lang string
	msgs map[string]string
}

// loadCatalogs reads every language's catalog. A missing or malformed
// catalog is a bug in the build, so it panics.
func loadCatalogs() map[string]*catalog {
	out := make(map[string]*catalog, len(tillit.Locales))
	for _, lang := range tillit.Locales {
		b, err := catalogFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			panic(fmt.Sprintf("web: catalog %s: %v", lang, err))
		}
		c := &catalog{lang: lang}
		if err := json.Unmarshal(b, &c.msgs); err != nil {
			panic(fmt.Sprintf("web: catalog %s: %v", lang, err))
		}
		out[lang] = c
	}
	return out
}

// has reports whether the catalog has a text for key.
func (c *catalog) has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// t returns the text of key; a missing key shows as itself, so that it is
// seen (and a test fails) rather than hidden.
func (c *catalog) t(key string) string {
	if m, ok := c.msgs[key]; ok {
		return m
	}
	return key
}

// tf returns the text of key with args filled in.
func (c *catalog) tf(key string, args ...any) string {
	return fmt.Sprintf(c.t(key), args...)
}

// keys returns the catalog's keys, sorted.
func (c *catalog) keys() []string {
	out := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pickLang returns the language of a page: the person's choice (the
// language cookie), else the tenant's setting once the tenant is known,
// else the browser's Accept-Language, else Norwegian.
func pickLang(r *http.Request, tenantLocale string) string {
	if c, err := r.Cookie(langCookie); err == nil && isLang(c.Value) {
		return c.Value
	}
	if isLang(tenantLocale) {
		return tenantLocale
	}
	if lang := acceptLanguage(r.Header.Get("Accept-Language")); lang != "" {
		return lang
	}
	return defaultLang
}

// isLang reports whether s is a language of the console.
func isLang(s string) bool { return slices.Contains(tillit.Locales, s) }

// acceptLanguage returns the console language the browser prefers most, or
// "" if it names none of them. Norwegian in any form (no, nb, nn) is
// bokmål, the only Norwegian the console has.
func acceptLanguage(header string) string {
	best, bestQ := "", 0.0
	for i, part := range strings.Split(header, ",") {
		if i >= 32 { // a header this long is not a person's
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		lang := baseLang(tag)
		if lang != "" && q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

// baseLang maps a language tag to a console language, or "".
func baseLang(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch primary {
	case "nb", "no", "nn":
		return "nb"
	case "sv":
		return "sv"
	case "en":
		return "en"
	}
	return ""
}

// setLang handles the language switcher: it remembers the chosen language
// in the language cookie and goes back to the page the person was on.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) error {
	lang := r.PostFormValue("lang")
	if !isLang(lang) {
		return tillit.FieldErrorf("lang", "lang must be one of nb, sv, en")
	}
	setCookie(w, langCookie, lang, s.clock.Now().Add(langCookieLifetime))
	return seeOther(w, localPath(r.PostFormValue("next"), "/"))
}

// localPath returns p if it is a path on this server ("/users"), else def:
// a redirect never leaves the site.
func localPath(p, def string) string {
	if p == "" || len(p) > 512 || p[0] != '/' || strings.HasPrefix(p, "//") ||
		strings.ContainsAny(p, "\\\r\n\t") {
		return def
	}
	return p
}
