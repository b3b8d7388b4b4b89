package password

import (
	"strings"
	"testing"
	"unicode/utf8"

	"tillit"
)

func TestCheck(t *testing.T) {
	names := []string{"Acme Rørlegger AS", "acme", "tillit", "ola.nordmann", "nav", "  ", ""}
	tests := []struct {
		name     string
		password string
		names    []string
		want     string // a part of the message; "" means accepted
	}{
		{"long phrase", "correct horse battery staple", names, ""},
		{"twelve ASCII", "kx7-tq2-mv9p", names, ""},
		{"eleven ASCII", "kx7-tq2-mv9", names, "at least 12"},
		{"empty", "", names, "at least 12"},
		{"twelve runes, 24 bytes", "æøåæøåæøåæøå", names, ""},
		{"eleven runes, 22 bytes", "æøåæøåæøåæø", names, "at least 12"},
		{"emoji count as one each", strings.Repeat("🔑", 11), nil, "at least 12"},
		{"128 runes", strings.Repeat("ø", 128), nil, ""},
		{"129 runes", strings.Repeat("ø", 129), nil, "at most 128"},
		{"129 ASCII", strings.Repeat("kx7-", 32) + "q", nil, "at most 128"},
		{"not UTF-8", "abc\xffdefghijkl", nil, "not valid text"},
		{"spaces count, untrimmed", " kx7-tq2-mv9", nil, ""},
		{"common", "qwertyqwerty", nil, "common passwords"},
		{"common, other case", "QwertyQwerty", nil, "common passwords"},
		{"common, upper case", "PASSWORDPASSWORD", nil, "common passwords"},
		{"common keyboard walk", "1qaz2wsx3edc", nil, "common passwords"},
		{"common phrase", "iloveyoubaby", nil, "common passwords"},
		{"common with a space added", "iloveyou baby", nil, ""},
		{"tenant name", "my Acme Rørlegger AS login", names, "“Acme Rørlegger AS”"},
		{"tenant name, other case", "ACME RØRLEGGER AS rocks", names, "“Acme Rørlegger AS”"},
		{"slug", "best-ACME-ever-2025", names, "“acme”"},
		{"product", "Tillit-er-bra-2025", names, "“tillit”"},
		{"e-mail local part", "ola.nordmann!!2025", names, "“ola.nordmann”"},
		{"short name is allowed", "navigator horse battery", names, ""},
		{"blank names are ignored", "some long passphrase", []string{"", "   "}, ""},
		{"name padded with spaces", "the ACME long phrase", []string{"  acme  "}, "“acme”"},
		{"four-rune name", "ærø island hopping", []string{"ærø!"}, ""},
		{"four-rune name contained", "ærø! island hopping", []string{"ÆRØ!"}, "“ÆRØ!”"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.password, tt.names...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) = nil, want an error saying %q", tt.password, tt.want)
			}
			msg := tillit.ErrorMessage(err)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not say %q", msg, tt.want)
			}
			if tt.password != "" && strings.Contains(strings.ToLower(msg), strings.ToLower(tt.password)) {
				t.Errorf("message %q echoes the password", msg)
			}
			if code, field := tillit.ErrorCode(err), tillit.ErrorField(err); code != tillit.EInvalid || field != "password" {
				t.Errorf("code, field = %q, %q; want %q, %q", code, field, tillit.EInvalid, "password")
			}
		})
	}
}

// TestCommonList checks the embedded list: big enough to matter, and every
// entry one that Check could otherwise accept.
func TestCommonList(t *testing.T) {
	list := commonList()
	if len(list) < 10000 {
		t.Fatalf("the list has %d entries, want at least 10,000", len(list))
	}
	for i, p := range list {
		if n := utf8.RuneCountInString(p); n < MinLength || n > MaxLength {
			t.Errorf("entry %q has %d characters, outside %d–%d", p, n, MinLength, MaxLength)
		}
		if p != strings.ToLower(p) {
			t.Errorf("entry %q is not lower case", p)
		}
		if i > 0 && list[i-1] >= p {
			t.Errorf("entries %q and %q are not sorted or repeat", list[i-1], p)
		}
	}
	for _, p := range []string{"123qweasdzxc", "qwertyuiop123", "passwordpassword", "abcdefghijkl"} {
		if !isCommon(p) {
			t.Errorf("%q is not on the list", p)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	commonList() // load the list outside the timing
	for b.Loop() {
		if err := Check("correct horse battery staple", "Acme AS", "acme", "tillit", "ola.nordmann"); err != nil {
			b.Fatal(err)
		}
	}
}
