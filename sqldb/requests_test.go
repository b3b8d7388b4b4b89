package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// mustRequest creates a request as the caseworker.
func (e *regEnv) mustRequest(r *tillit.SubjectRequest) *tillit.SubjectRequest {
	e.t.Helper()
	if err := e.svc.CreateRequest(e.cw, r); err != nil {
		e.t.Fatalf("create request %s: %v", r.Type, err)
	}
	if r.ID == 0 {
		e.t.Fatal("created a request without an id")
	}
	return r
}

// mustUpdateRequest updates a request as the caseworker.
func (e *regEnv) mustUpdateRequest(id int64, u tillit.RequestUpdate) *tillit.SubjectRequest {
	e.t.Helper()
	r, err := e.svc.UpdateRequest(e.cw, id, u)
	if err != nil {
		e.t.Fatalf("update request %d: %v", id, err)
	}
	return r
}

func reqPtr[T any](v T) *T { return &v }

func reqStatus(s tillit.RequestStatus) *tillit.RequestStatus { return &s }

// reqIDs returns the ids of requests, in order.
func reqIDs(list []*tillit.SubjectRequest) []int64 {
	out := make([]int64, len(list))
	for i, r := range list {
		out[i] = r.ID
	}
	return out
}

func TestRequestDeadline(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		now := e.clock.Now()
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", FamilyName: "Nordmann"})

		received := now.Add(-50 * time.Hour)
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, PersonID: &p.ID, Channel: "letter",
			ReceivedAt: received, Note: "  Wants to know what we hold.\nSent by post.  "})
		if r.Status != tillit.StatusReceived || !r.DueAt.Equal(received.AddDate(0, 1, 0)) || r.Overdue || r.HasReport {
			t.Fatalf("created %+v: want received, due one month after receipt", r)
		}
		got, err := e.svc.FindRequestByID(e.reader, r.ID)
		if tillit.ErrorCode(err) != tillit.EForbidden {
			t.Fatalf("a reader read a request: %v", err)
		}
		got, err = e.svc.FindRequestByID(e.cw, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Note != "Wants to know what we hold.\nSent by post." || *got.PersonID != p.ID || got.Channel != "letter" ||
			!got.ReceivedAt.Equal(received) || !got.DueAt.Equal(r.DueAt) || got.Type != tillit.RequestAccess {
			t.Fatalf("read back %+v, want %+v", got, r)
		}

		// One month from 31 October is 30 November, not 1 December.
		end := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestErasure, Channel: "email",
			ReceivedAt: time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)})
		if want := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC); !end.DueAt.Equal(want) {
			t.Errorf("received 31 October: due %s, want %s", end.DueAt, want)
		}
		// Half a minute ahead is clock skew, not the future.
		e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestObjection, Channel: "web", ReceivedAt: now.Add(30 * time.Second)})

		other := sqldbtest.MustTenant(t, e.db, "other")
		_, _, otherCW := sqldbtest.MustToken(t, e.db, other, tillit.RoleCaseworker)
		stranger := &tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now}
		if err := e.svc.CreateRequest(otherCW, stranger); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindRequestByID(e.cw, stranger.ID); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Errorf("read another tenant's request: %v", err)
		}

		for _, tt := range []struct {
			name  string
			r     tillit.SubjectRequest
			code  string
			field string
		}{
			{"unknown type", tillit.SubjectRequest{Type: "complaint", Channel: "email", ReceivedAt: now}, tillit.EInvalid, "type"},
			{"no type", tillit.SubjectRequest{Channel: "email", ReceivedAt: now}, tillit.EInvalid, "type"},
			{"unknown channel", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "pigeon", ReceivedAt: now}, tillit.EInvalid, "channel"},
			{"no received_at", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email"}, tillit.EInvalid, "received_at"},
			{"future", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now.Add(2 * time.Minute)}, tillit.EInvalid, "received_at"},
			{"over a year ago", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now.AddDate(-1, 0, -1)}, tillit.EInvalid, "received_at"},
			{"long note", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now, Note: strings.Repeat("å", 5001)}, tillit.EInvalid, "note"},
			{"control in note", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now, Note: "a\x00b"}, tillit.EInvalid, "note"},
			{"bad person id", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now, PersonID: reqPtr(int64(-1))}, tillit.EInvalid, "person_id"},
			{"no such person", tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now, PersonID: reqPtr(p.ID + 1)}, tillit.ENotFound, "person_id"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := tt.r
				wantErr(t, e.svc.CreateRequest(e.cw, &r), tt.code, tt.field)
				if r.ID != 0 {
					t.Errorf("a refused request kept id %d", r.ID)
				}
			})
		}
		// A person of another tenant is no person of this one.
		otherP := &tillit.Person{GivenName: "Ola"}
		if err := e.svc.CreatePerson(otherCW, otherP); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.svc.CreateRequest(e.cw, &tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email",
			ReceivedAt: now, PersonID: &otherP.ID}), tillit.ENotFound, "person_id")
		// Refused requests left neither rows nor keys behind.
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM requests WHERE tenant_id = $1`, e.tenant.ID); n != 3 {
			t.Errorf("%d requests stored, want 3", n)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys WHERE tenant_id = $1`, e.tenant.ID); n != 4 {
			t.Errorf("%d keys stored, want 4 (a person and three requests)", n)
		}
	})
}

