package web

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// reportView is a register extract as the HTML page and the PDF show it:
// every text made once, in the report's language, so that both show the
// same content in the same order.
type reportView struct {
	Lang      string
	Title     string
	Tenant    string
	Intro     string
	Generated string // "Made: 2026-11-22 10:00 UTC"
	None      string // what an empty section says
	Sections  []reportSection
}

// reportSection is one heading and its content: paragraphs, then either
// label–value rows (KV) or a table with Columns. LongLast marks a table
// whose last column is long text (a record's body).
type reportSection struct {
	Title    string
	Text     []string
	KV       bool
	Columns  []string
	Rows     [][]string
	LongLast bool
}

// The formats of times in a report: UTC, so that the reader knows which.
const (
	reportTime = "2006-01-02 15:04 UTC"
	reportDate = time.DateOnly
)

// newReportView lays out rep in its language.
func newReportView(rep *tillit.PersonReport) *reportView {
	lang := rep.Language
	if !isLang(lang) {
		lang = defaultLang
	}
	c := consoleUI().catalogs[lang]
	v := &reportView{
		Lang:      lang,
		Title:     c.t("report.title"),
		Tenant:    rep.Tenant,
		Intro:     c.tf("report.intro", rep.Tenant),
		Generated: c.t("report.generated") + ": " + rep.GeneratedAt.UTC().Format(reportTime),
		None:      c.t("report.none"),
	}
	v.Sections = []reportSection{
		personSection(c, rep.Person),
		recordsSection(c, rep.Records),
		purposesSection(c, rep.Purposes),
		categoriesSection(c, rep.Categories),
		sourcesSection(c, rep.Sources),
		recipientsSection(c, "report.recipients", rep.Recipients),
		recipientsSection(c, "report.sub_processors", rep.SubProcessors),
		retentionSection(c, rep.Retention),
		accessSection(c, rep.AccessHistory),
	}
	return v
}

// label returns the catalog's text of prefix+key, or key itself when the
// catalog has none (a tenant's own category, an action of a later issue).
func label(c *catalog, prefix, key string) string {
	if c.has(prefix + key) {
		return c.t(prefix + key)
	}
	return key
}

func personSection(c *catalog, p *tillit.Person) reportSection {
	s := reportSection{Title: c.t("report.person"), KV: true}
	add := func(key, value string) {
		if value != "" {
			s.Rows = append(s.Rows, []string{c.t(key), value})
		}
	}
	add("report.person_id", strconv.FormatInt(p.ID, 10))
	add("person.given_name", p.GivenName)
	add("person.family_name", p.FamilyName)
	add("person.national_id", p.NationalID)
	add("person.national_id_country", p.NationalIDCountry)
	add("person.birth_date", p.BirthDate)
	add("person.email", p.Email)
	add("person.phone", p.Phone)
	if a := p.Address; a != nil {
		add("person.address", joinNonEmpty(", ", a.Street, strings.TrimSpace(a.PostalCode+" "+a.City), a.Country))
	}
	add("person.language", p.Language)
	for _, name := range slices.Sorted(maps.Keys(p.Attributes)) {
		s.Rows = append(s.Rows, []string{name, reportAttrText(c, p.Attributes[name])})
	}
	if p.BirthYear != 0 {
		add("report.birth_year", strconv.Itoa(p.BirthYear))
	}
	add("report.postal_area", p.PostalArea)
	add("person.collected_at", p.CollectedAt.UTC().Format(reportTime))
	add("person.updated_at", p.UpdatedAt.UTC().Format(reportTime))
	add("report.last_activity", p.LastActivityAt.UTC().Format(reportTime))
	if r := p.Restriction; r != nil {
		add("report.restricted", joinNonEmpty(" – ", r.SetAt.UTC().Format(reportDate), r.Reason))
	}
	return s
}

// reportAttrText shows a tenant attribute's value.
func reportAttrText(c *catalog, v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return c.t("person.yes")
		}
		return c.t("person.no")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func recordsSection(c *catalog, records []*tillit.Record) reportSection {
	s := reportSection{Title: c.t("report.records"), LongLast: true,
		Columns: []string{c.t("report.record_date"), c.t("report.record_category"), c.t("report.record_title"), c.t("report.record_body")}}
	for _, r := range records {
		s.Rows = append(s.Rows, []string{r.OccurredAt.UTC().Format(reportDate), label(c, "category.", r.Category), r.Title, r.Body})
	}
	return s
}

func purposesSection(c *catalog, list []tillit.Purpose) reportSection {
	s := reportSection{Title: c.t("report.purposes"),
		Columns: []string{c.t("report.purpose_name"), c.t("report.legal_basis"), c.t("report.purpose_description"), c.t("report.purpose_categories")}}
	for _, p := range list {
		s.Rows = append(s.Rows, []string{p.Name, label(c, "report.basis.", p.LegalBasis), p.Description, strings.Join(p.Categories, ", ")})
	}
	return s
}

