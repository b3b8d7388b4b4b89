package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tillit"
)

func TestRouteCheck(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request) error { return nil }
	ok := Route{Method: "GET", Pattern: "/api/v1/x/{id}", Action: "x.read", Access: Requires(tillit.PermTenantRead), TargetKind: "x", handle: h}
	if err := ok.check(); err != nil {
		t.Fatalf("a good route is refused: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*Route)
	}{
		{"no access", func(r *Route) { r.Access = Access{} }},
		{"no action on an API route", func(r *Route) { r.Action = "" }},
		{"no action with a permission", func(r *Route) { r.Pattern, r.Action, r.TargetKind = "/page", "", "" }},
		{"no handler", func(r *Route) { r.handle = nil }},
		{"bad method", func(r *Route) { r.Method = "get" }},
		{"relative pattern", func(r *Route) { r.Pattern = "api/v1/x/{id}" }},
		{"target without id", func(r *Route) { r.Pattern = "/api/v1/x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := ok
			tt.modify(&rt)
			if rt.check() == nil {
				t.Fatalf("route %+v accepted", rt)
			}
			s := &Server{mux: http.NewServeMux()}
			defer func() {
				if recover() == nil {
					t.Fatal("register did not panic")
				}
				if len(s.routes) != 0 {
					t.Fatal("the bad route was registered")
				}
			}()
			s.register(rt)
		})
	}
	t.Run("Requires an empty permission panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		Requires("")
	})
}

func TestCursor(t *testing.T) {
	for _, i := range []int64{0, 1, 99, 1 << 40} {
		got, err := decodeCursor(encodeCursor(i))
		if err != nil || got != i {
			t.Fatalf("cursor of %d decodes to %d, %v", i, got, err)
		}
	}
	bad := []string{"x", "!!!", encodeCursor(5)[1:], "djE6LTE", "djE6MDE", "djI6NQ", strings.Repeat("A", 100)}
	for _, c := range bad {
		if _, err := decodeCursor(c); tillit.ErrorField(err) != "cursor" {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}

func TestParseID(t *testing.T) {
	for s, want := range map[string]int64{"1": 1, "42": 42, "9223372036854775807": 1<<63 - 1} {
		if got, err := parseID("id", s); err != nil || got != want {
			t.Errorf("parseID(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0", "-3", "+3", "3.0", " 3", "9223372036854775808", "0x10"} {
		if _, err := parseID("id", s); tillit.ErrorField(err) != "id" {
			t.Errorf("parseID(%q): %v", s, err)
		}
	}
}

func TestClientAddrAndRequestID(t *testing.T) {
	tests := []struct {
		name       string
		trustProxy bool
		remote     string
		xff        []string
		xrid       string
		wantAddr   string
		wantRID    string // "" means a fresh random id
	}{
		{"direct", false, "198.51.100.7:4431", nil, "", "198.51.100.7", ""},
		{"direct ignores proxy headers", false, "198.51.100.7:4431", []string{"203.0.113.9"}, "client-chosen-id", "198.51.100.7", ""},
		{"ipv6", false, "[2001:db8::1]:443", nil, "", "2001:db8::1", ""},
		{"ipv4-mapped", false, "[::ffff:192.0.2.5]:443", nil, "", "192.0.2.5", ""},
		{"zone dropped", false, "[fe80::1%eth0]:443", nil, "", "fe80::1", ""},
		{"garbage remote", false, "not an address", nil, "", "", ""},
		{"proxy: last entry", true, "10.0.0.2:5000", []string{"203.0.113.1, 203.0.113.9"}, "", "203.0.113.9", ""},
		{"proxy: last header", true, "10.0.0.2:5000", []string{"203.0.113.1", "203.0.113.8"}, "", "203.0.113.8", ""},
		{"proxy: bad entry falls back", true, "10.0.0.2:5000", []string{"<script>"}, "", "10.0.0.2", ""},
		{"proxy: good request id", true, "10.0.0.2:5000", nil, "abcd-1234-EF", "10.0.0.2", "abcd-1234-EF"},
		{"proxy: short request id", true, "10.0.0.2:5000", nil, "abc", "10.0.0.2", ""},
		{"proxy: request id with spaces", true, "10.0.0.2:5000", nil, "abcd 1234 efgh", "10.0.0.2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{trustProxy: tt.trustProxy}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.xrid != "" {
				r.Header.Set("X-Request-Id", tt.xrid)
			}
			if got := s.clientAddr(r); got != tt.wantAddr {
				t.Errorf("client address %q, want %q", got, tt.wantAddr)
			}
			id := s.requestID(r)
			switch {
			case tt.wantRID != "" && id != tt.wantRID:
				t.Errorf("request id %q, want %q", id, tt.wantRID)
			case tt.wantRID == "" && (len(id) != 32 || id == tt.xrid || id == s.requestID(r)):
				t.Errorf("request id %q is not a fresh 128-bit hex id", id)
			}
		})
	}
}

func TestParseEventFilterDefaults(t *testing.T) {
	f, err := parseEventFilter(map[string]string{})
	if err != nil || f.After != -1 || f.Limit != defaultEventLimit || f.Actor != nil || f.From != nil {
		t.Fatalf("defaults %+v, %v", f, err)
	}
}
