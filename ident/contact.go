package ident

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"tillit"
)

// Limits of an e-mail address (RFC 5321 section 4.5.3.1, with the path's
// angle brackets taken off the 256 octets of a path).
const (
	maxEmail      = 254
	maxEmailLocal = 64
	maxLabel      = 63
)

// maxPhone bounds the input of Phone, separators included.
const maxPhone = 40

// Email validates an e-mail address, a bare addr-spec such as
// name@example.com, and returns it trimmed (the stored form) and its lookup
// key (the whole address lower-cased).
//
// Errors: EInvalid, naming field and the rule that failed.
func Email(field, s string) (stored, key string, err error) {
	s = strings.TrimSpace(s)
	if err := checkEmail(s); err != nil {
		return "", "", tillit.FieldErrorf(field, "%s: %v", field, err)
	}
	return s, strings.ToLower(s), nil
}

func checkEmail(s string) error {
	switch {
	case s == "":
		return errors.New("give an e-mail address, such as name@example.com")
	case len(s) > maxEmail:
		return errors.New("an e-mail address is at most 254 bytes")
	case !utf8.ValidString(s):
		return errors.New("an e-mail address must be valid UTF-8 text")
	case strings.ContainsAny(s, "<>"):
		return errors.New("give the address alone, such as name@example.com, without a name or angle brackets")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return errors.New("an e-mail address has no spaces")
	case !strings.Contains(s, "@"):
		return errors.New("an e-mail address has an @ between the name and the domain, such as name@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	if at > maxEmailLocal {
		return errors.New("the part before the @ is at most 64 bytes")
	}
	if err := checkDomain(s[at+1:]); err != nil {
		return err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return errors.New("not a plain e-mail address; write it such as name@example.com")
	}
	return nil
}

// checkDomain checks the domain of an e-mail address: at least two labels
// of letters, digits and hyphens, none starting or ending with a hyphen, and
// a top-level domain that is not all digits.
func checkDomain(domain string) error {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return errors.New("the domain of an e-mail address has a dot, such as example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.ContainsFunc(l, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			return errors.New("the domain must be names of letters, digits and hyphens between dots, such as mail.example.com")
		}
	}
	if !strings.ContainsFunc(labels[len(labels)-1], unicode.IsLetter) {
		return errors.New("the domain must end in a top-level domain such as .com or .no")
	}
	return nil
}

// Phone parses s as a phone number, using defaultCountry (ISO 3166 alpha-2,
// such as "NO") when it has no country code, and returns it in E.164 form,
// such as "+4791234567". s may have spaces, dashes, dots and parentheses,
// and + or 00 before the country code.
//
// Errors: EInvalid, naming field and the rule that failed.
func Phone(field, s, defaultCountry string) (string, error) {
	e164, err := phone(strings.TrimSpace(s), strings.ToUpper(strings.TrimSpace(defaultCountry)))
	if err != nil {
		return "", tillit.FieldErrorf(field, "%s: %v", field, err)
	}
	return e164, nil
}

func phone(s, region string) (string, error) {
	if s == "" {
		return "", errors.New("give a phone number")
	}
	if len(s) > maxPhone {
		return "", errors.New("a phone number is at most 40 characters")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case unicode.IsSpace(r) || strings.ContainsRune("-.()", r):
		default:
			return "", errors.New("a phone number has only digits, spaces, dashes, dots, parentheses and a leading +")
		}
	}
	n := b.String()
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	if n == "" || n == "+" {
		return "", errors.New("a phone number has digits")
	}
	if n[0] != '+' && phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return "", errors.New("give the country code, such as +47")
	}
	num, err := phonenumbers.Parse(n, region)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "", errors.New("the country code is not one in use")
	case errors.Is(err, phonenumbers.ErrTooShortNSN) || errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "", errors.New("the number is too short")
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "", errors.New("the number is too long")
	case err != nil:
		return "", errors.New("not a phone number; write it such as +47 912 34 567")
	}
	if !phonenumbers.IsValidNumber(num) {
		switch phonenumbers.IsPossibleNumberWithReason(num) {
		case phonenumbers.INVALID_COUNTRY_CODE:
			return "", errors.New("the country code is not one in use")
		case phonenumbers.TOO_SHORT:
			return "", errors.New("the number is too short for its country")
		case phonenumbers.TOO_LONG:
			return "", errors.New("the number is too long for its country")
		}
		return "", errors.New("the number does not exist in its country's numbering plan; check the digits and the country code")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
