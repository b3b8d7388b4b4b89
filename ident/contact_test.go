package ident_test

import (
	"strings"
	"testing"

	"tillit"
	"tillit/ident"
)

func TestEmail(t *testing.T) {
	tests := []struct {
		in, stored, key string
	}{
		{"a@b.no", "a@b.no", "a@b.no"},
		{"a@b.no\r\n", "a@b.no", "a@b.no"},
		{"  Ola.Nordmann@Example.NO\t", "Ola.Nordmann@Example.NO", "ola.nordmann@example.no"},
		{"kari+register@mail.example.com", "kari+register@mail.example.com", "kari+register@mail.example.com"},
		{"o'neil_x-1@b-c.d.se", "o'neil_x-1@b-c.d.se", "o'neil_x-1@b-c.d.se"},
		{"Ærlig@Blåbær.no", "Ærlig@Blåbær.no", "ærlig@blåbær.no"},
		{"x@a.xn--p1ai", "x@a.xn--p1ai", "x@a.xn--p1ai"},
		{strings.Repeat("a", 64) + "@b.no", strings.Repeat("a", 64) + "@b.no", strings.Repeat("a", 64) + "@b.no"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			stored, key, err := ident.Email("email", tc.in)
			if err != nil {
				t.Fatalf("Email: %v", err)
			}
			if stored != tc.stored || key != tc.key {
				t.Errorf("got %q, %q; want %q, %q", stored, key, tc.stored, tc.key)
			}
		})
	}
}

func TestEmailInvalid(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		in, rule string
	}{
		{"", "give an e-mail address"},
		{"   ", "give an e-mail address"},
		{"ola.nordmann", "has an @"},
		{"A <a@b.no>", "without a name or angle brackets"},
		{"<a@b.no>", "without a name or angle brackets"},
		{"a b@c.no", "no spaces"},
		{"a@b.no (Ola)", "no spaces"},
		{`"a b"@c.no`, "no spaces"},
		{`"a"@c.no`, "not a plain e-mail address"},
		{"a@@b.no", "not a plain e-mail address"},
		{".a@b.no", "not a plain e-mail address"},
		{"a..b@c.no", "not a plain e-mail address"},
		{"a@b", "has a dot"},
		{"a@b.", "letters, digits and hyphens between dots"},
		{"a@.no", "letters, digits and hyphens between dots"},
		{"a@-b.no", "letters, digits and hyphens between dots"},
		{"a@b-.no", "letters, digits and hyphens between dots"},
		{"a@b_c.no", "letters, digits and hyphens between dots"},
		{"a@[192.0.2.1]", "letters, digits and hyphens between dots"},
		{"a@" + long + "a.no", "letters, digits and hyphens between dots"},
		{"a@b.123", "top-level domain"},
		{strings.Repeat("a", 65) + "@b.no", "before the @ is at most 64 bytes"},
		{"a@" + strings.Repeat(long+".", 4) + "no", "at most 254 bytes"},
		{"a@b.no\xff", "valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			stored, _, err := ident.Email("email", tc.in)
			if err == nil {
				t.Fatalf("got %q; want an error", stored)
			}
			checkInvalid(t, err, "email", tc.in)
			if !strings.Contains(tillit.ErrorMessage(err), tc.rule) {
				t.Errorf("message %q does not say %q", tillit.ErrorMessage(err), tc.rule)
			}
		})
	}
}

func TestPhone(t *testing.T) {
	tests := []struct {
		in, country, want string
	}{
		{"912 34 567", "NO", "+4791234567"},
		{"91234567", "no", "+4791234567"},
		{"+47 912 34 567", "SE", "+4791234567"},
		{"0047 912 34 567", "SE", "+4791234567"},
		{"(+47) 912.34.567", "", "+4791234567"},
		{"070-123 45 67", "SE", "+46701234567"},
		{"+46 70 123 45 67", "NO", "+46701234567"},
		{"+46 (0)70 123 45 67", "NO", "+46701234567"},
		{"0046 70 123 45 67", "NO", "+46701234567"},
		{"0046701234567", "US", "+46701234567"}, // 00 even where the prefix for abroad is 011
		{"08-123 456 78", "SE", "+46812345678"},
		{"040 123 4567", "FI", "+358401234567"},
		{"32 12 34 56", "DK", "+4532123456"},
		{" +45 20 12 34 56 ", "NO", "+4520123456"},
	}
	for _, tc := range tests {
		t.Run(tc.in+"/"+tc.country, func(t *testing.T) {
			got, err := ident.Phone("phone", tc.in, tc.country)
			if err != nil {
				t.Fatalf("Phone: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestPhoneInvalid(t *testing.T) {
	tests := []struct {
		in, country, rule string
	}{
		{"", "NO", "give a phone number"},
		{"123", "NO", "too short"},
		{"+47 123", "SE", "too short"},
		{"+47 912 34 567 89", "NO", "too long"},
		{"912 34 567", "", "give the country code"},
		{"912 34 567", "XX", "give the country code"},
		{"+999 912 34 567", "NO", "country code is not one in use"},
		{"+47 012 34 567", "NO", "does not exist in its country's numbering plan"},
		{"+47 912 34 567 ext 2", "NO", "only digits, spaces"},
		{"+47 912+34 567", "NO", "only digits, spaces"},
		{"1-800-FLOWERS", "US", "only digits, spaces"},
		{"--", "NO", "has digits"},
		{"+", "NO", "has digits"},
		{strings.Repeat("9", 41), "NO", "at most 40 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.in+"/"+tc.country, func(t *testing.T) {
			got, err := ident.Phone("phone", tc.in, tc.country)
			if err == nil {
				t.Fatalf("got %q; want an error", got)
			}
			checkInvalid(t, err, "phone", tc.in)
			if !strings.Contains(tillit.ErrorMessage(err), tc.rule) {
				t.Errorf("message %q does not say %q", tillit.ErrorMessage(err), tc.rule)
			}
		})
	}
}
