package ident_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/ident"
)

// now is the clock of the tests: 1 March 2026, noon UTC.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The test numbers were computed with an implementation of the control
// digits independent of the package's, and checked against public examples:
// SE 19121212-1212 (Tolvan Tolvansson), 811218-9876, 880320-0016 and the
// samordningsnummer 701063-2391 (Skatteverket's example); NO 55507608360 and
// 69422056629 (NAV Dolly synthetic numbers); FI 131052-308T, 010594Y9032 and
// 020516C903K.

type validCase struct {
	in, normalized, birth string
}

type invalidCase struct {
	in, rule string // rule: a part of the message that names the rule
}

var validIDs = map[string][]validCase{
	"SE": {
		{"19121212-1212", "191212121212", "1912-12-12"},
		{"191212121212", "191212121212", "1912-12-12"},
		{" 1912 1212 1212 ", "191212121212", "1912-12-12"},
		{"121212+1212", "191212121212", "1912-12-12"}, // + : aged 100 or more
		{"121212-1212", "201212121212", "2012-12-12"}, // - : the latest past date
		{"1212121212", "201212121212", "2012-12-12"},  // no separator reads as -
		{"811218-9876", "198112189876", "1981-12-18"},
		{"8112189876", "198112189876", "1981-12-18"},
		{"19811218-9876", "198112189876", "1981-12-18"},
		{"880320-0016", "198803200016", "1988-03-20"},
		{"701063-2391", "197010632391", "1970-10-03"},   // samordningsnummer: day + 60
		{"19701063 2391", "197010632391", "1970-10-03"}, // samordningsnummer, 12 digits
		{"800229-1238", "198002291238", "1980-02-29"},   // leap year
		{"000229-1235", "200002291235", "2000-02-29"},   // 2000 is a leap year
		{"260301-1236", "202603011236", "2026-03-01"},   // born today
		{"260302-1235", "192603021235", "1926-03-02"},   // tomorrow would be in the future: 99 years old
		{"260302+1235", "192603021235", "1926-03-02"},   // + from the year one turns 100
	},
	"NO": {
		{"01010710029", "01010710029", "1907-01-01"}, // individual 000–499: 1900s
		{"010107 10029", "01010710029", "1907-01-01"},
		{" 010107 100 29 ", "01010710029", "1907-01-01"},
		{"01016060085", "01016060085", "1860-01-01"}, // 500–749, year 54–99: 1800s
		{"01015450068", "01015450068", "1854-01-01"},
		{"01011050081", "01011050081", "2010-01-01"}, // 500–999, year 00–39: 2000s
		{"01011095190", "01011095190", "2010-01-01"},
		{"01016090073", "01016090073", "1960-01-01"}, // 900–999, year 40–99: 1900s
		{"29020050088", "29020050088", "2000-02-29"},
		{"45058510002", "45058510002", "1985-05-05"}, // D-nummer: day + 40
		{"15458510072", "15458510072", "1985-05-15"}, // H-nummer: month + 40
		{"15858510055", "15858510055", "1985-05-15"}, // Skatteetaten synthetic: month + 80
		{"55858510049", "55858510049", "1985-05-15"}, // synthetic D-nummer
		{"15507600333", "15507600333", "1976-10-15"}, // NAV Dolly: month + 40
		{"55507608360", "55507608360", "1976-10-15"}, // NAV Dolly D-nummer
		{"69422056629", "69422056629", "2020-02-29"},
	},
	"DK": {
		{"0101701234", "0101701234", "1970-01-01"},
		{"010170-1234", "0101701234", "1970-01-01"},
		{" 010170 1234 ", "0101701234", "1970-01-01"},
		{"0101703999", "0101703999", "1970-01-01"}, // 0–3: 1900s
		{"0101104000", "0101104000", "2010-01-01"}, // 4, year 00–36: 2000s
		{"0101374000", "0101374000", "1937-01-01"}, // 4, year 37–99: 1900s
		{"0101209000", "0101209000", "2020-01-01"}, // 9, year 00–36: 2000s
		{"0101809999", "0101809999", "1980-01-01"}, // 9, year 37–99: 1900s
		{"0101055000", "0101055000", "2005-01-01"}, // 5–8, year 00–57: 2000s
		{"0101258999", "0101258999", "2025-01-01"},
		{"0101585000", "0101585000", "1858-01-01"}, // 5–8, year 58–99: 1800s
		{"2110625629", "2110625629", "1862-10-21"},
		{"2902004000", "2902004000", "2000-02-29"},
		{"311299-0000", "3112990000", "1999-12-31"}, // no modulus 11 check
	},
	"FI": {
		{"131052-308T", "131052-308T", "1952-10-13"},
		{"131052-308t", "131052-308T", "1952-10-13"},
		{" 131052-308T ", "131052-308T", "1952-10-13"},
		{"131052 -308T", "131052-308T", "1952-10-13"},
		{"010203+1230", "010203+1230", "1803-02-01"},
		{"010203-1230", "010203-1230", "1903-02-01"},
		{"010203Y1230", "010203Y1230", "1903-02-01"}, // the 2023 signs
		{"010203X1230", "010203X1230", "1903-02-01"},
		{"010203W1230", "010203W1230", "1903-02-01"},
		{"010203V1230", "010203V1230", "1903-02-01"},
		{"010203u1230", "010203U1230", "1903-02-01"},
		{"010203A1230", "010203A1230", "2003-02-01"},
		{"010203B1230", "010203B1230", "2003-02-01"},
		{"010203C1230", "010203C1230", "2003-02-01"},
		{"010203D1230", "010203D1230", "2003-02-01"},
		{"010203E1230", "010203E1230", "2003-02-01"},
		{"010203f1230", "010203F1230", "2003-02-01"},
		{"010594Y9032", "010594Y9032", "1994-05-01"}, // temporary number 900–999
		{"020516C903K", "020516C903K", "2016-05-02"},
		{"010101-950B", "010101-950B", "1901-01-01"},
		{"311299-0029", "311299-0029", "1999-12-31"},
		{"290200A1239", "290200A1239", "2000-02-29"},
		{"020326A123C", "020326A123C", "2026-03-02"}, // tomorrow: time zones
	},
}

