package tillit

import (
	"slices"
	"strings"
)

// Role is what a user or token of a tenant may do, as a set of permissions.
type Role string

// The roles of a tenant's users and tokens.
const (
	RoleOwner      Role = "owner"      // everything, including the tenant's owners
	RoleAdmin      Role = "admin"      // users, tokens, settings, data
	RolePrivacy    Role = "privacy"    // the tenant's privacy officer: people's rights, requests, retention
	RoleCaseworker Role = "caseworker" // reads and writes the register
	RoleReader     Role = "reader"     // reads the register
	RoleAuditor    Role = "auditor"    // reads the audit log and settings, no personal data
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RolePrivacy, RoleCaseworker, RoleReader, RoleAuditor}

// Permission names one kind of action. Every route and every service method
// declares the permission it needs; what is not granted is denied.
type Permission string

// The permissions.
const (
	PermTenantRead  Permission = "tenant:read"
	PermTenantWrite Permission = "tenant:write"
	PermTokenRead   Permission = "token:read"
	PermTokenWrite  Permission = "token:write"
	PermAuditRead   Permission = "audit:read"
	PermPersonRead  Permission = "person:read"
	PermPersonWrite Permission = "person:write"
	PermUserRead    Permission = "user:read"
	PermUserWrite   Permission = "user:write"  // invite, change role, block
	PermOwnerWrite  Permission = "owner:write" // grant or take the owner role

	// The rights of people in the register (GDPR Art. 15–20) and retention.
	PermPersonReport   Permission = "person:report"          // register extract and export of a person
	PermPersonErase    Permission = "person:erase"           // erase, anonymise, decide on flagged people
	PermPersonRestrict Permission = "person:restrict"        // restrict processing, set legal holds
	PermRestrictedRead Permission = "person:read_restricted" // see restricted people in lists and lookups
	PermRequestRead    Permission = "request:read"           // the register of requests from people
	PermRequestWrite   Permission = "request:write"
	PermRetentionRead  Permission = "retention:read" // the policy and the flagged people
	PermRetentionWrite Permission = "retention:write"
	PermPurposeWrite   Permission = "purpose:write" // the purposes and legal bases of processing
)

// rights are the permissions of the privacy officer's work, which owners
// and admins have too.
var rights = []Permission{PermPersonReport, PermPersonErase, PermPersonRestrict, PermRestrictedRead,
	PermRequestRead, PermRequestWrite, PermRetentionRead, PermRetentionWrite, PermPurposeWrite}

// permissions is the one table from role to permissions.
var permissions = map[Role][]Permission{
	RoleOwner: append([]Permission{PermTenantRead, PermTenantWrite, PermTokenRead, PermTokenWrite, PermUserRead, PermUserWrite,
		PermAuditRead, PermPersonRead, PermPersonWrite, PermOwnerWrite}, rights...),
	RoleAdmin: append([]Permission{PermTenantRead, PermTenantWrite, PermTokenRead, PermTokenWrite, PermUserRead, PermUserWrite,
		PermAuditRead, PermPersonRead, PermPersonWrite}, rights...),
	RolePrivacy: append([]Permission{PermTenantRead, PermAuditRead, PermPersonRead, PermPersonWrite}, rights...),
	RoleCaseworker: {PermTenantRead, PermPersonRead, PermPersonWrite, PermPersonReport,
		PermRequestRead, PermRequestWrite},
	RoleReader:  {PermTenantRead, PermPersonRead},
	RoleAuditor: {PermTenantRead, PermAuditRead},
}

// ParseRole returns the role named s, or an EInvalid error naming field.
func ParseRole(field, s string) (Role, error) {
	r := Role(s)
	if _, ok := permissions[r]; !ok {
		return "", FieldErrorf(field, "%s must be one of %s", field, roleList())
	}
	return r, nil
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Permissions returns the permissions of the role.
func (r Role) Permissions() []Permission { return slices.Clone(permissions[r]) }

// Can reports whether the role has the permission.
func (r Role) Can(p Permission) bool { return slices.Contains(permissions[r], p) }

// Covers reports whether the role has every permission of other: a principal
// may hand out only roles its own covers.
func (r Role) Covers(other Role) bool {
	mine := permissions[r]
	theirs, ok := permissions[other]
	if !ok || mine == nil {
		return false
	}
	for _, p := range theirs {
		if !slices.Contains(mine, p) {
			return false
		}
	}
	return true
}

// String returns the role's name.
func (r Role) String() string { return string(r) }