func TestRequestExtension(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		received := e.clock.Now().AddDate(0, 0, -10)
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestExport, Channel: "email", ReceivedAt: received})

		for _, tt := range []struct {
			name  string
			u     tillit.RequestUpdate
			field string
		}{
			{"three months", tillit.RequestUpdate{ExtendMonths: reqPtr(3), ExtensionReason: reqPtr("many records")}, "extend_months"},
			{"zero months", tillit.RequestUpdate{ExtendMonths: reqPtr(0), ExtensionReason: reqPtr("many records")}, "extend_months"},
			{"no reason", tillit.RequestUpdate{ExtendMonths: reqPtr(2)}, "extension_reason"},
			{"blank reason", tillit.RequestUpdate{ExtendMonths: reqPtr(2), ExtensionReason: reqPtr("  ")}, "extension_reason"},
			{"long reason", tillit.RequestUpdate{ExtendMonths: reqPtr(2), ExtensionReason: reqPtr(strings.Repeat("x", tillit.MaxReason+1))}, "extension_reason"},
			{"reason alone", tillit.RequestUpdate{ExtensionReason: reqPtr("many records")}, "extension_reason"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.UpdateRequest(e.cw, r.ID, tt.u)
				wantErr(t, err, tillit.EInvalid, tt.field)
			})
		}
		got := e.mustUpdateRequest(r.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(2), ExtensionReason: reqPtr(" Complex: records in three systems. ")})
		if !got.DueAt.Equal(received.AddDate(0, 3, 0)) || got.ExtendedAt == nil || !got.ExtendedAt.Equal(e.clock.Now()) ||
			got.ExtensionReason != "Complex: records in three systems." {
			t.Fatalf("extended by two months: %+v", got)
		}
		again, err := e.svc.FindRequestByID(e.cw, r.ID)
		if err != nil || !again.DueAt.Equal(got.DueAt) || again.ExtensionReason != got.ExtensionReason || again.ExtendedAt == nil {
			t.Fatalf("read back %+v, %v", again, err)
		}
		_, err = e.svc.UpdateRequest(e.cw, r.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(1), ExtensionReason: reqPtr("still more")})
		wantErr(t, err, tillit.EInvalid, "extend_months")
		if again, _ := e.svc.FindRequestByID(e.cw, r.ID); !again.DueAt.Equal(got.DueAt) {
			t.Errorf("a refused second extension moved the deadline to %s", again.DueAt)
		}

		// A deadline that has passed can no longer be extended.
		late := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "phone", ReceivedAt: e.clock.Now().AddDate(0, 0, -40)})
		if !late.Overdue {
			t.Errorf("received 40 days ago and not overdue: %+v", late)
		}
		_, err = e.svc.UpdateRequest(e.cw, late.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(1), ExtensionReason: reqPtr("forgot")})
		wantErr(t, err, tillit.EInvalid, "extend_months")
		// Nor can a closed request.
		closed := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestObjection, Channel: "web", ReceivedAt: e.clock.Now()})
		e.mustUpdateRequest(closed.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)})
		_, err = e.svc.UpdateRequest(e.cw, closed.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(1), ExtensionReason: reqPtr("why not")})
		wantErr(t, err, tillit.EInvalid, "extend_months")
	})
}

