package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tillit"
)

// TestCatalogsComplete: every language has every text, none empty, and
// every key a template or the code names is in the catalogs.
func TestCatalogsComplete(t *testing.T) {
	cats := consoleUI().catalogs
	en := cats["en"]
	for _, lang := range tillit.Locales {
		c := cats[lang]
		for _, k := range en.keys() {
			if strings.TrimSpace(c.msgs[k]) == "" {
				t.Errorf("%s: no text for %q", lang, k)
			}
		}
		for _, k := range c.keys() {
			if !en.has(k) {
				t.Errorf("%s: %q is not in the English catalog", lang, k)
			}
			if strings.Count(c.msgs[k], "%") != strings.Count(en.msgs[k], "%") {
				t.Errorf("%s: %q has other verbs than English", lang, k)
			}
		}
	}
	for _, k := range usedKeys(t) {
		if !en.has(k) {
			t.Errorf("key %q is used but not in the catalogs", k)
		}
	}
}

// usedKeys returns the keys the templates name literally, and those the
// code builds from the closed sets of roles, factors, codes and notices.
func usedKeys(t *testing.T) []string {
	var keys []string
	re := regexp.MustCompile(`\{\{-?\s*(?:t|tf)\s+"([^"]+)"|\(t "([^"]+)"\)|"hint=([^"]+)"|\.(?:Field|Input) \S+ "[^"]+" "([^"]+)"|\.Select \S+ "([^"]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			for _, k := range m[1:] {
				if k != "" {
					keys = append(keys, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tillit.Roles {
		keys = append(keys, "role."+string(r))
	}
	for _, f := range []string{tillit.FactorTOTP, tillit.FactorRecovery, tillit.FactorPasskey, tillit.FactorSMS} {
		keys = append(keys, "factor."+f)
	}
	for _, k := range []tillit.PrincipalKind{tillit.KindUser, tillit.KindOperator, tillit.KindToken, tillit.KindSystem} {
		keys = append(keys, "kind."+string(k))
	}
	for code := range problemKinds {
		keys = append(keys, "error."+code+".title", "err."+code)
	}
	for _, s := range []string{"active", "invited", "blocked", "locked"} {
		keys = append(keys, "user.status."+s)
	}
	for _, n := range []string{"idle", "signed_out", "session_ended", "signin_expired", "sms_sent", "reset_sent",
		"password_changed", "sessions_ended", "session_ended_one", "invited", "invite_not_sent", "user_updated", "settings_saved",
		"person_created", "person_saved", "record_added", "record_deleted", "schema_saved",
		"restricted", "restriction_lifted", "hold_set", "hold_released", "request_created", "request_updated",
		"retention_saved", "purposes_saved"} {
		keys = append(keys, "notice."+n)
	}
	for _, m := range []string{tillit.FactorTOTP, tillit.FactorRecovery} {
		keys = append(keys, "mfa.use_"+m)
	}
	for _, c := range tillit.NationalIDCountries {
		keys = append(keys, "country."+c)
	}
	for _, c := range tillit.DefaultCategories {
		keys = append(keys, "category."+c)
	}
	for _, k := range []tillit.AttributeType{tillit.TypeString, tillit.TypeNumber, tillit.TypeBoolean, tillit.TypeDate, tillit.TypeEnum} {
		keys = append(keys, "schema.type."+string(k))
	}
	for _, c := range []tillit.Classification{tillit.ClassPersonal, tillit.ClassSpecial, tillit.ClassNonPersonal} {
		keys = append(keys, "schema.class."+string(c))
	}
	for _, k := range []string{"people.by_email", "people.by_phone", "people.by_national_id", "person.country_detect",
		"person.not_set", "person.yes", "person.no", "err.field.lookup_value", "err.field.by", "err.field.attribute",
		"err.field.attribute_number", "err.field.attribute_name", "err.field.attribute_type",
		"err.field.attribute_classification", "err.field.attribute_values", "err.field.file"} {
		keys = append(keys, k)
	}
	return append(keys, "err.retry_minutes", "err.token_missing", "err.confirm_mismatch", "enroll.qr_label")
}

func TestAcceptLanguage(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", ""},
		{"sv-SE,sv;q=0.9,en;q=0.8", "sv"},
		{"de-DE, en;q=0.5, nb;q=0.7", "nb"},
		{"no", "nb"},
		{"nn-NO", "nb"},
		{"fr, de", ""},
		{"en-GB;q=0.3, sv;q=0.2", "en"},
		{"sv;q=x, en", "en"},
	}
	for _, tt := range tests {
		if got := acceptLanguage(tt.header); got != tt.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestPickLang(t *testing.T) {
	tests := []struct {
		name, cookie, tenant, accept, want string
	}{
		{"nothing known", "", "", "", "nb"},
		{"browser", "", "", "en-US,en", "en"},
		{"tenant over browser", "", "sv", "en-US", "sv"},
		{"choice over all", "en", "sv", "nb", "en"},
		{"bad cookie ignored", "xx", "", "sv", "sv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			r.Header.Set("Accept-Language", tt.accept)
			if got := pickLang(r, tt.tenant); got != tt.want {
				t.Fatalf("pickLang = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/users":               "/users",
		"/signin/factor?x=1":   "/signin/factor?x=1",
		"":                     "/",
		"https://evil.example": "/",
		"//evil.example/x":     "/",
		"/\\evil.example":      "/",
		"users":                "/",
		"/a\r\nSet-Cookie: x":  "/",
	} {
		if got := localPath(in, "/"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// inlineRE finds what the console's CSP would block: inline scripts,
// event handler attributes, style attributes and style elements.
var inlineRE = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|\son[a-z]+\s*=|\sstyle\s*=|<style`)

// TestEveryPageRenders renders every page in every language from a full
// view: no template fails, <html> has the language, every asset is
// hashed, and nothing is inline.
func TestEveryPageRenders(t *testing.T) {
	u := consoleUI()
	for _, lang := range tillit.Locales {
		for name := range u.pages[lang] {
			t.Run(lang+"/"+name, func(t *testing.T) {
				body, err := renderPage(name, sampleView(t, lang, name))
				if err != nil {
					t.Fatal(err)
				}
				html := string(body)
				switch {
				case !strings.Contains(html, `<html lang="`+lang+`">`):
					t.Fatal("no lang attribute")
				case inlineRE.MatchString(html):
					t.Fatalf("inline script or style: %q", inlineRE.FindString(html))
				case !strings.Contains(html, `href="#main"`):
					t.Fatal("no skip link")
				case strings.Contains(html, "ZgotmplZ"):
					t.Fatal("a value was refused by html/template")
				}
			})
		}
	}
}

// sampleView returns a view with data for every page.
func sampleView(t *testing.T, lang, name string) *view {
	r := httptest.NewRequest("GET", "/x", nil)
	r.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
	v := newView(r, name+".title", "")
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	v.Me = &consoleMe{Name: "user:1", Email: "ada@acme.test", Kind: tillit.KindUser, Role: tillit.RoleAdmin,
		TenantName: "Acme AS", TenantSlug: "acme", IdleUntil: now.Add(30 * time.Minute), IdleSeconds: 1800,
		CanUsers: true, CanSettings: true, CanPeople: true, CanSchema: true}
	v.Form = url.Values{"email": {"x"}, "role": {"reader"}}
	v.Errors = []fieldError{{Field: "email", Message: "wrong"}, {Message: "form"}}
	v.StepUp = true
	acc := &tillit.Account{ID: 2, Kind: tillit.KindUser, Email: "bo@acme.test", Role: tillit.RoleReader,
		Factors: []string{"totp"}, CreatedAt: now, LastSignInAt: &now}
	sess := &tillit.Session{ID: 1, CreatedAt: now, LastSeenAt: now, IdleUntil: now, ExpiresAt: now, Current: true}
	qr, err := qrSVG("otpauth://totp/x?secret=ABC", "QR")
	if err != nil {
		t.Fatal(err)
	}
	switch name {
	case "signin", "factor":
		v.Data = signInPage{Next: "/users", Methods: []string{"totp", "recovery", "sms", "passkey"}, Method: "totp",
			Links: []methodLink{{Label: "mfa.use_recovery", URL: "/signin/factor?method=recovery"}}, SMS: true, Passkey: true}
	case "enroll":
		v.Data = enrollPage{Secret: "ABCD EFGH", Raw: "ABCDEFGH", OTPAuth: "otpauth://totp/x?secret=ABCDEFGH", QR: qr}
	case "recovery":
		v.Data = recoveryPage{Codes: []string{"aaaa-bbbb-cccc"}, Next: "/"}
	case "invite", "reset":
		v.Data = tokenPage{Token: "tok"}
	case "home":
		v.Data = homePage{Session: sess}
	case "passkeys":
		v.Data = struct{ Available bool }{true}
	case "sessions":
		v.Data = struct {
			Sessions []*tillit.Session
			Others   int
		}{[]*tillit.Session{sess, {ID: 2, ClientAddr: "192.0.2.1"}}, 1}
	case "users":
		v.Data = usersPage{Users: []userRow{newUserRow(acc, now)}, Roles: tillit.Roles, CanWrite: true,
			Invitation: &tillit.Invitation{URL: "https://x/invite#t", ExpiresAt: now}}
	case "user":
		v.Data = userPage{User: newUserRow(acc, now), Roles: tillit.Roles, CanWrite: true}
	case "settings":
		v.Data = settingsPage{Tenant: &tillit.Tenant{Name: "Acme AS", Settings: tillit.DefaultTenantSettings()}, CanWrite: true}
	case "error":
		v.Data = errorPage{Code: tillit.ENotFound, Status: 404, Message: "no", RequestID: "abc"}
	default:
		v.Data = sampleRegisterData(name, now)
	}
	return v
}
