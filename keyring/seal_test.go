package keyring

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// testRoot is the key 00 01 02 … 1f.
func testRoot() *[32]byte {
	var k [32]byte
	for i := range k {
		k[i] = byte(i)
	}
	return &k
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestDeriveKey checks DeriveKey against HKDF-SHA256 computed apart (with
// Python's hmac module: extract with a zero salt, expand with info
// "tillit/v1/" + purpose), so that a change of scheme, which would make
// every sealed value unreadable, cannot pass unnoticed.
func TestDeriveKey(t *testing.T) {
	tests := []struct{ purpose, want string }{
		{"account-email", "fb05278be3c5d966fd7610dba423610f2437c1180fdfd94132997203bf7ad9d0"},
		{"account-email-index", "41da58e3ce9982611fd4b2825063be3d00d616d075d8863fa91c4a1ebdceae17"},
		{"totp", "afe34195d9c64051827c635d678fd7bb7919ecab40bb22af8de90f727337e49e"},
	}
	root := testRoot()
	seen := map[[32]byte]string{*root: "the root key"}
	for _, tt := range tests {
		t.Run(tt.purpose, func(t *testing.T) {
			got := DeriveKey(root, tt.purpose)
			if hex.EncodeToString(got[:]) != tt.want {
				t.Errorf("DeriveKey = %x, want %s", got[:], tt.want)
			}
			if other, ok := seen[*got]; ok {
				t.Errorf("the key for %q equals %s", tt.purpose, other)
			}
			seen[*got] = tt.purpose
			if again := DeriveKey(root, tt.purpose); *again != *got {
				t.Error("DeriveKey is not deterministic")
			}
		})
	}
	other := testRoot()
	other[0] ^= 1
	if *DeriveKey(other, "totp") == *DeriveKey(root, "totp") {
		t.Error("two root keys derive the same key")
	}
	defer func() {
		if recover() == nil {
			t.Error("DeriveKey with an empty purpose did not panic")
		}
	}()
	DeriveKey(root, "")
}

// TestOpenReference opens a value sealed by another implementation (Node's
// crypto, AES-256-GCM, nonce 00…0b), proving the layout: version, nonce,
// ciphertext, tag.
func TestOpenReference(t *testing.T) {
	sealed := unhex(t, "01000102030405060708090a0b286eb75ba09da376fd2df2a5df86e663dee52f1dd71707d193bb408acfd9")
	got, err := Open(testRoot(), sealed, []byte("account:12:email"))
	if err != nil || string(got) != "ola@example.no" {
		t.Fatalf("Open = %q, %v; want %q", got, err, "ola@example.no")
	}
}

func TestSealOpen(t *testing.T) {
	key := DeriveKey(testRoot(), "account-email")
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"e-mail", []byte("ola@example.no"), []byte("account:12:email")},
		{"empty plaintext", []byte{}, []byte("account:12:email")},
		{"no aad", []byte("x"), nil},
		{"binary", []byte{0, 1, 2, 255}, []byte{0}},
		{"large", bytes.Repeat([]byte("å"), 1<<16), []byte("record:7:body")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Seal(key, tt.plaintext, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := Seal(key, tt.plaintext, tt.aad)
			if len(a) != len(tt.plaintext)+29 || a[0] != 1 {
				t.Errorf("sealed is %d bytes starting %d; want %d starting 1", len(a), a[0], len(tt.plaintext)+29)
			}
			if bytes.Equal(a, b) || bytes.Equal(a[1:13], b[1:13]) {
				t.Error("two seals of one value are equal or share a nonce")
			}
			if len(tt.plaintext) > 4 && bytes.Contains(a, tt.plaintext[:5]) {
				t.Error("the sealed value contains the plaintext")
			}
			got, err := Open(key, a, tt.aad)
			if err != nil || !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q, %v; want %q", got, err, tt.plaintext)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	key := DeriveKey(testRoot(), "account-email")
	aad := []byte("account:12:email")
	sealed, err := Seal(key, []byte("ola@example.no"), aad)
	if err != nil {
		t.Fatal(err)
	}
	withVersion := func(v byte) []byte { s := bytes.Clone(sealed); s[0] = v; return s }
	tests := []struct {
		name   string
		key    *[32]byte
		sealed []byte
		aad    []byte
		want   string
	}{
		{"wrong key", DeriveKey(testRoot(), "totp"), sealed, aad, "wrong key"},
		{"other place", key, sealed, []byte("account:13:email"), "wrong key"},
		{"other field", key, sealed, []byte("account:12:phone"), "wrong key"},
		{"no aad", key, sealed, nil, "wrong key"},
		{"version 0", key, withVersion(0), aad, "unknown version 0"},
		{"version 2", key, withVersion(2), aad, "unknown version 2"},
		{"empty", key, nil, aad, "too short"},
		{"version only", key, sealed[:1], aad, "too short"},
		{"no tag", key, sealed[:13], aad, "too short"},
		{"one byte short of empty plaintext", key, sealed[:28], aad, "too short"},
		{"cut plaintext", key, sealed[:len(sealed)-1], aad, "wrong key"},
		{"extra byte", key, append(bytes.Clone(sealed), 0), aad, "wrong key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.key, tt.sealed, tt.aad)
			if !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Errorf("Open = %q, %v; want nil and ErrOpen saying %q", got, err, tt.want)
			}
		})
	}
	// Any single changed bit anywhere refuses the value.
	for i := range sealed {
		for bit := range 8 {
			s := bytes.Clone(sealed)
			s[i] ^= 1 << bit
			if got, err := Open(key, s, aad); !errors.Is(err, ErrOpen) || got != nil {
				t.Fatalf("byte %d bit %d flipped: Open = %q, %v; want ErrOpen", i, bit, got, err)
			}
		}
	}
}

// TestBlindIndex checks against HMAC-SHA256 computed apart (Python's hmac)
// and that the index tells values apart exactly.
func TestBlindIndex(t *testing.T) {
	key := testRoot()
	if got := hex.EncodeToString(BlindIndex(key, "ola@example.no")); got != "703b322ffa72e73ba8fa7e0dbd457ce2" {
		t.Errorf("BlindIndex = %s, want 703b322ffa72e73ba8fa7e0dbd457ce2", got)
	}
	tests := []struct {
		a, b string
		same bool
	}{
		{"ola@example.no", "ola@example.no", true},
		{"ola@example.no", "Ola@example.no", false}, // normalising is the caller's
		{"ola@example.no", "ola@example.no ", false},
		{"", "", true},
		{"", "\x00", false},
	}
	for _, tt := range tests {
		a, b := BlindIndex(key, tt.a), BlindIndex(key, tt.b)
		if len(a) != BlindIndexSize || bytes.Equal(a, b) != tt.same {
			t.Errorf("BlindIndex(%q) = %x, BlindIndex(%q) = %x; want same = %v", tt.a, a, tt.b, b, tt.same)
		}
	}
	other := DeriveKey(key, "account-email-index")
	if bytes.Equal(BlindIndex(key, "x"), BlindIndex(other, "x")) {
		t.Error("two keys give the same index")
	}
}

func BenchmarkSeal(b *testing.B) {
	key, aad, value := DeriveKey(testRoot(), "account-email"), []byte("account:12:email"), []byte("ola.nordmann@example.no")
	for b.Loop() {
		if _, err := Seal(key, value, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	key, aad := DeriveKey(testRoot(), "account-email"), []byte("account:12:email")
	sealed, _ := Seal(key, []byte("ola.nordmann@example.no"), aad)
	for b.Loop() {
		if _, err := Open(key, sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	key := DeriveKey(testRoot(), "account-email-index")
	for b.Loop() {
		BlindIndex(key, "ola.nordmann@example.no")
	}
}