func TestRequestDueLists(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		now := e.clock.Now()
		at := func(days int) time.Time { return now.AddDate(0, 0, -days) }
		overdue := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: at(40)})
		soon := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestErasure, Channel: "email", ReceivedAt: at(26)})
		later := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestRestriction, Channel: "email", ReceivedAt: at(1)})
		done := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestObjection, Channel: "email", ReceivedAt: at(45)})
		e.mustUpdateRequest(done.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)})
		soon2 := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestRectification, Channel: "email", ReceivedAt: at(29)})

		list := func(f tillit.RequestFilter) []*tillit.SubjectRequest {
			t.Helper()
			page, err := e.svc.FindRequests(e.cw, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			return page.Requests
		}
		check := func(name string, f tillit.RequestFilter, want ...*tillit.SubjectRequest) []*tillit.SubjectRequest {
			t.Helper()
			got := list(f)
			if g, w := reqIDs(got), reqIDs(want); !slices.Equal(g, w) {
				t.Errorf("%s: got %v, want %v", name, g, w)
			}
			return got
		}
		all := check("all, by deadline", tillit.RequestFilter{}, done, overdue, soon2, soon, later)
		for _, r := range all {
			if want := r.ID == overdue.ID; r.Overdue != want {
				t.Errorf("request %d (%s): overdue %v, want %v", r.ID, r.Type, r.Overdue, want)
			}
		}
		check("overdue", tillit.RequestFilter{Due: tillit.DueOverdue}, overdue)
		check("soon", tillit.RequestFilter{Due: tillit.DueSoon}, soon2, soon)
		check("open", tillit.RequestFilter{Open: true}, overdue, soon2, soon, later)
		check("completed", tillit.RequestFilter{Status: tillit.StatusCompleted}, done)
		check("received", tillit.RequestFilter{Status: tillit.StatusReceived, Due: tillit.DueSoon}, soon2, soon)

		// Six days on, the first of the soon ones is overdue.
		e.clock.Add(6 * 24 * time.Hour)
		check("overdue later", tillit.RequestFilter{Due: tillit.DueOverdue}, overdue, soon2, soon)
		check("soon later", tillit.RequestFilter{Due: tillit.DueSoon})
		// An extension takes a request off the overdue list.
		e.clock.Add(-6 * 24 * time.Hour)
		e.mustUpdateRequest(soon.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(1), ExtensionReason: reqPtr("complex")})
		check("soon after extension", tillit.RequestFilter{Due: tillit.DueSoon}, soon2)

		// Pages of one follow the same order.
		var paged []*tillit.SubjectRequest
		f := tillit.RequestFilter{Limit: 1}
		for i := 0; i < 10; i++ {
			page, err := e.svc.FindRequests(e.cw, f)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page.Requests...)
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		if g, w := reqIDs(paged), reqIDs(list(tillit.RequestFilter{})); !slices.Equal(g, w) || len(g) != 5 {
			t.Errorf("paged %v, want %v", g, w)
		}

		for _, tt := range []struct {
			f     tillit.RequestFilter
			field string
		}{
			{tillit.RequestFilter{Due: "tomorrow"}, "due"},
			{tillit.RequestFilter{Status: "lost"}, "status"},
			{tillit.RequestFilter{Cursor: "x"}, "cursor"},
			{tillit.RequestFilter{Cursor: "12345"}, "cursor"},
			{tillit.RequestFilter{Limit: 1001}, "limit"},
			{tillit.RequestFilter{Limit: -1}, "limit"},
		} {
			_, err := e.svc.FindRequests(e.cw, tt.f)
			wantErr(t, err, tillit.EInvalid, tt.field)
		}
		if _, err := e.svc.FindRequests(e.auditor, tillit.RequestFilter{}); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("an auditor listed requests: %v", err)
		}
		if _, err := e.svc.FindRequests(e.reader, tillit.RequestFilter{}); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("a reader listed requests: %v", err)
		}
	})
}

