package sqldb

import (
	"context"
	"time"

	"tillit"
)

// errNotBuilt is returned by the parts of issue 5 not built yet.
// TODO(issue 5): remove once every service below is built.
var errNotBuilt = tillit.Errorf(tillit.EUnavailable, "not built yet")

// eraseIDs erases the people of tenantID with the given ids: for each, the
// key first, then the rows, records and blind-index entries, in batches;
// people under an active legal hold are skipped (Held), unknown ids are
// NotFound. It signs a receipt per person and records an audit event per
// person. It does not authorize: ErasePeople, DecideRetention and the
// retention job do, each in its own way.
func (s *PeopleService) eraseIDs(ctx context.Context, tenantID int64, ids []int64, progress func(done int)) (*tillit.BulkErasure, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) ErasePerson(ctx context.Context, id int64) (*tillit.Receipt, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) ErasePeople(ctx context.Context, ids []int64, progress func(done int)) (*tillit.BulkErasure, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) AnonymisePerson(ctx context.Context, id int64) (*tillit.Receipt, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) SetHold(ctx context.Context, id int64, reason string, until *time.Time) (*tillit.Hold, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) ReleaseHold(ctx context.Context, id int64) error { return errNotBuilt }

func (s *PeopleService) Restrict(ctx context.Context, id int64, reason string) (*tillit.Restriction, error) {
	return nil, errNotBuilt
}

func (s *PeopleService) LiftRestriction(ctx context.Context, id int64) error { return errNotBuilt }
