package ident

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"tillit"
)

// maxNationalID bounds the input, separators and spaces included, so that a
// pasted document is refused before it is looked at.
const maxNationalID = 40

// NationalID validates s as a national identity number of country ("SE",
// "NO", "DK" or "FI") and returns its normalised form and the birth date it
// encodes as "YYYY-MM-DD". field is the field name for errors (usually
// "national_id"). now is used to resolve the century of 10-digit Swedish
// numbers and to refuse birth dates after tomorrow.
//
// The normalised forms are: SE 12 digits (YYYYMMDDNNNC), NO 11 digits, DK 10
// digits, FI 11 characters with the century sign, upper-case.
//
// Errors: EInvalid, naming field (or national_id_country for an unknown
// country) and the rule that failed.
func NationalID(field, country, s string, now time.Time) (normalized, birthDate string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", tillit.FieldErrorf(field, "%s: give the national identity number", field)
	}
	if len(s) > maxNationalID {
		return "", "", tillit.FieldErrorf(field, "%s: a national identity number is at most %d characters", field, maxNationalID)
	}
	var id nationalID
	switch country {
	case "SE":
		id, err = parseSE(s, now)
	case "NO":
		id, err = parseNO(s)
	case "DK":
		id, err = parseDK(s)
	case "FI":
		id, err = parseFI(s)
	default:
		return "", "", tillit.FieldErrorf(tillit.AttrNationalIDCountry,
			"%s: the country of a national identity number must be SE, NO, DK or FI", tillit.AttrNationalIDCountry)
	}
	if err == nil && id.after(now.AddDate(0, 0, 1)) {
		err = errors.New("the birth date it encodes is in the future; check the year and the century")
	}
	if err != nil {
		return "", "", tillit.FieldErrorf(field, "%s: %v", field, err)
	}
	return id.normalized, fmt.Sprintf("%04d-%02d-%02d", id.year, id.month, id.day), nil
}

// Candidate is one reading of a national identity number whose country is
// not known.
type Candidate struct{ Country, Normalized string }

// NationalIDCandidates returns every valid reading of s among the four
// countries, in the order SE, NO, DK, FI (a lookup that does not say the
// country tries them all). It is empty when none is valid.
func NationalIDCandidates(s string, now time.Time) []Candidate {
	var cs []Candidate
	for _, country := range tillit.NationalIDCountries {
		if n, _, err := NationalID(tillit.AttrNationalID, country, s, now); err == nil {
			cs = append(cs, Candidate{Country: country, Normalized: n})
		}
	}
	return cs
}

// nationalID is a parsed national identity number: its normalised form and
// the real birth date it encodes.
type nationalID struct {
	normalized       string
	year, month, day int
}

// after reports whether the birth date is after t's calendar day.
func (id nationalID) after(t time.Time) bool {
	y, m, d := t.Date()
	return id.year*10000+id.month*100+id.day > y*10000+int(m)*100+d
}

// parseSE parses a Swedish personnummer or samordningsnummer: YYMMDD-NNNC
// (+ instead of - from the year the person turns 100) or YYYYMMDDNNNC.
func parseSE(s string, now time.Time) (nationalID, error) {
	b, plus, err := seDigits(s)
	if err != nil {
		return nationalID{}, err
	}
	ten := b[len(b)-10:]
	yy, month, day := num(ten[0:2]), num(ten[2:4]), num(ten[4:6])
	if day > 60 { // samordningsnummer
		day -= 60
	}
	if month < 1 || month > 12 {
		return nationalID{}, fmt.Errorf("month %d is not a month", month)
	}
	if day < 1 || day > 31 {
		return nationalID{}, errors.New("the day must be 01–31, or 61–91 for a samordningsnummer")
	}
	var year int
	if len(b) == 12 {
		year = num(b[0:4])
		if year < 1800 {
			return nationalID{}, errors.New("the century of a Swedish personnummer is 18, 19 or 20")
		}
	} else {
		year = seYear(yy, month, day, plus, now)
	}
	if err := checkDate(year, month, day); err != nil {
		return nationalID{}, err
	}
	if num(ten[6:9]) == 0 {
		return nationalID{}, errors.New("the birth number 000 is never issued")
	}
	if !luhn(ten) {
		return nationalID{}, errors.New("the control digit does not match (Luhn); check for a typo")
	}
	norm := fmt.Sprintf("%02d", year/100) + string(ten)
	return nationalID{normalized: norm, year: year, month: month, day: day}, nil
}

