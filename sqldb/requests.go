package sqldb

import (
	"context"

	"tillit"
)

func (s *PeopleService) CreateRequest(ctx context.Context, r *tillit.SubjectRequest) error {
	return errNotBuilt
}

func (s *PeopleService) FindRequests(ctx context.Context, f tillit.RequestFilter) (*tillit.RequestPage, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) FindRequestByID(ctx context.Context, id int64) (*tillit.SubjectRequest, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) UpdateRequest(ctx context.Context, id int64, u tillit.RequestUpdate) (*tillit.SubjectRequest, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) RequestReport(ctx context.Context, id int64) (*tillit.PersonReport, error) {
	return nil, errNotBuilt
}
