package notify

import (
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
	_ "time/tzdata" // the texts name Oslo and Stockholm time on hosts without zoneinfo
	"unicode"

	"tillit"
)

// textFiles holds one template file per locale, each defining the subject
// and body of every account message and the SMS code text.
//
//go:embed texts/*.tmpl
var textFiles embed.FS

// locales are the languages of the texts: Norwegian bokmål, Swedish and
// English, the fallback.
var locales = []string{"nb", "sv", "en"}

// texts maps a locale to its parsed templates.
var texts = parseTexts()

// textData is what the templates may use.
type textData struct {
	Tenant  string // the tenant's name; "" for an operator
	URL     string // the one-time link
	Expires string // when the link expires, in the locale's words
	Until   string // when a lockout ends, in the locale's words
	Code    string // a one-time code
}

// InvitationMail returns the e-mail that invites to to the console of the
// tenant tenantName (or, if it is "", to tillit as an operator), with the
// one-time link url that expires at expires. The locale is nb, sv or en;
// any other is en.
func InvitationMail(locale, to, tenantName, url string, expires time.Time) tillit.Mail {
	loc := textLocale(locale)
	return mailOf(loc, "invitation", to, textData{Tenant: oneLine(tenantName), URL: url, Expires: formatTime(loc, expires)})
}

// PasswordResetMail returns the e-mail with the one-time link url, valid
// until expires, where to chooses a new password.
func PasswordResetMail(locale, to, url string, expires time.Time) tillit.Mail {
	loc := textLocale(locale)
	return mailOf(loc, "reset", to, textData{URL: url, Expires: formatTime(loc, expires)})
}

// LockoutMail returns the e-mail that tells to that their account was
// locked after repeated failed sign-ins, until until, and what to do.
func LockoutMail(locale, to string, until time.Time) tillit.Mail {
	loc := textLocale(locale)
	return mailOf(loc, "lockout", to, textData{Until: formatTime(loc, until)})
}

// SMSCodeText returns the text message that carries the sign-in code.
func SMSCodeText(locale, code string) string {
	return render(textLocale(locale), "sms_code", textData{Code: code})
}

// mailOf returns the mail to to of the message name in the locale loc.
func mailOf(loc, name, to string, data textData) tillit.Mail {
	return tillit.Mail{
		To:      to,
		Subject: render(loc, name+".subject", data),
		Body:    render(loc, name+".body", data),
	}
}

// render executes the template name of the locale loc. The templates are
// embedded and every one is tested in every locale, so an error is a bug.
func render(loc, name string, data textData) string {
	var b strings.Builder
	if err := texts[loc].ExecuteTemplate(&b, name, data); err != nil {
		panic(fmt.Sprintf("notify: text %s in %s: %v", name, loc, err))
	}
	return b.String()
}

// parseTexts parses the template file of every locale.
func parseTexts() map[string]*template.Template {
	m := make(map[string]*template.Template, len(locales))
	for _, loc := range locales {
		m[loc] = template.Must(template.ParseFS(textFiles, "texts/"+loc+".tmpl"))
	}
	return m
}

// textLocale returns the locale of the texts for a language tag: nb for
// Norwegian (nb, nn, no), sv for Swedish, en for anything else.
func textLocale(tag string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	lang, _, _ = strings.Cut(lang, "_")
	switch lang {
	case "nb", "nn", "no":
		return "nb"
	case "sv":
		return "sv"
	}
	return "en"
}

// oneLine returns s with control characters (line breaks above all) as
// spaces, so that a name cannot break out of a subject line.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

var (
	monthsNB = [12]string{"januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"}
	monthsSV = [12]string{"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"}
	oslo     = mustLoadLocation("Europe/Oslo")
	sthlm    = mustLoadLocation("Europe/Stockholm")
)

// formatTime returns t as a reader of the locale writes it: in Norwegian
// time for nb ("5. mars 2026 kl. 14.00 norsk tid"), Swedish time for sv
// ("5 mars 2026 kl. 14.00 svensk tid"), and UTC for en ("5 March 2026 at
// 13:00 UTC").
func formatTime(loc string, t time.Time) string {
	switch loc {
	case "nb":
		t = t.In(oslo)
		return fmt.Sprintf("%d. %s %d kl. %02d.%02d norsk tid", t.Day(), monthsNB[t.Month()-1], t.Year(), t.Hour(), t.Minute())
	case "sv":
		t = t.In(sthlm)
		return fmt.Sprintf("%d %s %d kl. %02d.%02d svensk tid", t.Day(), monthsSV[t.Month()-1], t.Year(), t.Hour(), t.Minute())
	}
	t = t.UTC()
	return fmt.Sprintf("%d %s %d at %02d:%02d UTC", t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
}

// mustLoadLocation loads a time zone, which time/tzdata guarantees.
func mustLoadLocation(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("notify: time zone %s: %v", name, err))
	}
	return l
}
