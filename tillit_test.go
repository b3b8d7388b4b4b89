package tillit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"tillit"
)

func TestRoleCovers(t *testing.T) {
	tests := []struct {
		r, other tillit.Role
		want     bool
	}{
		{tillit.RoleOwner, tillit.RoleOwner, true},
		{tillit.RoleOwner, tillit.RoleAuditor, true},
		{tillit.RoleAdmin, tillit.RoleOwner, false},
		{tillit.RoleAdmin, tillit.RoleAuditor, true},
		{tillit.RoleAdmin, tillit.RoleCaseworker, true},
		{tillit.RoleCaseworker, tillit.RoleAuditor, false},
		{tillit.RoleReader, tillit.RoleCaseworker, false},
		{tillit.RoleAuditor, tillit.RoleReader, false},
		{tillit.RoleAdmin, "root", false},
		{"root", tillit.RoleReader, false},
	}
	for _, tc := range tests {
		if got := tc.r.Covers(tc.other); got != tc.want {
			t.Errorf("%s covers %s: %v, want %v", tc.r, tc.other, got, tc.want)
		}
	}
}

func TestEveryRoleHasPermissions(t *testing.T) {
	for _, r := range tillit.Roles {
		if len(r.Permissions()) == 0 || !r.Can(tillit.PermTenantRead) {
			t.Errorf("role %s has no permissions, or cannot read its tenant", r)
		}
	}
	if tillit.RoleAuditor.Can(tillit.PermPersonRead) {
		t.Error("an auditor may read personal data")
	}
}

func TestAuthorize(t *testing.T) {
	token := &tillit.Principal{Kind: tillit.KindToken, ID: 1, TenantID: 7, Role: tillit.RoleReader}
	operator := &tillit.Principal{Kind: tillit.KindOperator, ID: 2}
	tests := []struct {
		p    *tillit.Principal
		perm tillit.Permission
		code string
	}{
		{nil, tillit.PermTenantRead, tillit.EUnauthenticated},
		{token, tillit.PermPersonRead, ""},
		{token, tillit.PermTokenWrite, tillit.EForbidden},
		{operator, tillit.PermTenantRead, tillit.EForbidden},
	}
	for _, tc := range tests {
		ctx := context.Background()
		if tc.p != nil {
			ctx = tillit.NewContextWithPrincipal(ctx, tc.p)
		}
		_, err := tillit.Authorize(ctx, tc.perm)
		if tillit.ErrorCode(err) != tc.code {
			t.Errorf("%s with %s: %v, want %q", tc.p.Actor(), tc.perm, err, tc.code)
		}
	}
	if _, err := tillit.AuthorizeOperator(tillit.NewContextWithPrincipal(context.Background(), token)); tillit.ErrorCode(err) != tillit.EForbidden {
		t.Errorf("a token passed as an operator: %v", err)
	}
}

func TestErrorHelpers(t *testing.T) {
	driver := errors.New("pq: password authentication failed for user secret")
	err := fmt.Errorf("wrapped: %w", &tillit.Error{Code: tillit.EUnavailable, Message: "the database failed", Err: driver})
	if tillit.ErrorCode(err) != tillit.EUnavailable || tillit.ErrorMessage(err) != "the database failed" {
		t.Fatalf("code %q message %q", tillit.ErrorCode(err), tillit.ErrorMessage(err))
	}
	if tillit.ErrorCode(driver) != tillit.EInternal || tillit.ErrorMessage(driver) != "internal error" {
		t.Fatal("a foreign error leaks its message")
	}
	if tillit.ErrorField(tillit.FieldErrorf("slug", "bad")) != "slug" || tillit.ErrorCode(nil) != "" {
		t.Fatal("field or nil code")
	}
}

func TestTenantSettingsValidate(t *testing.T) {
	var s tillit.TenantSettings
	if err := s.Validate(); err != nil || s != tillit.DefaultTenantSettings() {
		t.Fatalf("zero settings: %+v, %v", s, err)
	}
	for _, bad := range []tillit.TenantSettings{
		{SessionIdleMinutes: 121}, {SessionIdleMinutes: -1}, {RetentionMonths: 121},
		{Locale: "de"}, {Country: "no"}, {Country: "NOR"},
	} {
		if err := bad.Validate(); tillit.ErrorCode(err) != tillit.EInvalid || tillit.ErrorField(err) == "" {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
