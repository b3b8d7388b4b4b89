package web

import (
	"net/http"

	"tillit"
)

// consoleRoutes lists the routes of the web console, served when the
// server signs people in. The sign-in flow is public; every other page
// needs a session, and the pages of users and settings a permission. The
// static assets are the only routes not audited: they are the same files
// for everyone and say nothing about anyone.
func (s *Server) consoleRoutes() []Route {
	if !s.servesPages() {
		return nil
	}
	const (
		userRead    = tillit.PermUserRead
		userWrite   = tillit.PermUserWrite
		tenantRead  = tillit.PermTenantRead
		tenantWrite = tillit.PermTenantWrite
	)
	return append([]Route{
		{Method: "GET", Pattern: "/static/{file}", Access: Public, handle: s.serveStatic},
		{Method: "POST", Pattern: "/lang", Action: "console.lang", Access: Public, handle: s.setLang},

		{Method: "GET", Pattern: "/signin", Action: "console.signin.form", Access: Public, handle: s.signInForm},
		{Method: "POST", Pattern: "/signin", Action: "console.signin", Access: Public, RateLimit: true, handle: s.signIn},
		{Method: "GET", Pattern: "/signin/factor", Action: "console.mfa.form", Access: Public, handle: s.factorForm},
		{Method: "POST", Pattern: "/signin/factor", Action: "console.mfa", Access: Public, RateLimit: true, handle: s.factor},
		{Method: "POST", Pattern: "/signin/factor/sms", Action: "console.mfa.sms_send", Access: Public, RateLimit: true, handle: s.sendSMS},
		{Method: "GET", Pattern: "/signin/enroll", Action: "console.totp.enroll", Access: Public, RateLimit: true, handle: s.enrollForm},
		{Method: "POST", Pattern: "/signin/enroll", Action: "console.totp.confirm", Access: Public, RateLimit: true, handle: s.enroll},
		{Method: "GET", Pattern: "/invite", Action: "console.invitation.form", Access: Public, handle: s.invitationForm},
		{Method: "POST", Pattern: "/invite", Action: "console.invitation.accept", Access: Public, RateLimit: true, handle: s.acceptInvitationForm},
		{Method: "GET", Pattern: "/password/forgot", Action: "console.reset_request.form", Access: Public, handle: s.forgotForm},
		{Method: "POST", Pattern: "/password/forgot", Action: "console.reset_request", Access: Public, RateLimit: true, handle: s.forgot},
		{Method: "GET", Pattern: "/reset", Action: "console.reset.form", Access: Public, handle: s.resetForm},
		{Method: "POST", Pattern: "/reset", Action: "console.reset", Access: Public, RateLimit: true, handle: s.reset},

		{Method: "GET", Pattern: "/{$}", Action: "console.home", Access: SignedIn, handle: s.home},
		{Method: "POST", Pattern: "/keepalive", Action: "console.keepalive", Access: SignedIn, handle: s.keepalive},
		{Method: "POST", Pattern: "/signout", Action: "console.signout", Access: SignedIn, handle: s.signOut},
		{Method: "GET", Pattern: "/account/password", Action: "console.password.form", Access: SignedIn, handle: s.passwordForm},
		{Method: "POST", Pattern: "/account/password", Action: "console.password.change", Access: SignedIn, RateLimit: true, handle: s.changePasswordForm},
		{Method: "GET", Pattern: "/account/passkeys", Action: "console.passkey.form", Access: SignedIn, handle: s.passkeysPage},
		{Method: "GET", Pattern: "/sessions", Action: "console.session.list", Access: SignedIn, handle: s.sessionsPage},
		{Method: "POST", Pattern: "/sessions", Action: "console.session.revoke", Access: SignedIn, handle: s.endSessions},

		{Method: "GET", Pattern: "/users", Action: "console.user.list", Access: Requires(userRead), handle: s.usersPage},
		{Method: "POST", Pattern: "/users", Action: "console.user.invite", Access: Requires(userWrite), handle: s.inviteUserForm},
		{Method: "GET", Pattern: "/users/{id}", Action: "console.user.read", Access: Requires(userRead), TargetKind: "user", handle: s.userPage},
		{Method: "POST", Pattern: "/users/{id}", Action: "console.user.update", Access: Requires(userWrite), TargetKind: "user", handle: s.updateUserForm},
		{Method: "GET", Pattern: "/settings/security", Action: "console.settings.read", Access: Requires(tenantRead), handle: s.settingsPage},
		{Method: "POST", Pattern: "/settings/security", Action: "console.settings.update", Access: Requires(tenantWrite), handle: s.updateSettingsForm},
	}, s.registerRoutes()...)
}

