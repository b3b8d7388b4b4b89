package sqldb

import (
	"context"
	"fmt"

	"tillit"
	"tillit/notify"
	"tillit/password"
)

// AccountService implements tillit.AccountService.
type AccountService struct{ *authCore }

// NewAccountService returns the account service of db. Errors: EInvalid
// (cfg incomplete).
func NewAccountService(db *DB, cfg AuthConfig) (*AccountService, error) {
	c, err := newAuthCore(db, cfg)
	if err != nil {
		return nil, err
	}
	return &AccountService{c}, nil
}

var _ tillit.AccountService = (*AccountService)(nil)

// accountPlan is a checked AccountCreate: who may create what, where.
type accountPlan struct {
	c      tillit.AccountCreate
	email  string
	tenant *authTenant // nil for operators
	hash   string      // "" to invite
}

// CreateAccount creates an operator (operators and the system only, and
// operators only after a step-up) or a user of a tenant (operators and the
// system in any tenant; principals with user:write in their own, with a
// role their own covers). With a password it is set at once; without, the
// account is invited and the invitation e-mailed. If the e-mail cannot be
// sent, the account and invitation are returned with an EUnavailable
// error: the invitation is valid and its URL may be handed over otherwise.
// Errors: EInvalid, EConflict (e-mail taken, field "email"),
// EUnauthenticated, EForbidden, EStepUp, ENotFound (tenant), EUnavailable.
func (s *AccountService) CreateAccount(ctx context.Context, c tillit.AccountCreate) (*tillit.Account, *tillit.Invitation, error) {
	fields := []string{"email", "role", "password"}
	if c.Password == "" {
		fields[2] = "invitation"
	}
	tillit.Describe(ctx, "account.create", "", fields...)
	plan, err := s.plan(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	var row *accountRow
	var inv *tillit.Invitation
	err = s.db.withTx(ctx, func(tx *Tx) error {
		row, err = s.insertAccount(ctx, tx, plan)
		if err != nil {
			return err
		}
		if plan.hash == "" {
			if inv, err = s.invite(ctx, tx, row.id); err != nil {
				return err
			}
		}
		return tx.record(ctx, tx.event(ctx, row.log(), "account.create", row.name(), fields...))
	})
	if tillit.ErrorCode(err) == tillit.EConflict {
		return nil, nil, &tillit.Error{Code: tillit.EConflict, Field: "email", Message: "an account with this e-mail address exists already"}
	}
	if err != nil {
		return nil, nil, err
	}
	acc, err := s.account(row)
	if err != nil || inv == nil {
		return acc, nil, err
	}
	return acc, inv, s.mailInvitation(ctx, plan, inv)
}

// plan checks the principal's right to create the account and its input,
// and hashes the password.
func (s *AccountService) plan(ctx context.Context, c tillit.AccountCreate) (*accountPlan, error) {
	p := &accountPlan{c: c}
	var err error
	switch c.Kind {
	case tillit.KindOperator:
		err = s.authorizeOperatorCreate(ctx, p)
	case tillit.KindUser:
		err = s.authorizeUserCreate(ctx, p)
	default:
		return nil, tillit.FieldErrorf("kind", "kind must be user or operator")
	}
	if err != nil {
		return nil, err
	}
	if p.email, err = normalizeEmail(c.Email); err != nil {
		return nil, err
	}
	if c.Password == "" {
		return p, nil
	}
	if err := password.Check(c.Password, p.tenant.passwordNames(p.email)...); err != nil {
		return nil, err
	}
	p.hash, err = s.cfg.Hasher.Hash(ctx, c.Password)
	return p, err
}

// authorizeOperatorCreate lets operators (after a step-up) and the system
// create operators.
func (s *AccountService) authorizeOperatorCreate(ctx context.Context, p *accountPlan) error {
	if _, err := tillit.AuthorizeOperator(ctx); err != nil {
		return err
	}
	if p.c.Role != "" {
		return tillit.FieldErrorf("role", "operators have no role within a tenant; leave role empty")
	}
	return tillit.RequireStepUp(ctx, s.db.now())
}

// authorizeUserCreate lets operators and the system create users of any
// tenant, and a tenant's principals with user:write users of their own
// with roles their own covers.
func (s *AccountService) authorizeUserCreate(ctx context.Context, p *accountPlan) error {
	pr := tillit.PrincipalFromContext(ctx)
	if pr == nil || (pr.Kind != tillit.KindOperator && pr.Kind != tillit.KindSystem) {
		var err error
		if pr, err = tillit.Authorize(ctx, tillit.PermUserWrite); err != nil {
			return err
		}
		p.c.TenantID = pr.TenantID
	}
	if p.c.TenantID == 0 {
		return tillit.FieldErrorf("tenant", "name the tenant of the user")
	}
	if _, err := tillit.ParseRole("role", string(p.c.Role)); err != nil {
		return err
	}
	if pr.TenantID != 0 && !pr.Role.Covers(p.c.Role) {
		return &tillit.Error{Code: tillit.EForbidden, Field: "role",
			Message: fmt.Sprintf("your role %s may not give the role %s, which has permissions yours lacks", pr.Role, p.c.Role)}
	}
	// Inviting someone who may manage users is granting that role: as
	// sensitive as a role change, so it needs a step-up too.
	if p.c.Role.Can(tillit.PermUserWrite) || pr.Kind == tillit.KindOperator {
		if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
			return err
		}
	}
	t, err := tenantByID(ctx, s.db.read, p.c.TenantID)
	if err != nil {
		return translate(err)
	}
	p.tenant = t
	return nil
}