func TestRequestTransitions(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		now := e.clock.Now()
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestRectification, Channel: "in_person", ReceivedAt: now})
		step := func(st tillit.RequestStatus) error {
			_, err := e.svc.UpdateRequest(e.cw, r.ID, tillit.RequestUpdate{Status: &st})
			return err
		}
		if got := e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusIdentityVerified)}); got.Status != tillit.StatusIdentityVerified || got.CompletedAt != nil {
			t.Fatalf("verified: %+v", got)
		}
		// Forward, skipping a step, is allowed; back is not.
		if err := step(tillit.StatusInProgress); err != nil {
			t.Fatal(err)
		}
		wantErr(t, step(tillit.StatusIdentityVerified), tillit.EInvalid, "status")
		wantErr(t, step(tillit.StatusReceived), tillit.EInvalid, "status")
		wantErr(t, step("lost"), tillit.EInvalid, "status")
		if err := step(tillit.StatusInProgress); err != nil {
			t.Errorf("the same open status again: %v", err)
		}
		// Refusing needs a reason, and a reason needs a refusal.
		wantErr(t, step(tillit.StatusRefused), tillit.EInvalid, "reason")
		_, err := e.svc.UpdateRequest(e.cw, r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr(" ")})
		wantErr(t, err, tillit.EInvalid, "reason")
		_, err = e.svc.UpdateRequest(e.cw, r.ID, tillit.RequestUpdate{Reason: reqPtr("manifestly unfounded")})
		wantErr(t, err, tillit.EInvalid, "reason")
		e.clock.Add(time.Hour)
		got := e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr("Manifestly unfounded: the fifth identical request this month.")})
		if got.Status != tillit.StatusRefused || got.RefusalReason != "Manifestly unfounded: the fifth identical request this month." ||
			got.CompletedAt == nil || !got.CompletedAt.Equal(e.clock.Now()) || got.Overdue {
			t.Fatalf("refused: %+v", got)
		}
		// Refused is final; the note may still be kept up to date.
		for _, st := range []tillit.RequestStatus{tillit.StatusCompleted, tillit.StatusInProgress} {
			wantErr(t, step(st), tillit.EInvalid, "status")
		}
		_, err = e.svc.UpdateRequest(e.cw, r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr("another")})
		wantErr(t, err, tillit.EInvalid, "status")
		p := e.mustCreate(&tillit.Person{GivenName: "Kari"})
		_, err = e.svc.UpdateRequest(e.cw, r.ID, tillit.RequestUpdate{PersonID: &p.ID})
		wantErr(t, err, tillit.EInvalid, "person_id")
		got = e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Note: reqPtr("Told by letter.")})
		if got.Note != "Told by letter." || got.Status != tillit.StatusRefused || got.RefusalReason == "" {
			t.Fatalf("note on a refused request: %+v", got)
		}

		// Completed is final too; an erasure request completes without a report.
		c := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestErasure, Channel: "email", ReceivedAt: now})
		got = e.mustUpdateRequest(c.ID, tillit.RequestUpdate{PersonID: &p.ID})
		if got.PersonID == nil || *got.PersonID != p.ID {
			t.Fatalf("person set: %+v", got)
		}
		_, err = e.svc.UpdateRequest(e.cw, c.ID, tillit.RequestUpdate{PersonID: reqPtr(p.ID + 1)})
		wantErr(t, err, tillit.ENotFound, "person_id")
		got = e.mustUpdateRequest(c.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)})
		if got.Status != tillit.StatusCompleted || got.CompletedAt == nil || got.HasReport {
			t.Fatalf("completed: %+v", got)
		}
		_, err = e.svc.UpdateRequest(e.cw, c.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr("late")})
		wantErr(t, err, tillit.EInvalid, "status")

		// An access request cannot complete without its person.
		a := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now})
		e.mustUpdateRequest(a.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusIdentityVerified)})
		_, err = e.svc.UpdateRequest(e.cw, a.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)})
		wantErr(t, err, tillit.EInvalid, "person_id")

		// Nor, with its person, before the person's identity was verified:
		// completing seals their whole register extract into it. Access
		// and export alike; refusing stays open from any status.
		for _, typ := range []tillit.RequestType{tillit.RequestAccess, tillit.RequestExport} {
			u := e.mustRequest(&tillit.SubjectRequest{Type: typ, PersonID: &p.ID, Channel: "email", ReceivedAt: now})
			_, err = e.svc.UpdateRequest(e.cw, u.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)})
			wantErr(t, err, tillit.EInvalid, "status")
			if again, err := e.svc.FindRequestByID(e.cw, u.ID); err != nil || again.Status != tillit.StatusReceived || again.HasReport {
				t.Fatalf("unverified %s request after the refused completion: %+v %v", typ, again, err)
			}
			got = e.mustUpdateRequest(u.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr("not the person")})
			if got.Status != tillit.StatusRefused {
				t.Fatalf("refused from received: %+v", got)
			}
		}
		ip := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, PersonID: &p.ID, Channel: "email", ReceivedAt: now})
		e.mustUpdateRequest(ip.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusInProgress)})
		if got = e.mustUpdateRequest(ip.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)}); !got.HasReport {
			t.Fatalf("completed from in_progress without a report: %+v", got)
		}

		if _, err := e.svc.UpdateRequest(e.cw, r.ID+12345, tillit.RequestUpdate{Note: reqPtr("x")}); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Errorf("update of no request: %v", err)
		}
		if _, err := e.svc.UpdateRequest(e.reader, a.ID, tillit.RequestUpdate{Note: reqPtr("x")}); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("a reader updated a request: %v", err)
		}
		if err := e.svc.CreateRequest(e.reader, &tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now}); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("a reader created a request: %v", err)
		}
		if err := e.svc.CreateRequest(e.auditor, &tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: now}); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("an auditor created a request: %v", err)
		}
		if _, err := e.svc.FindRequestByID(e.auditor, a.ID); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("an auditor read a request: %v", err)
		}
	})
}

