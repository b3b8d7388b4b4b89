package totp

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the SHA1 key of RFC 6238 appendix B, the ASCII string
// "12345678901234567890", in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// rfcVectors are the SHA1 rows of RFC 6238 appendix B: Unix time and the
// 8-digit code.
var rfcVectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestHOTPRFC4226(t *testing.T) {
	// RFC 4226 appendix D: the same key, counters 0 to 9, 6 digits.
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	key, err := decodeSecret(rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	for counter, w := range want {
		if got := hotp(key, uint64(counter), 6); got != w {
			t.Errorf("hotp(counter %d) = %s, want %s", counter, got, w)
		}
	}
}

func TestRFC6238(t *testing.T) {
	key, err := decodeSecret(rfcSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rfcVectors {
		at := time.Unix(v.unix, 0).UTC()
		t.Run(at.Format(time.RFC3339), func(t *testing.T) {
			if got := hotp(key, uint64(v.unix/30), 8); got != v.code {
				t.Errorf("8 digits = %s, want %s", got, v.code)
			}
			want6 := v.code[2:] // the same number mod 10^6
			got, err := Code(rfcSecret, at)
			if err != nil || got != want6 {
				t.Errorf("Code = %q, %v; want %s", got, err, want6)
			}
			if step, ok := Validate(rfcSecret, want6, at, 0); !ok || step != v.unix/30 {
				t.Errorf("Validate = %d, %v; want %d, true", step, ok, v.unix/30)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	now := time.Unix(1234567890, 0) // step 41152263, code 005924
	const step = 1234567890 / 30
	codeAt := func(d time.Duration) string {
		c, err := Code(rfcSecret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name     string
		secret   string
		code     string
		lastStep int64
		want     int64 // matched step; 0 means refused
	}{
		{"now", rfcSecret, "005924", 0, step},
		{"previous step", rfcSecret, codeAt(-30 * time.Second), 0, step - 1},
		{"next step", rfcSecret, codeAt(30 * time.Second), 0, step + 1},
		{"two steps back", rfcSecret, codeAt(-60 * time.Second), 0, 0},
		{"two steps ahead", rfcSecret, codeAt(60 * time.Second), 0, 0},
		{"replay of the same step", rfcSecret, "005924", step, 0},
		{"replay after a later step", rfcSecret, codeAt(-30 * time.Second), step, 0},
		{"after the previous step was used", rfcSecret, "005924", step - 1, step},
		{"next step after now was used", rfcSecret, codeAt(30 * time.Second), step, step + 1},
		{"wrong code", rfcSecret, "005925", 0, 0},
		{"one space in the middle", rfcSecret, "005 924", 0, step},
		{"pasted with space around", rfcSecret, " 005924\n", 0, step},
		{"space elsewhere", rfcSecret, "0059 24", 0, 0},
		{"two spaces", rfcSecret, "005  924", 0, 0},
		{"spaces between digits", rfcSecret, "0 0 5 9 2 4", 0, 0},
		{"five digits", rfcSecret, "05924", 0, 0},
		{"seven digits", rfcSecret, "0005924", 0, 0},
		{"eight-digit code", rfcSecret, "89005924", 0, 0},
		{"letters", rfcSecret, "00592a", 0, 0},
		{"sign", rfcSecret, "+05924", 0, 0},
		{"full-width digits", rfcSecret, "００５９２４", 0, 0},
		{"empty", rfcSecret, "", 0, 0},
		{"lower-case secret", strings.ToLower(rfcSecret), "005924", 0, step},
		{"padded secret with spaces", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ====", "005924", 0, step},
		{"malformed secret", "GEZDGNBVGY3TQOJ1", "005924", 0, 0},
		{"empty secret", "", "005924", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Validate(tt.secret, tt.code, now, tt.lastStep)
			if ok != (tt.want != 0) || got != tt.want {
				t.Errorf("Validate(%q) = %d, %v; want %d, %v", tt.code, got, ok, tt.want, tt.want != 0)
			}
		})
	}
}

// TestAcceptedOnce signs in with a code, stores the step, and tries the
// same code again during the whole window in which it would otherwise pass.
func TestAcceptedOnce(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 11, 22, 18, 0, 0, 0, time.UTC)
	code, _ := Code(secret, now)
	last, ok := Validate(secret, code, now, 0)
	if !ok {
		t.Fatal("a fresh code was refused")
	}
	for d := -30 * time.Second; d <= 30*time.Second; d += 5 * time.Second {
		if _, ok := Validate(secret, code, now.Add(d), last); ok {
			t.Errorf("the code was accepted again %v later", d)
		}
	}
	next, _ := Code(secret, now.Add(30*time.Second))
	if step, ok := Validate(secret, next, now.Add(30*time.Second), last); !ok || step != last+1 {
		t.Errorf("the next step's code: %d, %v; want %d, true", step, ok, last+1)
	}
}

func TestCodeErrors(t *testing.T) {
	if _, err := Code("not base32!", time.Unix(59, 0)); err == nil {
		t.Error("Code accepted a malformed secret")
	}
	if _, err := Code(rfcSecret, time.Unix(-1, 0)); err == nil {
		t.Error("Code accepted a time before 1970")
	}
	if _, ok := Validate(rfcSecret, "287082", time.Unix(-1, 0), -10); ok {
		t.Error("Validate accepted a time before 1970")
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(s) {
			t.Errorf("secret %q is not 32 upper-case base32 characters", s)
		}
		if key, err := decodeSecret(s); err != nil || len(key) != 20 {
			t.Errorf("secret %q decodes to %d bytes, %v; want 20", s, len(key), err)
		}
		if seen[s] {
			t.Errorf("secret %q came twice", s)
		}
		seen[s] = true
	}
}

func TestURL(t *testing.T) {
	got := URL("Tillit", "ola@example.no", rfcSecret)
	want := "otpauth://totp/Tillit:ola%40example.no?secret=" + rfcSecret + "&issuer=Tillit&algorithm=SHA1&digits=6&period=30"
	if got != want {
		t.Errorf("URL = %s\nwant %s", got, want)
	}
	tests := []struct{ issuer, account string }{
		{"Tillit", "ola@example.no"},
		{"Acme & Co: Norge", "kari+totp@example.no"},
		{"Blåbær AS", "per?x=1#frag/../a b"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			raw := URL(tt.issuer, tt.account, rfcSecret)
			if strings.Contains(raw, "+") || strings.Contains(raw, " ") {
				t.Errorf("URL %s has a + or a space: apps read them differently", raw)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/"+tt.issuer+":"+tt.account {
				t.Errorf("URL %s parses to scheme %q host %q path %q", raw, u.Scheme, u.Host, u.Path)
			}
			if len(q) != 5 || q.Get("secret") != rfcSecret || q.Get("issuer") != tt.issuer ||
				q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
				t.Errorf("URL %s has query %v", raw, q)
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	now := time.Unix(1234567890, 0)
	for b.Loop() {
		if _, ok := Validate(rfcSecret, "005924", now, 0); !ok {
			b.Fatal("refused")
		}
	}
}
