package web

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"tillit"
)

// TOTP enrolment at the first sign-in: a QR code of the otpauth:// URL,
// drawn on the server as inline SVG (no script, no image request), and the
// secret as text for typing in by hand; then the first code, which signs
// in and shows the ten recovery codes, once.

// enrollPage is the data of the enrolment page.
type enrollPage struct {
	Secret  string        // as the app shows it: groups of four
	Raw     string        // the secret itself, carried by the form so that a wrong code keeps the QR code
	OTPAuth string        // the otpauth:// URL
	QR      template.HTML // the URL as an inline SVG QR code
	Next    string
}

// recoveryPage is the data of the recovery codes page.
type recoveryPage struct {
	Codes []string
	Next  string
}

var (
	totpSecretRE = regexp.MustCompile(`^[A-Z2-7]{16,128}$`)
	otpauthRE    = regexp.MustCompile(`^otpauth://totp/[!-~]+$`)
)

// enrollForm starts TOTP enrolment of the pending sign-in and shows the QR
// code and the secret. Each visit starts anew with a new secret.
func (s *Server) enrollForm(w http.ResponseWriter, r *http.Request) error {
	if pendingSecret(r) == "" {
		return seeOther(w, "/signin?notice=signin_expired")
	}
	secret, url, err := s.auth.EnrollTOTP(r.Context(), pendingSecret(r))
	if err != nil {
		return err
	}
	v := newView(r, "enroll.title", "")
	page, err := newEnrollPage(secret, url, v.cat)
	if err != nil {
		return err
	}
	page.Next = localPath(r.URL.Query().Get("next"), "")
	v.Data = page
	return s.render(w, http.StatusOK, "enroll", v)
}

// enroll confirms enrolment with the first code: the person is signed in
// and sees their recovery codes, this once. The answer is the page itself,
// not a redirect, so that the codes are never stored on the server.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if pendingSecret(r) == "" {
		return seeOther(w, "/signin?notice=signin_expired")
	}
	next := localPath(r.PostFormValue("next"), "")
	in, err := s.auth.ConfirmTOTP(r.Context(), pendingSecret(r), r.PostFormValue("code"))
	if err != nil {
		v := newView(r, "enroll.title", "")
		page, perr := s.enrollAgain(r, v.cat)
		if perr != nil {
			return perr
		}
		page.Next = next
		v.Data = page
		return s.formError(w, "enroll", "enroll", v, err)
	}
	setSessionCookie(w, in)
	v := newView(r, "recovery.title", "")
	v.Data = recoveryPage{Codes: in.RecoveryCodes, Next: localPath(next, "/")}
	return s.render(w, http.StatusOK, "recovery", v)
}

// enrollAgain returns the enrolment page after a wrong code: the same
// secret the person has scanned, as the form carried it, or a new
// enrolment if the form's is not one.
func (s *Server) enrollAgain(r *http.Request, c *catalog) (enrollPage, error) {
	secret, url := r.PostFormValue("secret"), r.PostFormValue("otpauth")
	if !totpSecretRE.MatchString(secret) || len(url) > 2048 || !otpauthRE.MatchString(url) || !strings.Contains(url, "secret="+secret) {
		var err error
		if secret, url, err = s.auth.EnrollTOTP(r.Context(), pendingSecret(r)); err != nil {
			return enrollPage{}, err
		}
	}
	return newEnrollPage(secret, url, c)
}

// newEnrollPage returns the enrolment page of a secret and its URL.
func newEnrollPage(secret, url string, c *catalog) (enrollPage, error) {
	svg, err := qrSVG(url, c.t("enroll.qr_label"))
	if err != nil {
		return enrollPage{}, err
	}
	return enrollPage{Secret: groupsOf4(secret), Raw: secret, OTPAuth: url, QR: svg}, nil
}

// groupsOf4 writes s in groups of four characters, as authenticator apps
// show secrets, for typing in by hand.
func groupsOf4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// qrSVG draws text as a QR code (error correction level M, with its quiet
// zone) in SVG: one path of dark modules, labelled for screen readers.
func qrSVG(text, label string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", tillit.Internal(fmt.Errorf("QR code: %w", err))
	}
	bits := q.Bitmap()
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" shape-rendering="crispEdges">`,
		n, n, n*5, n*5, html.EscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // numbers and an escaped label only
}
