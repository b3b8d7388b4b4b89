package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
)

func TestMe(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		for _, role := range tillit.Roles {
			t.Run(string(role), func(t *testing.T) {
				tok, secret := e.token(acme, role)
				w := e.do("GET", "/api/v1/me", secret, "")
				wantStatus(t, w, http.StatusOK)
				var me struct {
					Kind   string `json:"kind"`
					ID     int64  `json:"id"`
					Tenant struct {
						ID   int64  `json:"id"`
						Slug string `json:"slug"`
						Name string `json:"name"`
					} `json:"tenant"`
					Role        tillit.Role         `json:"role"`
					Name        string              `json:"name"`
					Permissions []tillit.Permission `json:"permissions"`
				}
				decode(t, w, &me)
				if me.Kind != "token" || me.ID != tok.ID || me.Role != role || me.Name != tok.Name ||
					me.Tenant.ID != acme.ID || me.Tenant.Slug != acme.Slug || me.Tenant.Name != acme.Name ||
					!slices.Equal(me.Permissions, role.Permissions()) {
					t.Fatalf("me %+v, want token %+v of tenant %+v", me, tok, acme)
				}
			})
		}
	})
}

func TestCreateListRevokeToken(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		admin, secret := e.token(e.tenant("acme"), tillit.RoleAdmin)

		w := e.do("POST", "/api/v1/tokens", secret, `{"name":"CRM sync","role":"caseworker","expires_in_days":90}`)
		wantStatus(t, w, http.StatusCreated)
		var created struct {
			tillit.Token
			Secret string `json:"token"`
		}
		decode(t, w, &created)
		wantExpiry := e.clock.Now().AddDate(0, 0, 90)
		switch {
		case !strings.HasPrefix(created.Secret, tillit.TokenPrefix):
			t.Fatalf("secret %q", created.Secret)
		case created.ID == 0 || created.Name != "CRM sync" || created.Role != tillit.RoleCaseworker:
			t.Fatalf("created %+v", created.Token)
		case created.CreatedBy != actor(admin):
			t.Fatalf("created_by %q, want %q", created.CreatedBy, actor(admin))
		case created.ExpiresAt == nil || !created.ExpiresAt.Equal(wantExpiry):
			t.Fatalf("expires_at %v, want %v", created.ExpiresAt, wantExpiry)
		}
		wantStatus(t, e.do("GET", "/api/v1/me", created.Secret, ""), http.StatusOK)

		w = e.do("GET", "/api/v1/tokens", secret, "")
		wantStatus(t, w, http.StatusOK)
		if strings.Contains(w.Body.String(), created.Secret) || strings.Contains(w.Body.String(), `"token"`) {
			t.Fatalf("the list shows a secret: %s", w.Body.String())
		}
		var list struct{ Tokens []tillit.Token }
		decode(t, w, &list)
		if !slices.ContainsFunc(list.Tokens, func(tk tillit.Token) bool { return tk.ID == created.ID }) {
			t.Fatalf("the list lacks token %d: %+v", created.ID, list.Tokens)
		}

		w = e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), secret, "")
		wantStatus(t, w, http.StatusNoContent)
		if w.Body.Len() != 0 {
			t.Fatalf("204 with a body: %q", w.Body.String())
		}
		wantProblem(t, e.do("GET", "/api/v1/me", created.Secret, ""), 401, tillit.EUnauthenticated, "")
		wantStatus(t, e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), secret, ""), http.StatusNoContent)
	})
}

func TestRevokeTokenBadID(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, secret := e.token(e.tenant("acme"), tillit.RoleAdmin)
		for _, id := range []string{"abc", "0", "-1", "1.5", "%2B1", "99999999999999999999", "1e3"} {
			t.Run(id, func(t *testing.T) {
				wantProblem(t, e.do("DELETE", "/api/v1/tokens/"+id, secret, ""), 400, tillit.EInvalid, "id")
			})
		}
	})
}

