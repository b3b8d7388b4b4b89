package sqldb

import (
	"context"

	"tillit"
)

func (s *PeopleService) RetentionPolicy(ctx context.Context) (*tillit.RetentionPolicy, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) SetRetentionPolicy(ctx context.Context, p *tillit.RetentionPolicy, dryRun bool) (*tillit.RetentionPreview, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) FlaggedPeople(ctx context.Context, cursor string, limit int) ([]*tillit.FlaggedPerson, string, error) {
	return nil, "", errNotBuilt
}

func (s *PeopleService) DecideRetention(ctx context.Context, d tillit.RetentionDecision) (*tillit.RetentionDecisionResult, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) RunRetention(ctx context.Context, tenant string, progress func(tenant string, erased int)) ([]*tillit.RetentionRun, error) {
	return nil, errNotBuilt
}
