package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"tillit"
)

// The users of the tenant: a list with an invitation form, and a page per
// user to change the role, block, unblock or unlock them. Role changes and
// blocking need a step-up.

// userRow is a user as the pages show them.
type userRow struct {
	*tillit.Account
	Status string // "active", "invited", "blocked" or "locked"
}

// newUserRow returns the row of a, with its status at now.
func newUserRow(a *tillit.Account, now time.Time) userRow {
	status := "active"
	switch {
	case a.Blocked:
		status = "blocked"
	case a.LockedUntil != nil && a.LockedUntil.After(now):
		status = "locked"
	case !a.Active:
		status = "invited"
	}
	return userRow{Account: a, Status: status}
}

// usersPage is the data of the users page.
type usersPage struct {
	Users      []userRow
	Roles      []tillit.Role // the roles the person may hand out
	CanWrite   bool
	Invitation *tillit.Invitation // an invitation whose e-mail could not be sent
}

// userPage is the data of one user's page.
type userPage struct {
	User     userRow
	Roles    []tillit.Role
	CanWrite bool
	Self     bool
}

// grantableRoles returns the roles the principal of r may hand out: those
// its own role covers.
func grantableRoles(r *http.Request) []tillit.Role {
	p := tillit.PrincipalFromContext(r.Context())
	var out []tillit.Role
	for _, role := range tillit.Roles {
		if p != nil && p.Role.Covers(role) {
			out = append(out, role)
		}
	}
	return out
}

// canWrite reports whether the principal of r may change users.
func canWrite(r *http.Request) bool {
	return tillit.PrincipalFromContext(r.Context()).Can(tillit.PermUserWrite)
}

// usersPage lists the tenant's users.
func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "users.title", "users")
	if err != nil {
		return err
	}
	if v.Data, err = s.usersData(r, nil); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "users", v)
}

// usersData returns the data of the users page.
func (s *Server) usersData(r *http.Request, inv *tillit.Invitation) (usersPage, error) {
	users, err := keepEvent(r, func() ([]*tillit.Account, error) { return s.accounts.FindUsers(r.Context()) })
	if err != nil {
		return usersPage{}, err
	}
	rows := make([]userRow, len(users))
	for i, u := range users {
		rows[i] = newUserRow(u, s.clock.Now())
	}
	return usersPage{Users: rows, Roles: grantableRoles(r), CanWrite: canWrite(r), Invitation: inv}, nil
}

// inviteUserForm invites a user by e-mail with a role. If the e-mail
// cannot be sent, the invitation is valid all the same and its link is
// shown, this once, to hand over some other way.
func (s *Server) inviteUserForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.signedInView(r, "users.title", "users")
	if err != nil {
		return err
	}
	role, err := tillit.ParseRole("role", r.PostFormValue("role"))
	var inv *tillit.Invitation
	if err == nil {
		_, inv, err = s.accounts.CreateAccount(r.Context(), tillit.AccountCreate{
			Kind: tillit.KindUser, Email: r.PostFormValue("email"), Role: role})
	}
	if err == nil {
		return seeOther(w, "/users?notice=invited")
	}
	if inv == nil || tillit.ErrorCode(err) != tillit.EUnavailable {
		inv = nil
	}
	data, derr := s.usersData(r, inv)
	if derr != nil {
		return derr
	}
	v.Data = data
	if inv != nil { // created, but not e-mailed: the link, this once
		v.Notice = "notice.invite_not_sent"
		return s.render(w, http.StatusOK, "users", v)
	}
	return s.formError(w, "users", "users", v, err)
}

// findUser returns the user id of the principal's tenant. Errors:
// ENotFound, and those of FindUsers.
func (s *Server) findUser(r *http.Request, id int64) (*tillit.Account, error) {
	users, err := keepEvent(r, func() ([]*tillit.Account, error) { return s.accounts.FindUsers(r.Context()) })
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.ID == id {
			return u, nil
		}
	}
	return nil, tillit.Errorf(tillit.ENotFound, "no such user")
}

// userPage shows one user and the changes the person may make.
func (s *Server) userPage(w http.ResponseWriter, r *http.Request) error {
	v, page, err := s.userView(r)
	if err != nil {
		return err
	}
	v.Data = page
	return s.render(w, http.StatusOK, "user", v)
}

// userView returns the view and data of the page of the user the path
// names.
func (s *Server) userView(r *http.Request) (*view, userPage, error) {
	id, err := parseID("id", r.PathValue("id"))
	if err != nil {
		return nil, userPage{}, tillit.Errorf(tillit.ENotFound, "no such user")
	}
	v, err := s.signedInView(r, "user.title", "users")
	if err != nil {
		return nil, userPage{}, err
	}
	u, err := s.findUser(r, id)
	if err != nil {
		return nil, userPage{}, err
	}
	p := tillit.PrincipalFromContext(r.Context())
	return v, userPage{User: newUserRow(u, s.clock.Now()), Roles: grantableRoles(r), CanWrite: canWrite(r),
		Self: p.Kind == tillit.KindUser && p.ID == u.ID}, nil
}

// updateUserForm changes the role of a user ("change" is "role"), blocks,
// unblocks or unlocks them, with a step-up when the service asks for one.
func (s *Server) updateUserForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, page, err := s.userView(r)
	if err != nil {
		return err
	}
	u, err := accountUpdate(r)
	if err == nil {
		err = s.withStepUp(w, r, func(ctx context.Context) error {
			_, err := s.accounts.UpdateUser(ctx, page.User.ID, u)
			return err
		})
	}
	if err != nil {
		v.Data = page
		return s.changeError(w, "user", "user", v, err)
	}
	return seeOther(w, "/users/"+strconv.FormatInt(page.User.ID, 10)+"?notice=user_updated")
}

// accountUpdate returns the change the user form asks for.
func accountUpdate(r *http.Request) (tillit.AccountUpdate, error) {
	var u tillit.AccountUpdate
	switch r.PostFormValue("change") {
	case "role":
		role, err := tillit.ParseRole("role", r.PostFormValue("role"))
		if err != nil {
			return u, err
		}
		u.Role = &role
	case "block", "unblock":
		blocked := r.PostFormValue("change") == "block"
		u.Blocked = &blocked
	case "unlock":
		u.Unlock = true
	default:
		return u, tillit.FieldErrorf("change", "change must be role, block, unblock or unlock")
	}
	return u, nil
}
