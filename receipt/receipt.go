// Package receipt signs and verifies the receipts of erasures and
// anonymisations: signed notes (golang.org/x/mod/sumdb/note) made with the
// platform key, the Ed25519 key that signs the audit checkpoints. A
// receipt's first line is Origin, which no audit checkpoint has (theirs is
// "tillit/audit/N"), so the one cannot pass for the other.
package receipt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"tillit"
)

// Origin is the first line of every receipt's note.
const Origin = "tillit/receipt/v1"

// timeFormat is RFC 3339 in UTC with microseconds, as the store keeps time.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// Signer signs receipts with the platform key.
type Signer struct{ signer note.Signer }

var _ tillit.ReceiptSigner = (*Signer)(nil)

// NewSigner parses a signer key in note format ("PRIVATE+KEY+…"): the
// contents of the data directory's audit.key.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("receipt: signer key: %w", err)
	}
	return &Signer{signer: s}, nil
}

// Text returns the text of r's note: Origin, then one field a line.
func Text(r *tillit.Receipt) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nkind %s\ntenant %s\nperson %d\nat %s\nattributes %d\nrecords %d\nkeys %d\nindex_entries %d\n",
		Origin, r.Kind, r.Tenant, r.PersonID, r.At.UTC().Format(timeFormat),
		r.Erased.Attributes, r.Erased.Records, r.Erased.Keys, r.Erased.IndexEntries)
	return b.String()
}

// SignReceipt implements tillit.ReceiptSigner: it sets r.Note.
func (s *Signer) SignReceipt(r *tillit.Receipt) error {
	if err := check(r); err != nil {
		return err
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	msg, err := note.Sign(&note.Note{Text: Text(r)}, s.signer)
	if err != nil {
		return fmt.Errorf("receipt: sign: %w", err)
	}
	r.Note = string(msg)
	return nil
}

// check refuses receipts whose fields would not survive the note's lines.
func check(r *tillit.Receipt) error {
	if r.Kind != tillit.ReceiptErasure && r.Kind != tillit.ReceiptAnonymisation {
		return fmt.Errorf("receipt: unknown kind %q", r.Kind)
	}
	if r.Tenant == "" || strings.ContainsAny(r.Tenant, " \n") {
		return errors.New("receipt: the tenant's slug is empty or holds a space")
	}
	return nil
}

// ErrInvalid is wrapped by every error of Verify.
var ErrInvalid = errors.New("the receipt is not valid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Verify checks a receipt against the verifier key ("tillit-audit+…", as
// GET /api/v1/audit/key serves it) and returns what it says. data is either
// the JSON receipt the API answers with, whose fields must then say what
// its note says, or the bare signed note.
func Verify(data []byte, verifierKey string) (*tillit.Receipt, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("the public key is not a note verifier key: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	var claimed *tillit.Receipt
	msg := data
	if bytes.HasPrefix(trimmed, []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		claimed = new(tillit.Receipt)
		if err := dec.Decode(claimed); err != nil {
			return nil, invalid("the JSON cannot be read as a receipt: %v", err)
		}
		if dec.More() {
			return nil, invalid("the JSON holds more than one receipt")
		}
		msg = []byte(claimed.Note)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnknownVerifierError
		if errors.As(err, &unknown) {
			return nil, invalid("it is not signed by this key (signed by %s)", unknown.Name)
		}
		return nil, invalid("the signature does not verify: %v", err)
	}
	// The note package decodes base64 leniently: the last character of a
	// signature may carry unused bits. A receipt has one spelling only.
	for _, sig := range n.Sigs {
		if _, err := base64.StdEncoding.Strict().DecodeString(sig.Base64); err != nil {
			return nil, invalid("the signature is not in canonical base64")
		}
	}
	r, err := parse(n.Text)
	if err != nil {
		return nil, err
	}
	r.Note = string(msg)
	if claimed != nil {
		if claimed.Kind != r.Kind || claimed.Tenant != r.Tenant || claimed.PersonID != r.PersonID ||
			!claimed.At.Equal(r.At) || claimed.Erased != r.Erased {
			return nil, invalid("the JSON fields do not say what the signed note says")
		}
	}
	return r, nil
}

// parse reads the text of a receipt's note.
func parse(text string) (*tillit.Receipt, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || lines[0] != Origin {
		return nil, invalid("the signed note is not a receipt (it does not begin with %s)", Origin)
	}
	names := []string{"kind", "tenant", "person", "at", "attributes", "records", "keys", "index_entries"}
	if len(lines) != len(names)+1 {
		return nil, invalid("the signed note has %d lines, a receipt %d", len(lines), len(names)+1)
	}
	vals := map[string]string{}
	for i, name := range names {
		k, v, ok := strings.Cut(lines[i+1], " ")
		if !ok || k != name || v == "" {
			return nil, invalid("line %d of the signed note is not %s", i+2, name)
		}
		vals[name] = v
	}
	r := &tillit.Receipt{Kind: vals["kind"], Tenant: vals["tenant"]}
	if r.Kind != tillit.ReceiptErasure && r.Kind != tillit.ReceiptAnonymisation {
		return nil, invalid("unknown kind %q", r.Kind)
	}
	var err error
	num := func(name string) int64 {
		n, e := strconv.ParseInt(vals[name], 10, 64)
		if e != nil || n < 0 {
			err = invalid("%s is not a number", name)
		}
		return n
	}
	r.PersonID = num("person")
	r.Erased = tillit.ErasureCounts{Attributes: int(num("attributes")), Records: int(num("records")),
		Keys: int(num("keys")), IndexEntries: int(num("index_entries"))}
	if err != nil {
		return nil, err
	}
	if r.At, err = time.Parse(timeFormat, vals["at"]); err != nil {
		return nil, invalid("the time is not RFC 3339")
	}
	return r, nil
}
