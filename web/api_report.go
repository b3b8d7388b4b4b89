package web

import (
	"fmt"
	"net/http"

	"tillit"
)

// reportRoutes lists the routes of register extracts, exports and the
// tenant's purposes, served when the server has a register.
func (s *Server) reportRoutes() []Route {
	if s.people == nil {
		return nil
	}
	report := Requires(tillit.PermPersonReport)
	return []Route{
		{Method: "GET", Pattern: "/api/v1/purposes", Action: "purpose.read", Access: Requires(tillit.PermTenantRead), handle: s.getPurposes},
		{Method: "PUT", Pattern: "/api/v1/purposes", Action: "purpose.update", Access: Requires(tillit.PermPurposeWrite), handle: s.putPurposes},
		{Method: "GET", Pattern: "/api/v1/people/{id}/report", Action: "person.report", Access: report, TargetKind: "person", handle: s.personReport},
		{Method: "GET", Pattern: "/api/v1/people/{id}/export", Action: "person.export", Access: report, TargetKind: "person", handle: s.personExport},
	}
}

// purposeList is the body of GET and PUT /api/v1/purposes.
type purposeList struct {
	Purposes []tillit.Purpose `json:"purposes"`
}

func (s *Server) getPurposes(w http.ResponseWriter, r *http.Request) error {
	list, err := s.people.Purposes(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, purposeList{Purposes: list})
}

func (s *Server) putPurposes(w http.ResponseWriter, r *http.Request) error {
	var body purposeList
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Purposes == nil {
		return tillit.FieldErrorf("purposes", `purposes is required: a list, such as {"purposes": []} for none`)
	}
	list, err := s.people.SetPurposes(r.Context(), body.Purposes)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, purposeList{Purposes: list})
}

// Formats of a register extract.
const (
	formatJSON = "json"
	formatHTML = "html"
	formatPDF  = "pdf"
)

// personReport answers the register extract of a person:
// ?format=json (the default), html (a printable page in the tenant's
// language) or pdf.
func (s *Server) personReport(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = formatJSON
	case formatJSON, formatHTML, formatPDF:
	default:
		return tillit.FieldErrorf("format", "format must be json, html or pdf")
	}
	rep, err := s.people.PersonReport(r.Context(), id)
	if err != nil {
		return err
	}
	switch format {
	case formatHTML:
		// The answer is buffered by the audit wrapper, which throws it
		// away if rendering fails.
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", reportCSP)
		h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="person-%d-report.html"`, id))
		if err := renderReportHTML(w, rep); err != nil {
			return tillit.Internal(fmt.Errorf("render report: %w", err))
		}
		return nil
	case formatPDF:
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="person-%d-report.pdf"`, id))
		if err := writeReportPDF(w, rep); err != nil {
			return tillit.Internal(fmt.Errorf("render report: %w", err))
		}
		return nil
	}
	return writeJSON(w, http.StatusOK, rep)
}

// personExport answers the person's data for portability as a zip of
// person.json, records.json, person.csv and records.csv, streamed once
// its audit event is recorded.
func (s *Server) personExport(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	exp, err := s.people.ExportPerson(r.Context(), id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="person-%d-export.zip"`, id))
	out, err := s.streamAfterRecord(w, r)
	if err != nil {
		return err
	}
	if err := writeExportZip(out, exp); err != nil {
		streamFailed(w)
		return err
	}
	return nil
}