// seDigits returns the digits of a Swedish number and whether its separator
// is +, checking that it has 10 or 12 digits and at most one +.
func seDigits(s string) (b []byte, plus bool, err error) {
	var dashes, pluses int
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r == '-':
			dashes++
		case r == '+':
			pluses++
		case unicode.IsSpace(r):
		default:
			return nil, false, errors.New("a Swedish personnummer has only digits, with - or + before the last four")
		}
	}
	switch {
	case pluses > 1 || pluses == 1 && dashes > 0:
		return nil, false, errors.New("a Swedish personnummer has one separator, - or + (aged 100 or more), not both")
	case len(b) == 12 && pluses == 1:
		return nil, false, errors.New("the + separator (aged 100 or more) belongs to the 10-digit form; the 12-digit form shows the century")
	case len(b) != 10 && len(b) != 12:
		return nil, false, fmt.Errorf("a Swedish personnummer has 10 or 12 digits, got %d", len(b))
	}
	return b, pluses == 1, nil
}

// seYear resolves the century of a 10-digit Swedish number. With - it is
// the latest year ending in yy whose date is not after now. With + (which
// Skatteverket writes from the year a person turns 100) it is the latest
// year ending in yy that is at least 100 years before now's.
func seYear(yy, month, day int, plus bool, now time.Time) int {
	if plus {
		last := now.Year() - 100
		return last - mod(last-yy, 100)
	}
	y := now.Year() - mod(now.Year()-yy, 100)
	if (nationalID{year: y, month: month, day: day}).after(now) {
		y -= 100
	}
	return y
}