var invalidIDs = map[string][]invalidCase{
	"SE": {
		{"811218-9877", "control digit does not match (Luhn)"},
		{"19811218-9877", "control digit does not match (Luhn)"},
		{"811318-9875", "month 13 is not a month"},
		{"811200-9876", "the day must be 01–31, or 61–91"},
		{"811292-9876", "the day must be 01–31, or 61–91"},
		{"130229-1230", "29 February does not exist"},
		{"81121-9876", "has 10 or 12 digits, got 9"},
		{"1981121898761", "has 10 or 12 digits, got 13"},
		{"81121X-9876", "only digits"},
		{"811218–9876", "only digits"}, // an en dash
		{"121212+-1212", "one separator"},
		{"19121212+1212", "belongs to the 10-digit form"},
		{"17121212-1212", "century of a Swedish personnummer is 18, 19 or 20"},
		{"20991212-1218", "in the future"},
		{"900101-0009", "birth number 000"},
	},
	"NO": {
		{"01010710028", "control digits do not match (modulus 11)"},
		{"01010710019", "control digits do not match (modulus 11)"},
		{"01016080000", "individual number (digits 7–9) is not issued for the birth year"}, // 750–899 in 1940–1999
		{"01014560013", "individual number (digits 7–9) is not issued for the birth year"}, // 500–749 in 1940–1953
		{"29020010027", "29 February does not exist"},
		{"01138510030", "the month must be 01–12"},
		{"32018510064", "the day must be 01–31, or 41–71"},
		{"0101071002", "has 11 digits, got 10"},
		{"010107100299", "has 11 digits, got 12"},
		{"0101071002A", "only digits"},
		{"010107-10029", "only digits"},
		{"01013950187", "in the future"},
	},
	"DK": {
		{"3201701234", "day 32 is not a day"},
		{"0113701234", "month 13 is not a month"},
		{"3102701234", "month 2 has no day 31"},
		{"3104701234", "month 4 has no day 31"},
		{"2902000000", "29 February does not exist"},
		{"010170123", "has 10 digits, got 9"},
		{"010170-123X", "only digits"},
		{"010170+1234", "only digits"},
		{"0101364000", "in the future"}, // 2036
		{"0101575000", "in the future"}, // 2057
	},
	"FI": {
		{"131052-308U", "control character does not match (modulo 31)"},
		{"131052-309T", "control character does not match (modulo 31)"},
		{"131052G308T", "century sign must be"},
		{"131052/308T", "century sign must be"},
		{"131352-3087", "month 13 is not a month"},
		{"290200-1239", "29 February does not exist"},
		{"131052-308", "has 11 characters, got 10"},
		{"131052-308TT", "has 11 characters, got 12"},
		{"1310X2-308T", "six digits, a century sign"},
		{"131052-3ä8T", "six digits, a century sign"},
		{"010101-001R", "individual number must be 002–999"},
		{"030326A1231", "in the future"},
		{"010130A1235", "in the future"},
	},
}

