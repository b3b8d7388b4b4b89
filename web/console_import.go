package web

import (
	"bufio"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"

	"tillit"
	"tillit/peoplefile"
)

// Importing people from a CSV or NDJSON file. The page's script sends the
// file as it is to POST /api/v1/people/import with the session's cookie,
// showing the upload's progress: the import reads the file as it arrives,
// so the upload's progress is the import's. Without the script the form
// posts multipart to the page, which streams the file part into the same
// import.

// importPage is the data of the import page.
type importPage struct {
	Columns []string             // the columns a CSV file may have
	Result  *tillit.ImportResult // what the import did, once done
}

// importColumns returns the columns of a CSV file of the tenant: the
// standard ones, then the tenant's attributes.
func importColumns(sc *tillit.Schema) []string {
	cols := []string{tillit.AttrGivenName, tillit.AttrFamilyName, tillit.AttrNationalID, tillit.AttrNationalIDCountry,
		tillit.AttrBirthDate, tillit.AttrEmail, tillit.AttrPhone, tillit.AttrLanguage,
		"street", "postal_code", "city", "country", "collected_at"}
	for _, a := range sc.Attributes {
		cols = append(cols, a.Name)
	}
	return cols
}

// importView returns the view of the import page, its data and the
// tenant's schema.
func (s *Server) importView(r *http.Request) (*view, *importPage, *tillit.Schema, error) {
	v, err := s.signedInView(r, "import.title", "people")
	if err != nil {
		return nil, nil, nil, err
	}
	sc, err := keepEvent(r, func() (*tillit.Schema, error) { return s.people.FindSchema(r.Context()) })
	if err != nil {
		return nil, nil, nil, err
	}
	return v, &importPage{Columns: importColumns(sc)}, sc, nil
}

// importPage shows the import form.
func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	v, data, _, err := s.importView(r)
	if err != nil {
		return err
	}
	v.Data = data
	return s.render(w, http.StatusOK, "import", v)
}

// importForm imports the file of a form posted without the page's script
// and shows what the import did.
func (s *Server) importForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxImportBytes)
	v, data, sc, err := s.importView(r)
	if err != nil {
		return err
	}
	v.Data = data
	v.Form = url.Values{"file": {""}}
	if data.Result, err = s.importMultipart(r, sc); err != nil {
		return s.formError(w, "import", "import", v, withField(err, "file"))
	}
	return s.render(w, http.StatusOK, "import", v)
}

// importMultipart imports the "file" part of a multipart form, reading it
// as it arrives; an "all_or_nothing" part before it sets that option.
// Errors: EInvalid, ETooLarge, and those of ImportPeople.
func (s *Server) importMultipart(r *http.Request, sc *tillit.Schema) (*tillit.ImportResult, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, invalidForm("file", "err.field.file")
	}
	var opts tillit.ImportOptions
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, invalidForm("file", "err.field.file")
		}
		if err != nil {
			return nil, importReadError(err)
		}
		switch part.FormName() {
		case "all_or_nothing":
			opts.AllOrNothing = true
		case "file":
			if part.FileName() == "" {
				return nil, invalidForm("file", "err.field.file")
			}
			return s.importPart(r, part, sc, opts)
		}
	}
}

// importPart imports one file part: CSV or NDJSON by its name's extension,
// else by its first character.
func (s *Server) importPart(r *http.Request, part *multipart.Part, sc *tillit.Schema, opts tillit.ImportOptions) (*tillit.ImportResult, error) {
	br := bufio.NewReaderSize(part, 64<<10)
	var format peoplefile.Format
	switch strings.ToLower(path.Ext(part.FileName())) {
	case ".csv":
		format = peoplefile.CSV
	case ".ndjson", ".jsonl", ".json":
		format = peoplefile.NDJSON
	default:
		f, err := peoplefile.Sniff(br)
		if err != nil {
			return nil, importReadError(err)
		}
		format = f
	}
	src, err := peoplefile.NewReader(br, format, sc)
	if err != nil {
		return nil, importReadError(err)
	}
	res, err := s.people.ImportPeople(r.Context(), src, opts, nil)
	if err != nil {
		return nil, importReadError(err)
	}
	return res, nil
}

// importReadError explains an error of reading the posted file.
func importReadError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return tillit.Errorf(tillit.ETooLarge, "an import reads at most 4 GiB; split the file")
	}
	var te *tillit.Error
	if errors.As(err, &te) {
		return err
	}
	return &tillit.Error{Code: tillit.EInvalid, Message: "the file could not be read; send it again", Err: err}
}