// luhn reports whether the digits end in their Luhn control digit.
func luhn(b []byte) bool {
	sum := 0
	for i := range b {
		d := int(b[len(b)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// parseNO parses a Norwegian fødselsnummer DDMMYYIIIKK, D-nummer (day + 40),
// H-nummer or NAV synthetic number (month + 40) or Skatteetaten synthetic
// number (month + 80).
func parseNO(s string) (nationalID, error) {
	b, ok := digits(s, "")
	if !ok {
		return nationalID{}, errors.New("a Norwegian fødselsnummer has only digits")
	}
	if len(b) != 11 {
		return nationalID{}, fmt.Errorf("a Norwegian fødselsnummer has 11 digits, got %d", len(b))
	}
	day, month, yy, individual := num(b[0:2]), num(b[2:4]), num(b[4:6]), num(b[6:9])
	if day >= 41 && day <= 71 { // D-nummer
		day -= 40
	}
	switch {
	case month >= 81 && month <= 92: // Skatteetaten's synthetic numbers
		month -= 80
	case month >= 41 && month <= 52: // H-nummer, NAV's synthetic numbers
		month -= 40
	}
	if month < 1 || month > 12 {
		return nationalID{}, errors.New("the month must be 01–12, or 41–52 (H-nummer) or 81–92 (synthetic number)")
	}
	if day < 1 || day > 31 {
		return nationalID{}, errors.New("the day must be 01–31, or 41–71 for a D-nummer")
	}
	year, ok := noYear(yy, individual)
	if !ok {
		return nationalID{}, errors.New("the individual number (digits 7–9) is not issued for the birth year; check for a typo")
	}
	if err := checkDate(year, month, day); err != nil {
		return nationalID{}, err
	}
	k1 := mod11(b[:9], []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	k2 := mod11(b[:10], []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	if k1 != int(b[9]-'0') || k2 != int(b[10]-'0') {
		return nationalID{}, errors.New("the control digits do not match (modulus 11); check for a typo")
	}
	return nationalID{normalized: string(b), year: year, month: month, day: day}, nil
}

// noYear returns the birth year of a Norwegian number from the two digits
// of the year and the individual number, and false for a combination that
// is never issued.
func noYear(yy, individual int) (int, bool) {
	switch {
	case individual <= 499:
		return 1900 + yy, true
	case individual <= 749 && yy >= 54:
		return 1800 + yy, true
	case yy <= 39: // individual 500–999
		return 2000 + yy, true
	case individual >= 900: // yy 40–99
		return 1900 + yy, true
	}
	return 0, false
}

// mod11 returns the modulus 11 control digit of b under weights, or -1
// when the remainder leaves none (the number cannot be valid).
func mod11(b []byte, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += w * int(b[i]-'0')
	}
	switch r := sum % 11; r {
	case 0:
		return 0
	case 1:
		return -1
	default:
		return 11 - r
	}
}

// parseDK parses a Danish CPR number DDMMYY-SSSS. It has had no control
// digit since 2007; the century comes from the first digit of SSSS.
func parseDK(s string) (nationalID, error) {
	b, ok := digits(s, "-")
	if !ok {
		return nationalID{}, errors.New("a Danish CPR number has only digits, with - before the last four")
	}
	if len(b) != 10 {
		return nationalID{}, fmt.Errorf("a Danish CPR number has 10 digits, got %d", len(b))
	}
	day, month, yy := num(b[0:2]), num(b[2:4]), num(b[4:6])
	if month < 1 || month > 12 {
		return nationalID{}, fmt.Errorf("month %d is not a month", month)
	}
	if day < 1 || day > 31 {
		return nationalID{}, fmt.Errorf("day %d is not a day of a month", day)
	}
	year := dkYear(yy, int(b[6]-'0'))
	if err := checkDate(year, month, day); err != nil {
		return nationalID{}, err
	}
	return nationalID{normalized: string(b), year: year, month: month, day: day}, nil
}

// dkYear returns the birth year of a Danish number from the two digits of
// the year and the first digit of the serial number.
func dkYear(yy, first int) int {
	switch {
	case first <= 3:
		return 1900 + yy
	case first == 4 || first == 9:
		if yy <= 36 {
			return 2000 + yy
		}
		return 1900 + yy
	default: // 5–8
		if yy <= 57 {
			return 2000 + yy
		}
		return 1800 + yy
	}
}

// fiCentury maps the century sign of a Finnish number to its century; the
// letters other than A are those added in 2023.
var fiCentury = map[byte]int{
	'+': 1800,
	'-': 1900, 'Y': 1900, 'X': 1900, 'W': 1900, 'V': 1900, 'U': 1900,
	'A': 2000, 'B': 2000, 'C': 2000, 'D': 2000, 'E': 2000, 'F': 2000,
}

// fiControl is indexed by DDMMYYZZZ modulo 31.
const fiControl = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// parseFI parses a Finnish henkilötunnus DDMMYYCZZZQ.
func parseFI(s string) (nationalID, error) {
	var b []byte
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		n++
		if r < 0x80 {
			b = append(b, byte(unicode.ToUpper(r)))
		}
	}
	if n != 11 {
		return nationalID{}, fmt.Errorf("a Finnish henkilötunnus has 11 characters, got %d", n)
	}
	if len(b) != 11 || !allDigits(b[0:6]) || !allDigits(b[7:10]) {
		return nationalID{}, errors.New("a Finnish henkilötunnus is six digits, a century sign, three digits and a control character")
	}
	century, ok := fiCentury[b[6]]
	if !ok {
		return nationalID{}, errors.New("the century sign must be + (1800s), - or U–Y (1900s), or A–F (2000s)")
	}
	day, month, year := num(b[0:2]), num(b[2:4]), century+num(b[4:6])
	if month < 1 || month > 12 {
		return nationalID{}, fmt.Errorf("month %d is not a month", month)
	}
	if day < 1 || day > 31 {
		return nationalID{}, fmt.Errorf("day %d is not a day of a month", day)
	}
	if err := checkDate(year, month, day); err != nil {
		return nationalID{}, err
	}
	individual := num(b[7:10])
	if individual < 2 {
		return nationalID{}, errors.New("the individual number must be 002–999")
	}
	if b[10] != fiControl[(num(b[0:6])*1000+individual)%31] {
		return nationalID{}, errors.New("the control character does not match (modulo 31); check for a typo")
	}
	return nationalID{normalized: string(b), year: year, month: month, day: day}, nil
}

// checkDate reports a day that the month does not have in year; month and
// day are in range already.
func checkDate(year, month, day int) error {
	if day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return nil
	}
	if month == 2 && day == 29 {
		return errors.New("29 February does not exist in the year it encodes (not a leap year); check the year and the century")
	}
	return fmt.Errorf("month %d has no day %d", month, day)
}

// digits returns the ASCII digits of s, skipping spaces and the separators
// in seps, and false if s holds anything else.
func digits(s, seps string) ([]byte, bool) {
	var b []byte
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b = append(b, byte(r))
		case unicode.IsSpace(r) || strings.ContainsRune(seps, r):
		default:
			return nil, false
		}
	}
	return b, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// num returns the value of a run of ASCII digits.
func num(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// mod returns a modulo m in [0, m).
func mod(a, m int) int { return (a%m + m) % m }
