package web

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"tillit"
)

// The register extract as a PDF: the same sections as the page, in
// Helvetica, one of the PDF core fonts every reader has, so that nothing
// is embedded. Core fonts speak Windows-1252, which has every letter of
// Norwegian, Swedish, Danish, Finnish and German; a letter it lacks (such
// as Sámi ŋ) is written as its base letter, or "?" (pdfText). The JSON and
// HTML forms keep every letter.

// Layout, in millimetres.
const (
	pdfMargin  = 15.0
	pdfWidth   = 210.0 - 2*pdfMargin // A4
	pdfLabelW  = 55.0
	pdfLine    = 4.6
	pdfFontSz  = 9.5
	pdfSmallSz = 8.0
)

// writeReportPDF writes the register extract as a PDF, its streams
// compressed.
func writeReportPDF(w io.Writer, rep *tillit.PersonReport) error {
	v := newReportView(rep)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+5)
	pdf.SetTitle(v.Title+" – "+v.Tenant, true)
	pdf.SetCreator("tillit", true)
	pdf.SetCreationDate(rep.GeneratedAt)
	pdf.SetModificationDate(rep.GeneratedAt)
	pdf.AliasNbPages("{nb}")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252
	text := func(s string) string { return tr(pdfText(s)) }
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfMargin)
		pdf.SetFont("Helvetica", "", pdfSmallSz)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 5, text(v.Title+" – "+v.Tenant), "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 5, fmt.Sprintf("%d / {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 18)
	pdf.MultiCell(pdfWidth, 8, text(v.Title), "", "L", false)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.MultiCell(pdfWidth, 6, text(v.Tenant), "", "L", false)
	pdf.SetFont("Helvetica", "", pdfFontSz)
	pdf.MultiCell(pdfWidth, pdfLine, text(v.Intro), "", "L", false)
	pdf.SetTextColor(90, 90, 90)
	pdf.MultiCell(pdfWidth, pdfLine, text(v.Generated), "", "L", false)
	pdf.SetTextColor(0, 0, 0)

	for _, s := range v.Sections {
		pdfSection(pdf, text, v.None, s)
	}
	return pdf.Output(w)
}

// pdfSection draws one section: its heading, paragraphs, then label–value
// rows side by side, or a table as one block per row (the first column
// in bold, or every column but a long last one, which follows as a
// paragraph).
func pdfSection(pdf *fpdf.Fpdf, text func(string) string, none string, s reportSection) {
	pdf.Ln(4)
	if _, y := pdf.GetXY(); y > 250 {
		pdf.AddPage()
	}
	pdf.SetFont("Helvetica", "B", 13)
	pdf.MultiCell(pdfWidth, 7, text(s.Title), "B", "L", false)
	pdf.Ln(1.5)
	pdf.SetFont("Helvetica", "", pdfFontSz)
	for _, p := range s.Text {
		pdf.MultiCell(pdfWidth, pdfLine, text(p), "", "L", false)
	}
	if len(s.Rows) == 0 {
		if len(s.Text) == 0 {
			pdf.SetTextColor(90, 90, 90)
			pdf.MultiCell(pdfWidth, pdfLine, text(none), "", "L", false)
			pdf.SetTextColor(0, 0, 0)
		}
		return
	}
	if s.KV {
		for _, row := range s.Rows {
			pdfKV(pdf, text, row[0], row[1])
		}
		return
	}
	bold := 1
	if s.LongLast {
		bold = len(s.Columns) - 1
	}
	pdf.SetFont("Helvetica", "", pdfSmallSz)
	pdf.SetTextColor(90, 90, 90)
	pdf.MultiCell(pdfWidth, pdfLine, text(strings.Join(s.Columns, " · ")), "", "L", false)
	pdf.SetTextColor(0, 0, 0)
	for _, row := range s.Rows {
		pdf.Ln(1)
		pdf.SetFont("Helvetica", "B", pdfFontSz)
		pdf.MultiCell(pdfWidth, pdfLine, text(joinNonEmpty(" · ", row[:bold]...)), "", "L", false)
		pdf.SetFont("Helvetica", "", pdfFontSz)
		if rest := joinNonEmpty(" · ", row[bold:]...); rest != "" {
			pdf.MultiCell(pdfWidth, pdfLine, text(rest), "", "L", false)
		}
	}
}

// pdfKV draws a label and its value side by side.
func pdfKV(pdf *fpdf.Fpdf, text func(string) string, label, value string) {
	page, y := pdf.PageNo(), pdf.GetY()
	if y > 270 {
		pdf.AddPage()
		page, y = pdf.PageNo(), pdf.GetY()
	}
	pdf.SetFont("Helvetica", "B", pdfFontSz)
	pdf.MultiCell(pdfLabelW, pdfLine, text(label), "", "L", false)
	yLabel := pdf.GetY()
	pdf.SetPage(page)
	pdf.SetXY(pdfMargin+pdfLabelW, y)
	pdf.SetFont("Helvetica", "", pdfFontSz)
	pdf.MultiCell(pdfWidth-pdfLabelW, pdfLine, text(value), "", "L", false)
	if pdf.PageNo() == page && yLabel > pdf.GetY() {
		pdf.SetY(yLabel)
	}
	pdf.SetX(pdfMargin)
}

// cp1252High are the letters Windows-1252 has at 0x80–0x9F; from 0xA0 on
// it is Latin-1, which is Unicode's first 256 code points.
const cp1252High = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

// pdfFold gives letters Windows-1252 lacks a base letter it has.
var pdfFold = strings.NewReplacer(
	"Č", "C", "č", "c", "Đ", "D", "đ", "d", "Ŋ", "N", "ŋ", "n", "Ŧ", "T", "ŧ", "t", "Ǧ", "G", "ǧ", "g",
	"Ǩ", "K", "ǩ", "k", "Ʒ", "Z", "ʒ", "z", "Ǯ", "Z", "ǯ", "z", "Ą", "A", "ą", "a", "Ć", "C", "ć", "c",
	"Ę", "E", "ę", "e", "Ł", "L", "ł", "l", "Ń", "N", "ń", "n", "Ś", "S", "ś", "s", "Ź", "Z", "ź", "z",
	"Ż", "Z", "ż", "z", "Ř", "R", "ř", "r", "Ě", "E", "ě", "e", "Ů", "U", "ů", "u", "Ő", "O", "ő", "o",
	"Ű", "U", "ű", "u", "Ā", "A", "ā", "a", "Ē", "E", "ē", "e", "Ī", "I", "ī", "i", "Ū", "U", "ū", "u",
	"Ğ", "G", "ğ", "g", "İ", "I", "ı", "i", "Ş", "S", "ş", "s", "Ţ", "T", "ţ", "t", "Ș", "S", "ș", "s",
	"Ț", "T", "ț", "t", "\u2212", "-", "\u2010", "-", "\u2011", "-", "\u00ad", "",
)

// pdfText makes s writable in Windows-1252: letters it lacks become their
// base letter or "?", and control characters but line breaks and tabs
// spaces.
func pdfText(s string) string {
	s = pdfFold.Replace(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f:
			return ' '
		case r < 0x100 && (r < 0x80 || r >= 0xa0):
			return r
		case strings.ContainsRune(cp1252High, r):
			return r
		}
		return '?'
	}, s)
}