// TestRequestReportAttached completes an access request: the person's
// report is attached, sealed under the person's key, and is gone with it.
func TestRequestReportAttached(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Zebulon", FamilyName: "Quixotesson"})
		e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Samtale om zebrafeberen"})
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "email", ReceivedAt: e.clock.Now()})
		if _, err := e.svc.RequestReport(e.cw, r.ID); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Fatalf("report of an open request: %v", err)
		}
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusIdentityVerified)})

		ctx, req := e.withRequest(e.cw)
		got, err := e.svc.UpdateRequest(ctx, r.ID, tillit.RequestUpdate{PersonID: &p.ID, Status: reqStatus(tillit.StatusCompleted)})
		if err != nil {
			t.Fatal(err)
		}
		if !got.HasReport || got.Status != tillit.StatusCompleted {
			t.Fatalf("completed: %+v", got)
		}
		if !req.Recorded || req.Event.Action != "request.update" || req.Event.Target != reqTarget(r.ID) ||
			!sameSet(req.Event.Fields, []string{"person_id", "status", "report"}) {
			t.Errorf("the request's event: %+v", req.Event)
		}
		if evs := e.eventsOf("person.report", personTarget(p.ID)); len(evs) != 1 || !slices.Equal(evs[0].Fields, []string{reqTarget(r.ID)}) {
			t.Errorf("the person's history of reports: %+v", evs)
		}
		if again, _ := e.svc.FindRequestByID(e.cw, r.ID); !again.HasReport {
			t.Errorf("read back without its report: %+v", again)
		}

		rep, err := e.svc.RequestReport(e.cw, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Person == nil || rep.Person.ID != p.ID || rep.Person.FamilyName != "Quixotesson" || len(rep.Records) != 1 ||
			rep.Records[0].Title != "Samtale om zebrafeberen" {
			t.Fatalf("attached report: %+v", rep)
		}
		if _, err := e.svc.RequestReport(e.auditor, r.ID); tillit.ErrorCode(err) != tillit.EForbidden {
			t.Errorf("an auditor read a report: %v", err)
		}
		var raw []byte
		if err := e.rawData().QueryRow(`SELECT report FROM requests WHERE id = $1`, r.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, []byte("Quixotesson")) || bytes.Contains(raw, []byte("zebrafeber")) {
			t.Fatalf("the stored report (%d bytes) is not sealed", len(raw))
		}

		// Erasing the person (their key first) leaves the report unreadable;
		// the request stays as evidence.
		if _, err := e.kr.DestroyPersonKeys(context.Background(), e.tenant.ID, []int64{p.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RequestReport(e.cw, r.ID); tillit.ErrorCode(err) != tillit.ENotFound {
			t.Errorf("report after erasure: %v", err)
		}
		if again, err := e.svc.FindRequestByID(e.cw, r.ID); err != nil || again.Status != tillit.StatusCompleted {
			t.Errorf("request after erasure: %+v, %v", again, err)
		}

		// An export request of an erased person cannot complete.
		x := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestExport, PersonID: &p.ID, Channel: "email", ReceivedAt: e.clock.Now()})
		e.mustUpdateRequest(x.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusIdentityVerified)})
		_, err = e.svc.UpdateRequest(e.cw, x.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusCompleted)})
		if tillit.ErrorCode(err) != tillit.ENotFound {
			t.Errorf("completed an export of an erased person: %v", err)
		}
	})
}

