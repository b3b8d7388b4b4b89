package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"

	"tillit"
)

// The register extract as a page: self-contained (its style sheet inline,
// so that a saved or mailed copy looks the same), printable, without
// scripts. It is not a console page: it lives apart from templates/*.html.
var (
	//go:embed templates/report/report.html
	reportHTML string
	//go:embed templates/report/report.css
	reportCSS string

	reportTemplate = template.Must(template.New("report").Parse(reportHTML))
)

// reportCSP is the content security policy of the page: nothing but its
// own inline style sheet, allowed by its hash.
var reportCSP = func() string {
	sum := sha256.Sum256([]byte(reportCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

// renderReportHTML writes the register extract as an HTML page in the
// report's language.
func renderReportHTML(w io.Writer, rep *tillit.PersonReport) error {
	return reportTemplate.Execute(w, struct {
		*reportView
		CSS template.CSS
	}{newReportView(rep), template.CSS(reportCSS)})
}
