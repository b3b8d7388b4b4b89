package receipt_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/auditlog"
	"tillit/receipt"
)

func newKey(t *testing.T) (*receipt.Signer, string, string) {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := receipt.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, skey, vkey
}

func signed(t *testing.T, s *receipt.Signer) *tillit.Receipt {
	t.Helper()
	r := &tillit.Receipt{Kind: tillit.ReceiptErasure, Tenant: "acme", PersonID: 123456789,
		At:     time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		Erased: tillit.ErasureCounts{Attributes: 7, Records: 3, Keys: 1, IndexEntries: 2}}
	if err := s.SignReceipt(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReceiptVerifies(t *testing.T) {
	s, _, vkey := newKey(t)
	r := signed(t, s)
	if !strings.HasPrefix(r.Note, receipt.Origin+"\n") || !strings.Contains(r.Note, "at 2026-11-22T09:00:00.123456Z\n") {
		t.Fatalf("note:\n%s", r.Note)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"json": js, "note": []byte(r.Note)} {
		got, err := receipt.Verify(data, vkey)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Kind != r.Kind || got.Tenant != "acme" || got.PersonID != r.PersonID || !got.At.Equal(r.At) || got.Erased != r.Erased {
			t.Errorf("%s: got %+v, want %+v", name, got, r)
		}
	}
}

func TestReceiptTampered(t *testing.T) {
	s, _, vkey := newKey(t)
	r := signed(t, s)
	// Every changed byte of the note fails (a byte of the text, of the
	// signature line, or of its base64).
	for i := range len(r.Note) {
		b := []byte(r.Note)
		b[i] ^= 0x01
		if _, err := receipt.Verify(b, vkey); err == nil {
			t.Fatalf("changed byte %d (%q) verifies", i, r.Note[i])
		}
	}
	// Every changed field of the JSON fails.
	for name, change := range map[string]func(r *tillit.Receipt){
		"kind":    func(r *tillit.Receipt) { r.Kind = tillit.ReceiptAnonymisation },
		"tenant":  func(r *tillit.Receipt) { r.Tenant = "other" },
		"person":  func(r *tillit.Receipt) { r.PersonID++ },
		"at":      func(r *tillit.Receipt) { r.At = r.At.Add(time.Microsecond) },
		"records": func(r *tillit.Receipt) { r.Erased.Records = 0 },
		"keys":    func(r *tillit.Receipt) { r.Erased.Keys = 0 },
		"attrs":   func(r *tillit.Receipt) { r.Erased.Attributes++ },
		"index":   func(r *tillit.Receipt) { r.Erased.IndexEntries++ },
	} {
		c := *r
		change(&c)
		js, _ := json.Marshal(&c)
		if _, err := receipt.Verify(js, vkey); !errors.Is(err, receipt.ErrInvalid) {
			t.Errorf("changed %s: %v, want ErrInvalid", name, err)
		}
	}
	// A JSON with an unknown field is refused too.
	js, _ := json.Marshal(r)
	js = append(js[:len(js)-1], []byte(`,"extra":1}`)...)
	if _, err := receipt.Verify(js, vkey); err == nil {
		t.Error("unknown JSON field verifies")
	}
}

func TestReceiptWrongKey(t *testing.T) {
	s, _, _ := newKey(t)
	_, _, other := newKey(t)
	r := signed(t, s)
	if _, err := receipt.Verify([]byte(r.Note), other); !errors.Is(err, receipt.ErrInvalid) {
		t.Fatalf("other key: %v", err)
	}
	if _, err := receipt.Verify([]byte(r.Note), "not a key"); err == nil {
		t.Fatal("malformed key accepted")
	}
}

func TestCheckpointIsNoReceipt(t *testing.T) {
	s, skey, vkey := newKey(t)
	cs, err := auditlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	var root [32]byte
	cp, err := cs.Sign(1, 10, root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = receipt.Verify([]byte(cp), vkey)
	if !errors.Is(err, receipt.ErrInvalid) || !strings.Contains(err.Error(), "not a receipt") {
		t.Fatalf("checkpoint as receipt: %v", err)
	}
	// And a receipt is no checkpoint.
	r := signed(t, s)
	if _, _, err := auditlog.OpenCheckpoint(r.Note, 1, vkey); err == nil {
		t.Fatal("a receipt opens as a checkpoint")
	}
}
