package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"tillit"
	"tillit/keyring"
)

// UpdateRequest implements tillit.RequestService. A request moves forward
// only (it may skip steps); completed and refused are final. Completing an
// access or export request attaches the person's report, sealed under the
// person's key. Errors: EInvalid (a step back or out of a final status,
// refusing without a reason, a second or late extension, completing an
// access or export request without a person or before its identity was
// verified), ENotFound (the request or
// the person), EConflict (the request changed while its report was made),
// EForbidden.
func (s *PeopleService) UpdateRequest(ctx context.Context, id int64, u tillit.RequestUpdate) (*tillit.SubjectRequest, error) {
	target := requestTarget(id)
	tillit.Describe(ctx, "request.update", target, updateNames(u)...)
	pr, err := tillit.Authorize(ctx, tillit.PermRequestWrite)
	if err != nil {
		return nil, err
	}
	if err := checkRequestUpdate(&u); err != nil {
		return nil, err
	}
	rep, err := s.reportFor(ctx, pr.TenantID, id, u)
	if err != nil {
		return nil, err
	}
	var out *tillit.SubjectRequest
	err = s.db.withTx(ctx, func(tx *Tx) error {
		if err := tx.lockRow(ctx, "requests", "id = $1 AND tenant_id = $2", id, pr.TenantID); err != nil {
			return err
		}
		r, sec, err := s.readRequest(ctx, tx, pr.TenantID, id, tx.now)
		if err != nil {
			return err
		}
		changed, err := applyUpdate(r, &sec, u, tx.now)
		if err != nil {
			return err
		}
		sec.apply(r)
		if slices.Contains(changed, "person_id") {
			if err := personExists(ctx, tx, pr.TenantID, *r.PersonID); err != nil {
				return err
			}
		}
		var sealedReport any // NULL keeps the column as it is
		if slices.Contains(changed, "status") && r.Status == tillit.StatusCompleted && needsReport(r.Type) {
			b, err := s.sealReport(ctx, pr.TenantID, r, rep)
			if err != nil {
				return err
			}
			sealedReport, r.HasReport = b, true
			changed = append(changed, "report")
		}
		out = r
		if len(changed) == 0 {
			return nil
		}
		pk, err := s.keys.PersonKey(ctx, pr.TenantID, id)
		if err != nil {
			return requestKeyError(id, err)
		}
		sealed, err := sealSecrets(pk, sec)
		if err != nil {
			return tillit.Internal(err)
		}
		r.UpdatedAt = tx.now
		r.Overdue = isOpen(r.Status) && tx.now.After(r.DueAt)
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET person_id = $1, status = $2, due_at = $3, extended_at = $4,
			completed_at = $5, sealed = $6, report = COALESCE($7, report), updated_at = $8 WHERE id = $9 AND tenant_id = $10`,
			r.PersonID, string(r.Status), micros(r.DueAt), nullMicros(r.ExtendedAt), nullMicros(r.CompletedAt), sealed,
			sealedReport, micros(tx.now), id, pr.TenantID); err != nil {
			return err
		}
		e := tx.event(ctx, pr.TenantID, "request.update", target, changed...)
		if sealedReport == nil {
			return tx.record(ctx, e)
		}
		// The report read all of the person's data: their access history
		// shows it, with the request it answered.
		return tx.recordWith(ctx, e, tx.event(ctx, pr.TenantID, "person.report", personTarget(*r.PersonID), target))
	})
	return out, err
}

// updateNames names the fields an update asks to change, for the audit
// log.
func updateNames(u tillit.RequestUpdate) []string {
	var names []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"note", u.Note != nil}, {"person_id", u.PersonID != nil}, {"due_at", u.ExtendMonths != nil},
		{"extension_reason", u.ExtensionReason != nil}, {"status", u.Status != nil}, {"refusal_reason", u.Reason != nil}} {
		if f.set {
			names = append(names, f.name)
		}
	}
	return names
}

// checkRequestUpdate validates an update on its own, trimming its texts.
func checkRequestUpdate(u *tillit.RequestUpdate) error {
	if u.Status != nil {
		if err := checkStatus(*u.Status); err != nil {
			return err
		}
	}
	if u.Status != nil && *u.Status == tillit.StatusRefused {
		reason, err := checkReason("reason", u.Reason, "the request is refused (the person is told)")
		if err != nil {
			return err
		}
		u.Reason = &reason
	} else if u.Reason != nil {
		return tillit.FieldErrorf("reason", "reason is the reason of a refusal: send it with status refused")
	}
	if u.ExtendMonths != nil {
		if m := *u.ExtendMonths; m != 1 && m != 2 {
			return tillit.FieldErrorf("extend_months", "extend_months must be 1 or 2: a deadline may be extended by up to two months")
		}
		reason, err := checkReason("extension_reason", u.ExtensionReason, "the deadline is extended (the person is told)")
		if err != nil {
			return err
		}
		u.ExtensionReason = &reason
	} else if u.ExtensionReason != nil {
		return tillit.FieldErrorf("extension_reason", "extension_reason goes with extend_months")
	}
	if u.Note != nil {
		note := strings.TrimSpace(*u.Note)
		if err := checkFreeText("note", note, maxRequestNote); err != nil {
			return err
		}
		u.Note = &note
	}
	if u.PersonID != nil && *u.PersonID <= 0 {
		return tillit.FieldErrorf("person_id", "person_id must be the id of a person in your register")
	}
	return nil
}

// applyUpdate applies u to r and its secrets at now and names what
// changed.
func applyUpdate(r *tillit.SubjectRequest, sec *requestSecrets, u tillit.RequestUpdate, now time.Time) ([]string, error) {
	var changed []string
	open := isOpen(r.Status)
	if u.Note != nil && *u.Note != sec.Note {
		sec.Note = *u.Note
		changed = append(changed, "note")
	}
	if u.PersonID != nil && (r.PersonID == nil || *r.PersonID != *u.PersonID) {
		if !open {
			return nil, tillit.FieldErrorf("person_id", "the request is %s; the person of a closed request cannot change", r.Status)
		}
		pid := *u.PersonID
		r.PersonID = &pid
		changed = append(changed, "person_id")
	}
	if u.ExtendMonths != nil {
		switch {
		case !open:
			return nil, tillit.FieldErrorf("extend_months", "the request is %s; only an open request can be extended", r.Status)
		case r.ExtendedAt != nil:
			return nil, tillit.FieldErrorf("extend_months", "the deadline was extended already, on %s; it may be extended only once (GDPR Art. 12(3))",
				r.ExtendedAt.Format(time.DateOnly))
		case now.After(r.DueAt):
			return nil, tillit.FieldErrorf("extend_months", "the deadline (%s) has passed; an extension must be decided, and the person told, within the first month",
				r.DueAt.Format(time.DateOnly))
		}
		r.DueAt = tillit.AddMonths(r.ReceivedAt, 1+*u.ExtendMonths)
		at := now
		r.ExtendedAt = &at
		sec.ExtensionReason = *u.ExtensionReason
		changed = append(changed, "due_at", "extension_reason")
	}
	if u.Status == nil || (*u.Status == r.Status && open) {
		return changed, nil
	}
	to := *u.Status
	switch {
	case !open:
		return nil, tillit.FieldErrorf("status", "the request is %s, which is final", r.Status)
	case to != tillit.StatusRefused && statusStep[to] < statusStep[r.Status]:
		return nil, tillit.FieldErrorf("status", "a request moves forward only (received → identity_verified → in_progress → completed); it is %s already", r.Status)
	}
	if to == tillit.StatusCompleted && needsReport(r.Type) && r.Status == tillit.StatusReceived {
		// Completing seals the person's whole register extract into the
		// request: it goes to no one whose identity was not checked.
		return nil, tillit.FieldErrorf("status", "the identity of the person must be verified first: set the status to identity_verified before completing an %s request (GDPR Art. 12(6))", r.Type)
	}
	r.Status = to
	changed = append(changed, "status")
	if to == tillit.StatusRefused {
		sec.RefusalReason = *u.Reason
		changed = append(changed, "refusal_reason")
	}
	if !isOpen(to) {
		at := now
		r.CompletedAt = &at
	}
	return changed, nil
}

// madeReport is a person's report made for a request, in JSON.
type madeReport struct {
	personID int64
	json     []byte
}

// reportFor makes the report that completing request id with u attaches:
// nil unless u completes an open access or export request with a person.
// It is made before the transaction, which it would hold for long.
func (s *PeopleService) reportFor(ctx context.Context, tenantID, id int64, u tillit.RequestUpdate) (*madeReport, error) {
	if u.Status == nil || *u.Status != tillit.StatusCompleted {
		return nil, nil
	}
	r, _, err := s.readRequest(ctx, s.db.read, tenantID, id, s.db.now())
	if err != nil {
		return nil, err
	}
	pid := r.PersonID
	if u.PersonID != nil {
		pid = u.PersonID
	}
	if !needsReport(r.Type) || !isOpen(r.Status) || r.Status == tillit.StatusReceived || pid == nil {
		return nil, nil // nothing to attach, or the transaction refuses the step
	}
	// The report describes the request's event as its own, and may add
	// events of its own reads: the transaction records what happened.
	req := tillit.RequestFromContext(ctx)
	var saved tillit.Event
	var also int
	if req != nil {
		saved, also = req.Event, len(req.Also)
	}
	rep, err := s.PersonReport(ctx, *pid)
	if req != nil {
		req.Event, req.Also = saved, req.Also[:also]
	}
	if tillit.ErrorCode(err) == tillit.ENotFound {
		return nil, &tillit.Error{Code: tillit.ENotFound, Field: "person_id", Message: "person_id names no person in your register"}
	}
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, tillit.Internal(err)
	}
	return &madeReport{personID: *pid, json: b}, nil
}

// sealReport seals the report made for r under its person's key.
func (s *PeopleService) sealReport(ctx context.Context, tenantID int64, r *tillit.SubjectRequest, rep *madeReport) ([]byte, error) {
	if r.PersonID == nil {
		return nil, tillit.FieldErrorf("person_id", "completing an %s request attaches the person's report: set person_id first, or with the status", r.Type)
	}
	if rep == nil || rep.personID != *r.PersonID {
		return nil, tillit.Errorf(tillit.EConflict, "the request changed while its report was made; try again")
	}
	pk, err := s.keys.PersonKey(ctx, tenantID, *r.PersonID)
	if errors.Is(err, keyring.ErrNoKey) {
		return nil, &tillit.Error{Code: tillit.ENotFound, Field: "person_id", Message: "person_id names no person in your register"}
	}
	if err != nil {
		return nil, keyError(err)
	}
	return pk.Seal(reportPlace(r.ID), rep.json), nil
}
