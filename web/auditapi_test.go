package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"tillit"
	"tillit/auditlog"
)

// page is the answer of GET /api/v1/audit.
type page struct {
	Events     []*tillit.Event `json:"events"`
	NextCursor *string         `json:"next_cursor"`
}

func TestAuditQuery(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, auditor := e.token(acme, tillit.RoleAuditor)
		reader, readerSecret := e.token(acme, tillit.RoleReader)
		t0 := e.clock.Now()
		for range 3 {
			wantStatus(t, e.do("GET", "/api/v1/me", readerSecret, ""), 200)
		}
		e.clock.Add(time.Hour)
		for range 2 {
			wantStatus(t, e.do("GET", "/api/v1/me", readerSecret, ""), 200)
		}
		wantStatus(t, e.do("GET", "/api/v1/me", auditor, ""), 200)

		t.Run("pages follow each other without gaps", func(t *testing.T) {
			all := e.events(auditor, "action=me.read&limit=1000")
			var paged []*tillit.Event
			q := url.Values{"action": {"me.read"}, "limit": {"2"}}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				w := e.do("GET", "/api/v1/audit?"+q.Encode(), auditor, "")
				wantStatus(t, w, 200)
				var p page
				decode(t, w, &p)
				paged = append(paged, p.Events...)
				if p.NextCursor == nil {
					break
				}
				q.Set("cursor", *p.NextCursor)
			}
			if len(all) != 6 || len(paged) != len(all) {
				t.Fatalf("%d events in one page, %d paged; want 6", len(all), len(paged))
			}
			for i := range all {
				if !reflect.DeepEqual(all[i], paged[i]) {
					t.Fatalf("event %d: %+v paged, %+v at once", i, paged[i], all[i])
				}
				if i > 0 && all[i].Index <= all[i-1].Index {
					t.Fatalf("events out of order: %d after %d", all[i].Index, all[i-1].Index)
				}
			}
		})
		filters := []struct {
			name  string
			query url.Values
			want  int
		}{
			{"actor", url.Values{"actor": {actor(reader)}}, 5},
			{"actor and action", url.Values{"actor": {actor(reader)}, "action": {"me.read"}}, 5},
			{"from", url.Values{"action": {"me.read"}, "from": {t0.Add(30 * time.Minute).Format(time.RFC3339)}}, 3},
			{"to", url.Values{"action": {"me.read"}, "to": {t0.Add(30 * time.Minute).Format(time.RFC3339)}}, 3},
			{"from and to", url.Values{"action": {"me.read"}, "from": {t0.Format(time.RFC3339)}, "to": {t0.Add(time.Second).Format(time.RFC3339)}}, 3},
			{"target", url.Values{"target": {"token:999"}}, 0},
			{"empty values are no filter", url.Values{"action": {"me.read"}, "actor": {""}}, 6},
		}
		for _, tt := range filters {
			t.Run("filter "+tt.name, func(t *testing.T) {
				events := e.events(auditor, tt.query.Encode())
				if len(events) != tt.want {
					t.Fatalf("%d events, want %d: %v", len(events), tt.want, events)
				}
				for _, ev := range events {
					if a := tt.query.Get("actor"); a != "" && ev.Actor != a {
						t.Fatalf("event of actor %q", ev.Actor)
					}
				}
			})
		}
	})
}

func TestAuditQueryBadParameters(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		_, auditor := e.token(e.tenant("acme"), tillit.RoleAuditor)
		tests := []struct{ query, field string }{
			{"limit=0", "limit"},
			{"limit=1001", "limit"},
			{"limit=ten", "limit"},
			{"from=yesterday", "from"},
			{"to=2026-11-22", "to"},
			{"from=2026-11-22T10:00:00Z&to=2026-11-22T09:00:00Z", "to"},
			{"cursor=garbage!", "cursor"},
			{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("v1:-5")), "cursor"},
			{"actor=" + strings.Repeat("a", 201), "actor"},
			{"actr=token:1", "actr"},
			{"action=a&action=b", "action"},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				wantProblem(t, e.do("GET", "/api/v1/audit?"+tt.query, auditor, ""), 400, tillit.EInvalid, tt.field)
			})
		}
		t.Run("malformed query string", func(t *testing.T) {
			wantProblem(t, e.do("GET", "/api/v1/audit?limit=%zz", auditor, ""), 400, tillit.EInvalid, "")
		})
	})
}

