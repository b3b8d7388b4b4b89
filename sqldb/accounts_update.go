package sqldb

import (
	"context"
	"fmt"
	"regexp"

	"tillit"
)

// FindUsers lists the users of the principal's tenant, oldest first. It
// needs user:read. Errors: EUnauthenticated, EForbidden.
func (s *AccountService) FindUsers(ctx context.Context) ([]*tillit.Account, error) {
	tillit.Describe(ctx, "user.list", "")
	p, err := tillit.Authorize(ctx, tillit.PermUserRead)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE tenant_id = $1 AND kind = 'user' ORDER BY id`, p.TenantID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	users := []*tillit.Account{}
	for rows.Next() {
		row, err := scanAccount(rows)
		if err != nil {
			return nil, translate(err)
		}
		acc, err := s.account(row)
		if err != nil {
			return nil, err
		}
		users = append(users, acc)
	}
	return users, translate(rows.Err())
}

// fields names the fields an update touches, for the audit log.
func updateFields(u tillit.AccountUpdate) []string {
	var f []string
	if u.Role != nil {
		f = append(f, "role")
	}
	if u.Blocked != nil {
		f = append(f, "blocked")
	}
	if u.Unlock {
		f = append(f, "locked_until")
	}
	return f
}

// UpdateUser changes the role of a user of the principal's tenant, blocks
// or unblocks it, or clears its lockout; it needs user:write. Role changes and blocking need a
// step-up, and a principal whose role covers both the user's role and the
// new one; nobody changes their own role or blocks themselves. Blocking
// ends the user's sessions at once. Errors: EInvalid, ENotFound,
// EUnauthenticated, EForbidden, EStepUp.
func (s *AccountService) UpdateUser(ctx context.Context, id int64, u tillit.AccountUpdate) (*tillit.Account, error) {
	target := fmt.Sprintf("user:%d", id)
	fields := updateFields(u)
	tillit.Describe(ctx, "user.update", target, fields...)
	p, err := s.authorizeUpdate(ctx, id, u, fields)
	if err != nil {
		return nil, err
	}
	var row *accountRow
	err = s.db.withTx(ctx, func(tx *Tx) error {
		row, err = accountByID(ctx, tx, id)
		if tillit.ErrorCode(err) == tillit.ENotFound || (err == nil && (row.kind != tillit.KindUser || row.tenantID != p.TenantID)) {
			return tillit.Errorf(tillit.ENotFound, "there is no user %d in this tenant", id)
		}
		if err != nil {
			return err
		}
		if (u.Role != nil || u.Blocked != nil) && !p.Role.Covers(row.role) {
			return tillit.Errorf(tillit.EForbidden, "your role %s may not change a user with the role %s", p.Role, row.role)
		}
		if err := tx.updateUser(ctx, row, u); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, p.TenantID, "user.update", target, fields...))
	})
	if err != nil {
		return nil, err
	}
	return s.account(row)
}

// authorizeUpdate checks the principal's right to make the update, before
// the user is looked up.
func (s *AccountService) authorizeUpdate(ctx context.Context, id int64, u tillit.AccountUpdate, fields []string) (*tillit.Principal, error) {
	p, err := tillit.Authorize(ctx, tillit.PermUserWrite)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, tillit.FieldErrorf("role", "give a role, blocked, or unlock")
	}
	if u.Role == nil && u.Blocked == nil {
		return p, nil
	}
	if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
		return nil, err
	}
	if p.Kind == tillit.KindUser && p.ID == id {
		return nil, tillit.Errorf(tillit.EInvalid, "you may not change your own role or block yourself; ask another administrator")
	}
	if u.Role != nil {
		if _, err := tillit.ParseRole("role", string(*u.Role)); err != nil {
			return nil, err
		}
		if !p.Role.Covers(*u.Role) {
			return nil, &tillit.Error{Code: tillit.EForbidden, Field: "role",
				Message: fmt.Sprintf("your role %s may not give the role %s, which has permissions yours lacks", p.Role, *u.Role)}
		}
	}
	return p, nil
}

// updateUser writes the update to the account row and to a, and ends the
// sessions of a user that is blocked.
func (tx *Tx) updateUser(ctx context.Context, a *accountRow, u tillit.AccountUpdate) error {
	if u.Role != nil {
		a.role = *u.Role
	}
	if u.Blocked != nil {
		a.blocked = *u.Blocked
	}
	if u.Unlock {
		a.failedCount, a.delayUntil, a.lockedUntil = 0, nil, nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE accounts SET role = $1, blocked = $2, failed_count = $3, delay_until = $4, locked_until = $5
		WHERE id = $6`, string(a.role), a.blocked, a.failedCount, nullMicros(a.delayUntil), nullMicros(a.lockedUntil), a.id)
	if err == nil && a.blocked {
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1`, a.id)
	}
	return err
}

// phoneRE matches an E.164 phone number.
var phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// SetPhone sets (or with "" removes) the phone number of an account, to
// which SMS sign-in codes are sent where the tenant allows them. Only the
// account itself, after a step-up, and the system (the operator CLI) may
// set it. Errors: EInvalid (field "phone"), ENotFound, EUnauthenticated,
// EForbidden, EStepUp.
func (s *AccountService) SetPhone(ctx context.Context, accountID int64, phone string) error {
	p := tillit.PrincipalFromContext(ctx)
	target := fmt.Sprintf("%s:%d", tillit.KindUser, accountID)
	if p != nil && p.Kind == tillit.KindOperator {
		target = fmt.Sprintf("%s:%d", tillit.KindOperator, accountID)
	}
	tillit.Describe(ctx, "account.phone", target, "phone")
	switch {
	case p == nil:
		return tillit.Errorf(tillit.EUnauthenticated, "sign in first")
	case p.Kind != tillit.KindSystem && (p.ID != accountID || p.SessionID == 0):
		return tillit.Errorf(tillit.EForbidden, "only the account itself may set its phone number")
	case phone != "" && !phoneRE.MatchString(phone):
		return tillit.FieldErrorf("phone", "phone must be in international format, such as +4791234567")
	}
	if err := tillit.RequireStepUp(ctx, s.db.now()); err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		a, err := accountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		var sealed []byte
		if phone != "" {
			if sealed, err = s.sealPhone(a.id, phone); err != nil {
				return tillit.Internal(err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET phone_sealed = $1 WHERE id = $2`, sealed, a.id); err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, a.log(), "account.phone", a.name(), "phone"))
	})
}

// CurrentAccount returns the account of the signed-in principal (a user or
// an operator with a session), e-mail address included, for the console
// to greet it by. Errors: EUnauthenticated, EForbidden (not a person).
func (s *AccountService) CurrentAccount(ctx context.Context) (*tillit.Account, error) {
	p, err := sessionPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	a, err := accountByID(ctx, s.db.read, p.ID)
	if err != nil {
		return nil, translate(err)
	}
	return s.account(a)
}