func TestNationalIDValid(t *testing.T) {
	for country, cases := range validIDs {
		for _, tc := range cases {
			t.Run(country+"/"+tc.in, func(t *testing.T) {
				n, birth, err := ident.NationalID("national_id", country, tc.in, now)
				if err != nil {
					t.Fatalf("NationalID: %v", err)
				}
				if n != tc.normalized || birth != tc.birth {
					t.Errorf("got %q, %q; want %q, %q", n, birth, tc.normalized, tc.birth)
				}
				n2, birth2, err := ident.NationalID("national_id", country, n, now)
				if err != nil || n2 != n || birth2 != birth {
					t.Errorf("normalised form again: got %q, %q, %v", n2, birth2, err)
				}
			})
		}
	}
}

func TestNationalIDInvalid(t *testing.T) {
	for country, cases := range invalidIDs {
		for _, tc := range cases {
			t.Run(country+"/"+tc.in, func(t *testing.T) {
				n, birth, err := ident.NationalID("national_id", country, tc.in, now)
				if err == nil {
					t.Fatalf("got %q, %q; want an error", n, birth)
				}
				checkInvalid(t, err, "national_id", tc.in)
				if !strings.Contains(tillit.ErrorMessage(err), tc.rule) {
					t.Errorf("message %q does not say %q", tillit.ErrorMessage(err), tc.rule)
				}
			})
		}
	}
}

// checkInvalid checks that err is EInvalid, names field and does not repeat
// the input, which is personal data.
func checkInvalid(tb testing.TB, err error, field, input string) {
	tb.Helper()
	var e *tillit.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v is a %T, not a *tillit.Error", err, err)
	}
	if e.Code != tillit.EInvalid || e.Field != field {
		tb.Errorf("code %q field %q; want %q %q", e.Code, e.Field, tillit.EInvalid, field)
	}
	if !strings.HasPrefix(e.Message, field+": ") {
		tb.Errorf("message %q does not start with the field", e.Message)
	}
	if in := strings.TrimSpace(input); in != "" && strings.Contains(err.Error(), in) {
		tb.Errorf("error %q repeats the input", err)
	}
}

