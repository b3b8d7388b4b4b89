package sqldb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"tillit"
)

// TokenService implements tillit.TokenService.
type TokenService struct{ db *DB }

// NewTokenService returns the token service of db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

var _ tillit.TokenService = (*TokenService)(nil)

// lastUsedEvery is how stale a token's last use may get before it is
// written again, so that authenticating is not a write on every request.
const lastUsedEvery = 5 * time.Minute

// CreateToken creates a token and returns it with its secret. A tenant
// principal creates tokens in its own tenant with a role its own covers; an
// operator in the tenant c.TenantID. People (sessions) need a step-up to
// create any token, and everyone but the system to create a sensitive
// one. Errors: EInvalid, EUnauthenticated, EForbidden, EStepUp, ENotFound.
func (s *TokenService) CreateToken(ctx context.Context, c tillit.TokenCreate) (*tillit.Token, string, error) {
	fields := []string{"name", "role", "expires_at"}
	if c.Sensitive {
		fields = append(fields, "sensitive")
	}
	tillit.Describe(ctx, "token.create", "", fields...)
	tenantID, err := tokenTenant(ctx, c.TenantID, tillit.PermTokenWrite)
	if err != nil {
		return nil, "", err
	}
	if err := validateTokenCreate(ctx, &c); err != nil {
		return nil, "", err
	}
	if err := tokenStepUp(ctx, c.Sensitive, s.db.now()); err != nil {
		return nil, "", err
	}
	secret, hash, err := newTokenSecret()
	if err != nil {
		return nil, "", tillit.Internal(err)
	}
	t := &tillit.Token{TenantID: tenantID, Name: c.Name, Role: c.Role, Sensitive: c.Sensitive,
		CreatedBy: tillit.PrincipalFromContext(ctx).Actor()}
	err = s.db.withTx(ctx, func(tx *Tx) error {
		t.CreatedAt = tx.now
		if c.ExpiresInDays > 0 {
			exp := tx.now.AddDate(0, 0, c.ExpiresInDays)
			t.ExpiresAt = &exp
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO tokens (tenant_id, name, role, secret_hash, created_by, created_at, expires_at, sensitive)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1) RETURNING id`,
			tenantID, t.Name, string(t.Role), hash, t.CreatedBy, micros(t.CreatedAt), nullMicros(t.ExpiresAt), t.Sensitive).Scan(&t.ID)
		if err == sql.ErrNoRows {
			return tillit.Errorf(tillit.ENotFound, "there is no such tenant")
		}
		if err != nil {
			return err
		}
		return tx.record(ctx, tx.event(ctx, tenantID, "token.create", fmt.Sprintf("token:%d", t.ID), fields...))
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// tokenStepUp requires a step-up of people who create tokens (token
// creation is sensitive), and of anyone who creates a sensitive token: a
// token principal must itself be sensitive. The system (the operator CLI)
// is exempt.
func tokenStepUp(ctx context.Context, sensitive bool, now time.Time) error {
	p := tillit.PrincipalFromContext(ctx)
	if sensitive || p.Kind == tillit.KindUser || p.Kind == tillit.KindOperator {
		return tillit.RequireStepUp(ctx, now)
	}
	return nil
}

// tokenTenant returns the tenant a token call acts on: the principal's own,
// or the one an operator names.
func tokenTenant(ctx context.Context, operatorTenant int64, perm tillit.Permission) (int64, error) {
	if p := tillit.PrincipalFromContext(ctx); p != nil && (p.Kind == tillit.KindOperator || p.Kind == tillit.KindSystem) {
		if operatorTenant == 0 {
			return 0, tillit.FieldErrorf("tenant", "name the tenant")
		}
		return operatorTenant, nil
	}
	p, err := tillit.Authorize(ctx, perm)
	if err != nil {
		return 0, err
	}
	return p.TenantID, nil
}

func validateTokenCreate(ctx context.Context, c *tillit.TokenCreate) error {
	c.Name = strings.TrimSpace(c.Name)
	if err := tillit.ValidateName("name", c.Name); err != nil {
		return err
	}
	if _, err := tillit.ParseRole("role", string(c.Role)); err != nil {
		return err
	}
	if c.ExpiresInDays < 0 || c.ExpiresInDays > tillit.MaxTokenDays {
		return tillit.FieldErrorf("expires_in_days", "expires_in_days must be between 0 (never) and %d", tillit.MaxTokenDays)
	}
	if p := tillit.PrincipalFromContext(ctx); p.TenantID != 0 && !p.Role.Covers(c.Role) {
		return &tillit.Error{Code: tillit.EForbidden, Field: "role",
			Message: fmt.Sprintf("your role %s may not create a token with the role %s, which has permissions yours lacks", p.Role, c.Role)}
	}
	return nil
}

// newTokenSecret returns a new secret (TokenPrefix and 256 random bits) and
// the SHA-256 hash that is stored.
func newTokenSecret() (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	secret = tillit.TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret), nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

const tokenColumns = `id, tenant_id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at, sensitive`

func scanToken(s interface{ Scan(...any) error }) (*tillit.Token, error) {
	var t tillit.Token
	var role string
	var created int64
	var expires, revoked, used sql.NullInt64
	if err := s.Scan(&t.ID, &t.TenantID, &t.Name, &role, &t.CreatedBy, &created, &expires, &revoked, &used, &t.Sensitive); err != nil {
		return nil, err
	}
	t.Role, t.CreatedAt = tillit.Role(role), fromMicros(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = timePtr(expires), timePtr(revoked), timePtr(used)
	return &t, nil
}

// FindTokens lists the tokens of the principal's tenant (or tenantID, for
// an operator), newest first. Errors: EUnauthenticated, EForbidden.
func (s *TokenService) FindTokens(ctx context.Context, tenantID int64) ([]*tillit.Token, error) {
	tillit.Describe(ctx, "token.list", "")
	tenantID, err := tokenTenant(ctx, tenantID, tillit.PermTokenRead)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE tenant_id = $1 ORDER BY id DESC`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	tokens := []*tillit.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, translate(err)
		}
		tokens = append(tokens, t)
	}
	return tokens, translate(rows.Err())
}

