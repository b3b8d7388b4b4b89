package sqldb

import (
	"context"
	"errors"

	"tillit"
	"tillit/auditlog"
)

// TenantService implements tillit.TenantService.
type TenantService struct{ db *DB }

// NewTenantService returns the tenant service of db.
func NewTenantService(db *DB) *TenantService { return &TenantService{db: db} }

var _ tillit.TenantService = (*TenantService)(nil)

func (s *TenantService) CreateTenant(ctx context.Context, t *tillit.Tenant) error {
	return errors.New("TODO")
}
func (s *TenantService) FindTenants(ctx context.Context) ([]*tillit.Tenant, error) {
	return nil, errors.New("TODO")
}
func (s *TenantService) FindTenantBySlug(ctx context.Context, slug string) (*tillit.Tenant, error) {
	return nil, errors.New("TODO")
}
func (s *TenantService) CurrentTenant(ctx context.Context) (*tillit.Tenant, error) {
	return nil, errors.New("TODO")
}

// TokenService implements tillit.TokenService.
type TokenService struct{ db *DB }

// NewTokenService returns the token service of db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

var _ tillit.TokenService = (*TokenService)(nil)

func (s *TokenService) CreateToken(ctx context.Context, c tillit.TokenCreate) (*tillit.Token, string, error) {
	return nil, "", errors.New("TODO")
}
func (s *TokenService) FindTokens(ctx context.Context, tenantID int64) ([]*tillit.Token, error) {
	return nil, errors.New("TODO")
}
func (s *TokenService) RevokeToken(ctx context.Context, id int64) error { return errors.New("TODO") }
func (s *TokenService) AuthenticateToken(ctx context.Context, secret string) (*tillit.Principal, error) {
	return nil, errors.New("TODO")
}

// AuditService implements tillit.AuditService.
type AuditService struct{ db *DB }

// NewAuditService returns the audit service of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

var _ tillit.AuditService = (*AuditService)(nil)

func (s *AuditService) FindEvents(ctx context.Context, f tillit.EventFilter) ([]*tillit.Event, error) {
	return nil, errors.New("TODO")
}
func (s *AuditService) LatestCheckpoint(ctx context.Context) (*tillit.Checkpoint, error) {
	return nil, errors.New("TODO")
}
func (s *AuditService) ProveInclusion(ctx context.Context, index int64) (*tillit.InclusionProof, *tillit.Checkpoint, error) {
	return nil, nil, errors.New("TODO")
}

// WriteCheckpoints signs and stores a checkpoint for every log that grew
// since its last one, and returns how many it wrote.
func (db *DB) WriteCheckpoints(ctx context.Context, s *auditlog.Signer) (int, error) {
	return 0, errors.New("TODO")
}

// VerifyAudit recomputes every log (or only log, if not nil) from its
// stored events and checks every checkpoint against the verifier key.
// A *auditlog.Failure names the first bad event.
func (db *DB) VerifyAudit(ctx context.Context, log *int64, verifierKey string) (*auditlog.Report, error) {
	return nil, errors.New("TODO")
}