func categoriesSection(c *catalog, list []tillit.DataCategory) reportSection {
	s := reportSection{Title: c.t("report.categories"),
		Columns: []string{c.t("report.category_name"), c.t("report.category_kind"), c.t("schema.classification")}}
	for _, d := range list {
		name := d.Name
		if d.Kind == "record" {
			name = label(c, "category.", d.Name)
		} else if slices.Contains(tillit.StandardAttributes, d.Name) {
			name = c.t("person." + d.Name)
		}
		s.Rows = append(s.Rows, []string{name, label(c, "report.kind.", d.Kind), label(c, "schema.class.", string(d.Classification))})
	}
	return s
}

func sourcesSection(c *catalog, sources []string) reportSection {
	s := reportSection{Title: c.t("report.sources")}
	for _, src := range sources {
		s.Text = append(s.Text, label(c, "report.source.", src))
	}
	return s
}

func recipientsSection(c *catalog, key string, list []tillit.Recipient) reportSection {
	s := reportSection{Title: c.t(key),
		Columns: []string{c.t("report.recipient_name"), c.t("report.recipient_purpose"), c.t("person.country")}}
	for _, r := range list {
		s.Rows = append(s.Rows, []string{r.Name, r.Purpose, r.Country})
	}
	return s
}

func retentionSection(c *catalog, r tillit.ReportRetention) reportSection {
	s := reportSection{Title: c.t("report.retention"), KV: true}
	if r.Policy == nil {
		s.Text = []string{c.t("report.retention_none")}
	} else {
		p := r.Policy
		s.Rows = append(s.Rows, []string{c.t("report.retention_period"),
			c.tf("report.retention_months", p.Months, label(c, "report.from.", p.From))})
		mode := label(c, "report.mode.", p.Mode)
		if p.Mode == tillit.RetentionAutomatic {
			mode = c.tf("report.mode_automatic_days", p.GraceDays)
		}
		s.Rows = append(s.Rows, []string{c.t("report.retention_mode"), mode})
		if r.DeleteAt != nil {
			s.Rows = append(s.Rows, []string{c.t("report.delete_at"), r.DeleteAt.UTC().Format(reportDate)})
		}
	}
	if h := r.Hold; h != nil {
		until := c.t("report.hold_open")
		if h.Until != nil {
			until = c.tf("report.hold_until", h.Until.UTC().Format(reportDate))
		}
		s.Rows = append(s.Rows, []string{c.t("report.hold"), joinNonEmpty(" – ", h.Reason, until)})
	}
	return s
}

func accessSection(c *catalog, history []tillit.Access) reportSection {
	s := reportSection{Title: c.t("report.access_history"),
		Columns: []string{c.t("report.access_at"), c.t("report.access_who"), c.t("report.access_role"),
			c.t("report.access_action"), c.t("report.access_data")}}
	s.Text = []string{c.t("report.access_intro")}
	for _, a := range history {
		role := ""
		if a.Role != "" {
			role = label(c, "role.", string(a.Role))
		}
		s.Rows = append(s.Rows, []string{a.At.UTC().Format(reportTime), actorText(c, a), role,
			label(c, "report.action.", a.Action), fieldsText(c, a.Attributes)})
	}
	return s
}

// actorText names who acted: a token by its name, a user by number (the
// register keeps no display names of staff), the system and the
// platform's operators by what they are.
func actorText(c *catalog, a tillit.Access) string {
	kind, id, _ := strings.Cut(a.Actor, ":")
	switch tillit.PrincipalKind(kind) {
	case tillit.KindToken:
		if a.Name != "" {
			return c.tf("report.actor_token", a.Name)
		}
	case tillit.KindUser:
		if a.Name != "" {
			return a.Name
		}
		return c.tf("report.actor_user", id)
	case tillit.KindSystem:
		return c.t("report.actor_system")
	case tillit.KindOperator:
		return c.t("report.actor_operator")
	}
	return a.Actor
}

// fieldsText names the data an event touched: standard attributes by
// their labels, the tenant's by name, records counted.
func fieldsText(c *catalog, fields []string) string {
	var out []string
	records := 0
	for _, f := range fields {
		switch {
		case strings.HasPrefix(f, "record:"):
			records++
		case slices.Contains(tillit.StandardAttributes, f):
			out = append(out, c.t("person."+f))
		case strings.HasPrefix(f, "attributes."):
			out = append(out, strings.TrimPrefix(f, "attributes."))
		default:
			out = append(out, label(c, "report.field.", f))
		}
	}
	switch {
	case records == 1:
		out = append(out, c.t("report.record_one"))
	case records > 1:
		out = append(out, c.tf("report.records_n", records))
	}
	return strings.Join(slices.Compact(out), ", ")
}
