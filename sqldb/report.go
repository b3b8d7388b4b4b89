package sqldb

import (
	"context"

	"tillit"
)

func (s *PeopleService) PersonReport(ctx context.Context, id int64) (*tillit.PersonReport, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) Purposes(ctx context.Context) ([]tillit.Purpose, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) SetPurposes(ctx context.Context, list []tillit.Purpose) ([]tillit.Purpose, error) {
	return nil, errNotBuilt
}