// RevokeToken revokes a token of the principal's tenant (or of tenantID,
// for an operator). Revoking twice keeps the first time. Errors: ENotFound,
// EUnauthenticated, EForbidden.
func (s *TokenService) RevokeToken(ctx context.Context, tenantID, id int64) error {
	target := fmt.Sprintf("token:%d", id)
	tillit.Describe(ctx, "token.revoke", target, "revoked_at")
	tenantID, err := tokenTenant(ctx, tenantID, tillit.PermTokenWrite)
	if err != nil {
		return err
	}
	return s.db.withTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND tenant_id = $3`,
			micros(tx.now), id, tenantID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return tillit.Errorf(tillit.ENotFound, "there is no token %d in this tenant", id)
		}
		tx.onCommit = append(tx.onCommit, func() { s.db.tokenCache.forget(id) })
		return tx.record(ctx, tx.event(ctx, tenantID, "token.revoke", target, "revoked_at"))
	})
}

// AuthenticateToken returns the principal of a token secret. Errors:
// EUnauthenticated.
func (s *TokenService) AuthenticateToken(ctx context.Context, secret string) (*tillit.Principal, error) {
	refused := tillit.Errorf(tillit.EUnauthenticated, "the API token is unknown, expired or revoked")
	if !strings.HasPrefix(secret, tillit.TokenPrefix) || len(secret) > 100 {
		return nil, refused
	}
	hash := hashSecret(secret)
	now := s.db.now()
	if p := s.db.tokenCache.get(hash, now); p != nil {
		return p, nil
	}
	t, err := scanToken(s.db.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE secret_hash = $1`, hash))
	if err == sql.ErrNoRows {
		return nil, refused
	}
	if err != nil {
		return nil, translate(err)
	}
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, refused
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > lastUsedEvery {
		if _, err := s.db.write.ExecContext(ctx, `UPDATE tokens SET last_used_at = $1 WHERE id = $2`, micros(now), t.ID); err != nil {
			return nil, translate(err)
		}
	}
	p := &tillit.Principal{Kind: tillit.KindToken, ID: t.ID, TenantID: t.TenantID, Role: t.Role, Name: t.Name,
		Sensitive: t.Sensitive}
	until := now.Add(tokenCacheTTL)
	if t.ExpiresAt != nil && t.ExpiresAt.Before(until) {
		until = *t.ExpiresAt
	}
	s.db.tokenCache.put(hash, p, until)
	return p, nil
}

// tokenCacheTTL is how long an authenticated token is believed without
// asking the database again: a token revoked by this process stops at
// once, one revoked by another process (another node, the CLI) within
// this time.
const tokenCacheTTL = 2 * time.Second

// tokenCache keeps recently authenticated tokens by the hash of their
// secret, so that a busy integration does not cost a query per request.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	p     tillit.Principal
	until time.Time
}

// maxCachedTokens bounds the cache; past it, it starts again empty.
const maxCachedTokens = 10000

func (c *tokenCache) get(hash []byte, now time.Time) *tillit.Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(hash)]
	if !ok || !now.Before(e.until) {
		return nil
	}
	p := e.p
	return &p
}

func (c *tokenCache) put(hash []byte, p *tillit.Principal, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = map[string]cachedToken{}
	}
	c.m[string(hash)] = cachedToken{p: *p, until: until}
}

// forget drops a token from the cache.
func (c *tokenCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.p.ID == id {
			delete(c.m, h)
		}
	}
}