func TestNationalIDOther(t *testing.T) {
	tests := []struct {
		name, country, in, field, rule string
	}{
		{"empty", "SE", "  ", "national_id", "give the national identity number"},
		{"too long", "NO", strings.Repeat("1", 41), "national_id", "at most 40 characters"},
		{"unknown country", "DE", "811218-9876", tillit.AttrNationalIDCountry, "must be SE, NO, DK or FI"},
		{"no country", "", "811218-9876", tillit.AttrNationalIDCountry, "must be SE, NO, DK or FI"},
		{"lower-case country", "se", "811218-9876", tillit.AttrNationalIDCountry, "must be SE, NO, DK or FI"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ident.NationalID("national_id", tc.country, tc.in, now)
			if err == nil {
				t.Fatal("no error")
			}
			checkInvalid(t, err, tc.field, tc.in)
			if !strings.Contains(tillit.ErrorMessage(err), tc.rule) {
				t.Errorf("message %q does not say %q", tillit.ErrorMessage(err), tc.rule)
			}
		})
	}
}

// TestNationalIDCentury checks the century of 10-digit Swedish numbers
// against the clock.
func TestNationalIDCentury(t *testing.T) {
	tests := []struct {
		now        time.Time
		in, birth  string
		wantErrMsg string
	}{
		{time.Date(2012, 12, 11, 0, 0, 0, 0, time.UTC), "121212-1212", "1912-12-12", ""},
		{time.Date(2012, 12, 12, 0, 0, 0, 0, time.UTC), "121212-1212", "2012-12-12", ""},
		{time.Date(2012, 12, 12, 0, 0, 0, 0, time.UTC), "121212+1212", "1912-12-12", ""},
		{time.Date(2011, 12, 12, 0, 0, 0, 0, time.UTC), "121212+1212", "1812-12-12", ""},
		{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), "000229-1235", "2000-02-29", ""},
		{time.Date(2000, 2, 28, 0, 0, 0, 0, time.UTC), "000229-1235", "", "29 February does not exist"}, // 1900
	}
	for _, tc := range tests {
		t.Run(tc.now.Format(time.DateOnly)+"/"+tc.in, func(t *testing.T) {
			_, birth, err := ident.NationalID("national_id", "SE", tc.in, tc.now)
			if tc.wantErrMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrMsg) {
					t.Fatalf("got %v; want %q", err, tc.wantErrMsg)
				}
				return
			}
			if err != nil || birth != tc.birth {
				t.Errorf("got %q, %v; want %q", birth, err, tc.birth)
			}
		})
	}
}

func TestNationalIDCandidates(t *testing.T) {
	tests := []struct {
		in   string
		want []ident.Candidate
	}{
		{"121212-1212", []ident.Candidate{{"SE", "201212121212"}, {"DK", "1212121212"}}},
		{"121212+1212", []ident.Candidate{{"SE", "191212121212"}}},
		{"811218-9876", []ident.Candidate{{"SE", "198112189876"}}},
		{"19811218-9876", []ident.Candidate{{"SE", "198112189876"}}},
		{"01010710029", []ident.Candidate{{"NO", "01010710029"}}},
		{"010170-1234", []ident.Candidate{{"DK", "0101701234"}}},
		{"131052-308t", []ident.Candidate{{"FI", "131052-308T"}}},
		{"nobody", nil},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := ident.NationalIDCandidates(tc.in, now); !slices.Equal(got, tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}

func FuzzNationalID(f *testing.F) {
	for _, cases := range validIDs {
		for _, tc := range cases {
			f.Add(tc.in)
		}
	}
	for _, cases := range invalidIDs {
		for _, tc := range cases {
			f.Add(tc.in)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		digits := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		for _, country := range tillit.NationalIDCountries {
			n, birth, err := ident.NationalID("national_id", country, s, now)
			if err != nil {
				if digits >= 6 { // shorter inputs may be in a message by chance: "10 or 12"
					checkInvalid(t, err, "national_id", s)
				}
				continue
			}
			n2, birth2, err := ident.NationalID("national_id", country, n, now)
			if err != nil || n2 != n || birth2 != birth {
				t.Errorf("%s: %q gives %q, %q; that gives %q, %q, %v", country, s, n, birth, n2, birth2, err)
			}
		}
	})
}
