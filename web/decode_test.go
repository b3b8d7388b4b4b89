package web_test

import (
	"net/http"
	"strings"
	"testing"

	"tillit"
)

func TestDecodeErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleAdmin)
		huge := `{"name":"` + strings.Repeat("a", 2<<20) + `","role":"reader"}`
		tests := []struct {
			name   string
			body   string
			opts   []reqOption
			status int
			code   string
			field  string
			detail string // a part of the message
		}{
			{"2 MiB body", huge, nil, 413, tillit.ETooLarge, "", "1 MiB"},
			{"2 MiB body, streamed", huge, []reqOption{chunked}, 413, tillit.ETooLarge, "", "1 MiB"},
			{"unknown field", `{"name":"x","role":"reader","colour":"red"}`, nil, 400, tillit.EInvalid, "colour", "colour"},
			{"wrong type", `{"name":42,"role":"reader"}`, nil, 400, tillit.EInvalid, "name", "string"},
			{"a number is not quoted", `{"name":19121212,"role":"reader"}`, nil, 400, tillit.EInvalid, "name", "not a number"},
			{"wrong number type", `{"name":"x","role":"reader","expires_in_days":"ten"}`, nil, 400, tillit.EInvalid, "expires_in_days", "integer"},
			{"fraction", `{"name":"x","role":"reader","expires_in_days":1.5}`, nil, 400, tillit.EInvalid, "expires_in_days", "integer"},
			{"out of range", `{"name":"x","role":"reader","expires_in_days":1e99}`, nil, 400, tillit.EInvalid, "expires_in_days", "integer"},
			{"malformed", `{"name" "x"}`, nil, 400, tillit.EInvalid, "", "byte"},
			{"truncated", `{"name":"x",`, nil, 400, tillit.EInvalid, "", "ends"},
			{"trailing data", `{"name":"x","role":"reader"} {}`, nil, 400, tillit.EInvalid, "", "after"},
			{"trailing garbage", `{"name":"x","role":"reader"}]`, nil, 400, tillit.EInvalid, "", "after"},
			{"empty body", ``, []reqOption{header("Content-Type", "application/json")}, 400, tillit.EInvalid, "", "empty"},
			{"blank body", "  \n ", nil, 400, tillit.EInvalid, "", "empty"},
			{"array", `[{"name":"x"}]`, nil, 400, tillit.EInvalid, "", "object"},
			{"null", `null`, nil, 400, tillit.EInvalid, "", "object"},
			{"no content type", `{"name":"x","role":"reader"}`, []reqOption{header("Content-Type", "")}, 400, tillit.EInvalid, "", "Content-Type"},
			{"form content type", `{"name":"x","role":"reader"}`, []reqOption{header("Content-Type", "application/x-www-form-urlencoded")}, 400, tillit.EInvalid, "", "Content-Type"},
			{"latin-1", `{"name":"x","role":"reader"}`, []reqOption{header("Content-Type", "application/json; charset=iso-8859-1")}, 400, tillit.EInvalid, "", "Content-Type"},
			{"unknown role", `{"name":"x","role":"god"}`, nil, 400, tillit.EInvalid, "role", "role"},
			{"missing name", `{"role":"reader"}`, nil, 400, tillit.EInvalid, "name", "name"},
			{"negative expiry", `{"name":"x","role":"reader","expires_in_days":-1}`, nil, 400, tillit.EInvalid, "expires_in_days", "expires_in_days"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do("POST", "/api/v1/tokens", secret, tt.body, tt.opts...)
				p := wantProblem(t, w, tt.status, tt.code, tt.field)
				if !strings.Contains(p.Detail, tt.detail) {
					t.Fatalf("detail %q does not mention %q", p.Detail, tt.detail)
				}
				if strings.Contains(p.Detail, "19121212") {
					t.Fatalf("detail %q quotes the value", p.Detail)
				}
			})
		}
		t.Run("no refused request created a token", func(t *testing.T) {
			w := e.do("GET", "/api/v1/tokens", secret, "")
			wantStatus(t, w, http.StatusOK)
			var list struct{ Tokens []tillit.Token }
			decode(t, w, &list)
			if len(list.Tokens) != 1 {
				t.Fatalf("%d tokens, want only the admin's: %+v", len(list.Tokens), list.Tokens)
			}
		})
		t.Run("charset utf-8 is accepted", func(t *testing.T) {
			w := e.do("POST", "/api/v1/tokens", secret, `{"name":"x","role":"reader"}`,
				header("Content-Type", "application/json; charset=UTF-8"))
			wantStatus(t, w, http.StatusCreated)
		})
	})
}