func TestPermissions(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		secrets := map[tillit.Role]string{}
		for _, role := range tillit.Roles {
			_, secrets[role] = e.token(acme, role)
		}
		tests := []struct {
			name   string
			role   tillit.Role
			method string
			target string
			body   string
			status int
			field  string
		}{
			{"reader creates a token", tillit.RoleReader, "POST", "/api/v1/tokens", `{"name":"x","role":"reader"}`, 403, ""},
			{"caseworker lists tokens", tillit.RoleCaseworker, "GET", "/api/v1/tokens", "", 403, ""},
			{"auditor revokes a token", tillit.RoleAuditor, "DELETE", "/api/v1/tokens/1", "", 403, ""},
			{"reader reads the audit log", tillit.RoleReader, "GET", "/api/v1/audit", "", 403, ""},
			{"admin creates an owner token", tillit.RoleAdmin, "POST", "/api/v1/tokens", `{"name":"x","role":"owner"}`, 403, "role"},
			{"admin creates an admin token", tillit.RoleAdmin, "POST", "/api/v1/tokens", `{"name":"x","role":"admin"}`, 201, ""},
			{"owner creates an owner token", tillit.RoleOwner, "POST", "/api/v1/tokens", `{"name":"x","role":"owner"}`, 201, ""},
			{"auditor reads the audit log", tillit.RoleAuditor, "GET", "/api/v1/audit", "", 200, ""},
			{"reader reads me", tillit.RoleReader, "GET", "/api/v1/me", "", 200, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do(tt.method, tt.target, secrets[tt.role], tt.body)
				if tt.status == 403 {
					wantProblem(t, w, 403, tillit.EForbidden, tt.field)
					return
				}
				wantStatus(t, w, tt.status)
			})
		}
	})
}

func TestAuthentication(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, secret := e.token(acme, tillit.RoleAdmin)
		revoked, revokedSecret := e.token(acme, tillit.RoleReader)
		wantStatus(t, e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", revoked.ID), secret, ""), 204)

		w := e.do("POST", "/api/v1/tokens", secret, `{"name":"short","role":"reader","expires_in_days":1}`)
		wantStatus(t, w, 201)
		var short struct {
			tillit.Token
			Secret string `json:"token"`
		}
		decode(t, w, &short)
		e.clock.Add(25 * time.Hour)

		tests := []struct{ name, authorization string }{
			{"missing", ""},
			{"garbage", "Bearer nope"},
			{"empty bearer", "Bearer "},
			{"other scheme", "Basic dXNlcjpwYXNz"},
			{"prefix but unknown", "Bearer " + tillit.TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
			{"huge", "Bearer " + strings.Repeat("x", 100_000)},
			{"revoked", "Bearer " + revokedSecret},
			{"expired", "Bearer " + short.Secret},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var opts []reqOption
				if tt.authorization != "" {
					opts = append(opts, header("Authorization", tt.authorization))
				}
				w := e.do("GET", "/api/v1/me", "", "", opts...)
				wantProblem(t, w, 401, tillit.EUnauthenticated, "")
				if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
				}
			})
		}
		t.Run("scheme is case-insensitive", func(t *testing.T) {
			wantStatus(t, e.do("GET", "/api/v1/me", "", "", header("Authorization", "bearer "+secret)), 200)
		})
	})
}

func TestCrossTenant(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme, globex := e.tenant("acme"), e.tenant("globex")
		acmeTok, acmeSecret := e.token(acme, tillit.RoleOwner)
		_, globexSecret := e.token(globex, tillit.RoleOwner)

		t.Run("revoking another tenant's token is not found", func(t *testing.T) {
			w := e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", acmeTok.ID), globexSecret, "")
			wantProblem(t, w, 404, tillit.ENotFound, "")
			wantStatus(t, e.do("GET", "/api/v1/me", acmeSecret, ""), 200)
		})
		t.Run("another tenant's tokens are not listed", func(t *testing.T) {
			w := e.do("GET", "/api/v1/tokens", globexSecret, "")
			wantStatus(t, w, 200)
			var list struct{ Tokens []tillit.Token }
			decode(t, w, &list)
			for _, tk := range list.Tokens {
				if tk.ID == acmeTok.ID {
					t.Fatalf("globex sees acme's token %+v", tk)
				}
			}
		})
		t.Run("another tenant's events are not listed", func(t *testing.T) {
			wantStatus(t, e.do("GET", "/api/v1/me", acmeSecret, ""), 200)
			for _, ev := range e.events(globexSecret, "limit=1000") {
				if ev.Log != globex.ID || ev.Actor == actor(acmeTok) {
					t.Fatalf("globex sees event %+v", ev)
				}
			}
		})
		t.Run("a token created in the tenant of its creator", func(t *testing.T) {
			w := e.do("POST", "/api/v1/tokens", globexSecret, fmt.Sprintf(`{"name":"x","role":"reader","tenant_id":%d}`, acme.ID))
			wantProblem(t, w, 400, tillit.EInvalid, "tenant_id")
		})
	})
}