// registerRoutes lists the console's pages of the register, served when
// the server has one. Each page's own read or change is the service's
// event, which names the person and the attributes touched; the route's
// action names the event of a request refused before it.
func (s *Server) registerRoutes() []Route {
	if s.people == nil {
		return nil
	}
	const (
		read        = tillit.PermPersonRead
		write       = tillit.PermPersonWrite
		tenantRead  = tillit.PermTenantRead
		tenantWrite = tillit.PermTenantWrite
	)
	return append([]Route{
		{Method: "GET", Pattern: "/people", Action: "console.person.list", Access: Requires(read), handle: s.peoplePage},
		{Method: "POST", Pattern: "/people/lookup", Action: "console.person.lookup", Access: Requires(read), handle: s.lookupPeopleForm},
		{Method: "GET", Pattern: "/people/new", Action: "console.person.form", Access: Requires(write), handle: s.newPersonPage},
		{Method: "POST", Pattern: "/people/new", Action: "console.person.create", Access: Requires(write), handle: s.createPersonForm},
		{Method: "GET", Pattern: "/people/import", Action: "console.person.import_form", Access: Requires(write), handle: s.importPage},
		{Method: "POST", Pattern: "/people/import", Action: "console.person.import", Access: Requires(write), LongBody: true, handle: s.importForm},
		{Method: "GET", Pattern: "/people/{id}", Action: "console.person.read", Access: Requires(read), TargetKind: "person", handle: s.personPage},
		{Method: "GET", Pattern: "/people/{id}/edit", Action: "console.person.edit", Access: Requires(write), TargetKind: "person", handle: s.editPersonPage},
		{Method: "POST", Pattern: "/people/{id}/edit", Action: "console.person.update", Access: Requires(write), TargetKind: "person", handle: s.updatePersonForm},
		{Method: "POST", Pattern: "/people/{id}/records", Action: "console.record.create", Access: Requires(write), TargetKind: "person", handle: s.createRecordForm},
		{Method: "POST", Pattern: "/people/{id}/records/{rid}/delete", Action: "console.record.delete", Access: Requires(write), TargetKind: "person", handle: s.deleteRecordForm},
		{Method: "GET", Pattern: "/schema", Action: "console.schema.read", Access: Requires(tenantRead), handle: s.schemaPage},
		{Method: "POST", Pattern: "/schema", Action: "console.schema.update", Access: Requires(tenantWrite), handle: s.updateSchemaForm},
	}, s.rightsConsoleRoutes()...)
}

// servesPages reports whether the server has the console: it signs people
// in. Without it, every path is answered as the API answers.
func (s *Server) servesPages() bool { return s.auth != nil && s.accounts != nil }

// homePage is the data of the start page.
type homePage struct {
	Session *tillit.Session
}

// home is the start page: who is signed in, in which tenant, with which
// role, and when the session idles out.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedInView(r, "home.title", "home")
	if err != nil {
		return err
	}
	sessions, err := keepEvent(r, func() ([]*tillit.Session, error) { return s.auth.FindSessions(r.Context()) })
	if err != nil {
		return err
	}
	data := homePage{}
	if v.Me.Email, err = s.ownEmail(r); err != nil {
		return err
	}
	for _, ss := range sessions {
		if ss.Current {
			data.Session = ss
		}
	}
	v.Data = data
	return s.render(w, http.StatusOK, "home", v)
}

// ownEmail returns the e-mail address of the signed-in person, or "" for
// a principal that is not a person (a token). The principal carries only a
// label ("user:3"); the address is sealed in the store.
func (s *Server) ownEmail(r *http.Request) (string, error) {
	p := tillit.PrincipalFromContext(r.Context())
	if p.Kind != tillit.KindUser && p.Kind != tillit.KindOperator {
		return "", nil
	}
	a, err := keepEvent(r, func() (*tillit.Account, error) { return s.accounts.CurrentAccount(r.Context()) })
	if err != nil {
		return "", err
	}
	return a.Email, nil
}

// keepalive answers a signed-in page's "stay signed in": authenticating
// the request has already moved the session's idle deadline, which the
// answer tells in seconds from now.
func (s *Server) keepalive(w http.ResponseWriter, r *http.Request) error {
	p := tillit.PrincipalFromContext(r.Context())
	out := struct {
		IdleSeconds int `json:"idle_seconds"`
	}{}
	if p.IdleUntil != nil {
		out.IdleSeconds = max(0, int(p.IdleUntil.Sub(s.clock.Now()).Seconds()))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// signOut ends the session and goes to the sign-in page.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.Logout(r.Context()); err != nil {
		return err
	}
	clearCookie(w, sessionCookie)
	return seeOther(w, "/signin?notice=signed_out")
}
