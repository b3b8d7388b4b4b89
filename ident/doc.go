// Package ident validates and normalises the identifiers of people kept in
// the register: the national identity numbers of Sweden, Norway, Denmark and
// Finland, e-mail addresses and phone numbers.
//
// Every function returns the stored (normalised) form of a valid value, and
// for an invalid one a *tillit.Error with code tillit.EInvalid whose message
// names the field and the rule that failed. Messages never repeat the value:
// it is personal data, and error messages reach logs.
package ident