func TestCheckpointAndProof(t *testing.T) {
	eachEngine(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		acme := e.tenant("acme")
		_, auditor := e.token(acme, tillit.RoleAuditor)

		t.Run("no checkpoint yet", func(t *testing.T) {
			wantProblem(t, e.do("GET", "/api/v1/audit/checkpoint", auditor, ""), 404, tillit.ENotFound, "")
		})
		for range 4 {
			wantStatus(t, e.do("GET", "/api/v1/me", auditor, ""), 200)
		}
		if _, err := e.db.WriteCheckpoints(context.Background(), e.signer); err != nil {
			t.Fatal(err)
		}

		w := e.do("GET", "/api/v1/audit/key", "", "")
		wantStatus(t, w, 200)
		vkey := w.Body.String()
		if vkey != e.vkey+"\n" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			t.Fatalf("key %q (%s), want %q", vkey, w.Header().Get("Content-Type"), e.vkey)
		}
		w = e.do("GET", "/api/v1/audit/checkpoint", auditor, "")
		wantStatus(t, w, 200)
		note := w.Body.String()
		size, root, err := auditlog.OpenCheckpoint(note, acme.ID, vkey)
		if err != nil || size < 5 {
			t.Fatalf("checkpoint %q: size %d, %v", note, size, err)
		}
		events := e.events(auditor, "limit=1000")

		for _, index := range []int64{0, size / 2, size - 1} {
			t.Run(fmt.Sprintf("proof of event %d", index), func(t *testing.T) {
				w := e.do("GET", fmt.Sprintf("/api/v1/audit/proof?index=%d", index), auditor, "")
				wantStatus(t, w, 200)
				var p struct {
					Log        int64    `json:"log"`
					Index      int64    `json:"index"`
					Size       int64    `json:"size"`
					LeafHash   string   `json:"leaf_hash"`
					Hashes     []string `json:"hashes"`
					Checkpoint string   `json:"checkpoint"`
				}
				decode(t, w, &p)
				if p.Log != acme.ID || p.Index != index || p.Size != size || p.Checkpoint != note {
					t.Fatalf("proof %+v", p)
				}
				proof := make([]tlog.Hash, len(p.Hashes))
				for i, h := range p.Hashes {
					proof[i] = mustHash(t, h)
				}
				leaf := auditlog.LeafHash(events[index])
				if mustHash(t, p.LeafHash) != leaf {
					t.Fatalf("leaf hash %s is not the hash of event %+v", p.LeafHash, events[index])
				}
				if err := auditlog.CheckInclusion(proof, size, root, index, leaf); err != nil {
					t.Fatalf("proof does not verify: %v", err)
				}
				forged := *events[index]
				forged.Outcome = tillit.EForbidden
				if auditlog.CheckInclusion(proof, size, root, index, auditlog.LeafHash(&forged)) == nil {
					t.Fatal("the proof verifies a forged event")
				}
			})
		}
		bad := []string{"", "index=", "index=-1", "index=abc", fmt.Sprintf("index=%d", size), "index=1&index=2", "index=1&x=2"}
		for _, q := range bad {
			t.Run("bad "+q, func(t *testing.T) {
				w := e.do("GET", "/api/v1/audit/proof?"+q, auditor, "")
				wantStatus(t, w, http.StatusBadRequest)
			})
		}
	})
}

func mustHash(tb testing.TB, s string) tlog.Hash {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		tb.Fatalf("hash %q: %v", s, err)
	}
	return tlog.Hash(b)
}
