package notify

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tillit"
)

// checkMail returns the parsed recipient of m, or an EInvalid error if m
// cannot be sent: a recipient or subject that would break out of its header
// (CR, LF or another control character), or a recipient that is not one
// address. The message never quotes the address: it is personal data.
func checkMail(m tillit.Mail) (*mail.Address, error) {
	if hasControl(m.To) {
		return nil, tillit.FieldErrorf("to", "the recipient must be one e-mail address on one line, without control characters")
	}
	if hasControl(m.Subject) {
		return nil, tillit.FieldErrorf("subject", "the subject must be one line, without control characters")
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Body) {
		return nil, tillit.Errorf(tillit.EInvalid, "the subject and body must be UTF-8 text")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, tillit.FieldErrorf("to", "the recipient is not an e-mail address; use e.g. name@example.com")
	}
	return to, nil
}

// hasControl reports whether s holds a control character other than tab:
// CR and LF above all, which would start a new header line.
func hasControl(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// messageID returns a new, unique Message-ID (without the angle brackets)
// in the domain of the sender.
func messageID(from *mail.Address) string {
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	if domain == "" || !isASCII(domain) {
		domain = "tillit.invalid"
	}
	return strings.ToLower(rand.Text()) + "@" + domain
}

// compose returns the RFC 5322 message of m: headers, then the body as
// UTF-8 text in quoted-printable, so the whole message is 7-bit ASCII with
// lines of at most 76 characters and passes every server unchanged.
func compose(now time.Time, id string, from, to *mail.Address, m tillit.Mail) []byte {
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+">")
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeHeaderText(m.Subject))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: a machine sent this; out-of-office replies stay away.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(m.Body)) // writes to a bytes.Buffer do not fail
	qp.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// maxWordText is the most encoded text in one encoded-word, so that the
// line "Subject: =?utf-8?q?…?=" stays within 76 characters (RFC 2047, 2).
const maxWordText = 76 - len("Subject: =?utf-8?q??=")

// encodeHeaderText returns s fit for an unstructured header such as
// Subject: unchanged if it is short printable ASCII, else as RFC 2047
// Q-encoded words of UTF-8, one to a line, that never split a character.
func encodeHeaderText(s string) string {
	if isASCII(s) && len(s) <= maxWordText && !strings.Contains(s, "=?") {
		return s
	}
	var words []string
	var word strings.Builder
	for _, r := range s {
		enc := qEncode(r)
		if word.Len()+len(enc) > maxWordText {
			words = append(words, word.String())
			word.Reset()
		}
		word.WriteString(enc)
	}
	words = append(words, word.String())
	for i, w := range words {
		words[i] = "=?utf-8?q?" + w + "?="
	}
	return strings.Join(words, "\r\n ")
}

// qEncode returns the UTF-8 bytes of r in the Q encoding of RFC 2047
// (4.2), keeping only the characters it allows in a phrase as they are.
func qEncode(r rune) string {
	switch {
	case r == ' ':
		return "_"
	case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!*+-/", r)):
		return string(r)
	}
	var b strings.Builder
	for _, c := range []byte(string(r)) {
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

// isASCII reports whether s is 7-bit ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