// reqTarget names a request in the audit log.
func reqTarget(id int64) string { return fmt.Sprintf("request:%d", id) }

// TestRequestAudit checks that every step is an event naming what changed,
// never a value.
func TestRequestAudit(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari"})
		secret := "Zanzibar-hemmelighet"
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestRestriction, Channel: "letter", ReceivedAt: e.clock.Now(),
			Note: secret + " note", PersonID: &p.ID})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusInProgress), Note: reqPtr(secret + " note 2")})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(1), ExtensionReason: reqPtr(secret + " extension")})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr(secret + " refusal")})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Note: reqPtr(secret + " note 2")}) // no change: no event

		target := reqTarget(r.ID)
		created := e.eventsOf("request.create", target)
		if len(created) != 1 || !sameSet(created[0].Fields, []string{"type", "channel", "received_at", "person_id", "note"}) {
			t.Fatalf("create events %+v", created)
		}
		var fields [][]string
		for _, ev := range e.eventsOf("request.update", target) {
			fields = append(fields, ev.Fields)
		}
		want := [][]string{{"note", "status"}, {"due_at", "extension_reason"}, {"status", "refusal_reason"}}
		if len(fields) != len(want) {
			t.Fatalf("update events %v, want %v", fields, want)
		}
		for i := range want {
			if !sameSet(fields[i], want[i]) {
				t.Errorf("update event %d: fields %v, want %v", i, fields[i], want[i])
			}
		}
		for _, ev := range e.events() {
			if strings.Contains(jsonOf(t, ev), "Zanzibar") {
				t.Errorf("event %s holds a value", ev.Action)
			}
		}
	})
}

// TestRequestSealed searches the databases for a request's note and
// reasons.
func TestRequestSealed(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		note := "Xerxes-Quillfeather sendte brev"
		r := e.mustRequest(&tillit.SubjectRequest{Type: tillit.RequestAccess, Channel: "letter", ReceivedAt: e.clock.Now(), Note: note})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{ExtendMonths: reqPtr(2), ExtensionReason: reqPtr("Yggdrasil-forlengelse")})
		e.mustUpdateRequest(r.ID, tillit.RequestUpdate{Status: reqStatus(tillit.StatusRefused), Reason: reqPtr("Wolfgangsee-avslag")})
		secrets := []string{"Xerxes-Quillfeather", "Yggdrasil-forlengelse", "Wolfgangsee-avslag"}

		var sealed []byte
		if err := e.rawData().QueryRow(`SELECT sealed FROM requests WHERE id = $1`, r.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if len(sealed) == 0 || bytes.Contains(sealed, []byte(s)) {
				t.Fatalf("the sealed column holds %q", s)
			}
		}
		if got, err := e.svc.FindRequestByID(e.cw, r.ID); err != nil || got.Note != note {
			t.Fatalf("read back %+v, %v", got, err)
		}
		// Sealed under the request's own key: without it nothing opens.
		if _, err := e.kr.DestroyPersonKeys(context.Background(), e.tenant.ID, []int64{r.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindRequestByID(e.cw, r.ID); tillit.ErrorCode(err) != tillit.EInternal {
			t.Errorf("read without the request's key: %v", err)
		}
		if dialect == sqldb.SQLite {
			searchFiles(t, filepath.Dir(e.dataURL), secrets)
		} else {
			searchColumns(t, dialect, e.dataURL, secrets, 20)
		}
	})
}