// insertAccount inserts the account, then seals its e-mail address with
// associated data that names the new id.
func (s *AccountService) insertAccount(ctx context.Context, tx *Tx, p *accountPlan) (*accountRow, error) {
	a := &accountRow{kind: p.c.Kind, role: p.c.Role, passwordHash: p.hash, createdAt: tx.now}
	var tenant any
	if p.tenant != nil {
		a.tenantID, tenant = p.tenant.id, p.tenant.id
	}
	var hash any
	if p.hash != "" {
		hash = p.hash
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, tenant_id, email_sealed, email_index, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		string(a.kind), tenant, []byte{}, s.emailIndex(p.email), string(a.role), hash, micros(a.createdAt)).Scan(&a.id)
	if err != nil {
		return nil, err
	}
	if a.emailSealed, err = s.sealEmail(a.id, p.email); err != nil {
		return nil, tillit.Internal(err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE accounts SET email_sealed = $1 WHERE id = $2`, a.emailSealed, a.id)
	return a, err
}

// invite creates the invitation of an account, valid InvitationTTL.
func (s *AccountService) invite(ctx context.Context, tx *Tx, accountID int64) (*tillit.Invitation, error) {
	token, err := tx.createOneTimeToken(ctx, tokenInvitation, accountID, tillit.InvitationTTL)
	if err != nil {
		return nil, err
	}
	return &tillit.Invitation{Token: token, URL: s.link("invite", token), ExpiresAt: tx.now.Add(tillit.InvitationTTL)}, nil
}

// mailInvitation e-mails the invitation, in the tenant's language.
func (s *AccountService) mailInvitation(ctx context.Context, p *accountPlan, inv *tillit.Invitation) error {
	name := "tillit"
	if p.tenant != nil {
		name = p.tenant.name
	}
	m := notify.InvitationMail(p.tenant.locale(), p.email, name, inv.URL, inv.ExpiresAt)
	if err := s.cfg.Mailer.Send(ctx, m); err != nil {
		return &tillit.Error{Code: tillit.EUnavailable, Err: err,
			Message: "the account was created, but the invitation could not be e-mailed; give the person its link another way"}
	}
	return nil
}
