// Package totp makes and checks time-based one-time passwords (RFC 6238) as
// authenticator apps show them: HMAC-SHA1, 30-second steps, 6 digits.
//
// A code is accepted for the step of now and for one step either side, so a
// clock that is off by up to 30 seconds still works, and only for a step
// later than the last one accepted, so that each code signs in once.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The parameters of every code, fixed because authenticator apps support
// little else.
const (
	Period = 30 // seconds per step
	Digits = 6
	Drift  = 1 // steps accepted either side of now

	secretSize = 20 // bytes: the HMAC-SHA1 block the RFC recommends
)

// encoding is how secrets are written: upper-case base32 without padding.
var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random secret of 20 bytes as upper-case base32
// without padding (32 characters), for the account to keep (sealed) and the
// authenticator app to scan.
func NewSecret() (string, error) {
	b := make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp: %w", err)
	}
	return encoding.EncodeToString(b), nil
}

// URL returns the otpauth:// URL of a secret, for a QR code that an
// authenticator app scans: otpauth://totp/Issuer:account?secret=…&issuer=…
// &algorithm=SHA1&digits=6&period=30. Issuer and account are escaped, so a
// colon, a space or an ampersand in them cannot change the URL's meaning.
func URL(issuer, account, secret string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(escape(issuer))
	b.WriteString(":")
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(escape(secret))
	b.WriteString("&issuer=")
	b.WriteString(escape(issuer))
	fmt.Fprintf(&b, "&algorithm=SHA1&digits=%d&period=%d", Digits, Period)
	return b.String()
}

// escape percent-encodes s for both the label and the query of an otpauth
// URL: every byte but letters, digits and -._~ is escaped, and a space is
// %20, not "+", which some apps show literally.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Code returns the code of secret for the step that contains t.
func Code(secret string, t time.Time) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	step, err := stepOf(t)
	if err != nil {
		return "", err
	}
	return hotp(key, uint64(step), Digits), nil
}

// Validate reports whether code is the code of secret for the step of now or
// one step either side, and returns the step it matched, which the caller
// stores as the new lastStep. A code for a step at or before lastStep is
// refused, so each code is accepted once; pass 0 for an unused secret.
// Candidates are compared in constant time. code is 6 digits, optionally
// with one space in the middle ("123 456", as apps show it) and with space
// around it (as pasted); anything else, or a malformed secret, is refused.
func Validate(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code, valid := normalize(code)
	key, err := decodeSecret(secret)
	current, terr := stepOf(now)
	if !valid || err != nil || terr != nil {
		return 0, false
	}
	for s := current - Drift; s <= current+Drift; s++ {
		if s <= lastStep || s < 0 {
			continue
		}
		match := subtle.ConstantTimeCompare([]byte(hotp(key, uint64(s), Digits)), []byte(code)) == 1
		if match && !ok {
			step, ok = s, true // the earliest matching step, to burn as few codes as possible
		}
	}
	return step, ok
}

// normalize returns code as 6 digits, with surrounding space and one space
// after the third digit removed, and whether it is well formed.
func normalize(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if len(code) == Digits+1 && code[Digits/2] == ' ' {
		code = code[:Digits/2] + code[Digits/2+1:]
	}
	if len(code) != Digits {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

// decodeSecret decodes a base32 secret. It accepts lower case, spaces and
// padding, as people type secrets in by hand, and refuses an empty one.
func decodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	key, err := encoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) == 0 {
		return nil, errors.New("totp: the secret is not base32")
	}
	return key, nil
}

// stepOf returns the number of the 30-second step that contains t, counted
// from the Unix epoch. Times before the epoch have no step.
func stepOf(t time.Time) (int64, error) {
	if t.Unix() < 0 {
		return 0, errors.New("totp: time before 1970")
	}
	return t.Unix() / Period, nil
}

// hotp returns the HOTP value (RFC 4226) of key for counter, as digits
// decimal digits with leading zeros.
func hotp(key []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}
