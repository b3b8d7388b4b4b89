package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tillit"
	"tillit/keyring"
	"tillit/sqldb/sqldbtest"
)

// apiLoad reads and creates people through the API from several
// goroutines until stopped, noting every request that failed.
type apiLoad struct {
	a        *api
	ids      []int64
	quit     chan struct{}
	wg       sync.WaitGroup
	requests atomic.Int64

	mu       sync.Mutex
	failures []string
	created  []int64
}

// loadPause is the pause of a load worker between requests.
const loadPause = 20 * time.Millisecond

// startLoad starts workers that read the people of ids and, one request in
// four, create a person.
func startLoad(a *api, ids []int64, workers int) *apiLoad {
	l := &apiLoad{a: a, ids: ids, quit: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.quit:
					return
				default:
				}
				l.one(w, i)
				time.Sleep(loadPause)
			}
		})
	}
	return l
}

// one makes one request of worker w.
func (l *apiLoad) one(w, i int) {
	method, path, body, want := "GET", fmt.Sprintf("/api/v1/people/%d", l.ids[rand.IntN(len(l.ids))]), "", 200
	if i%4 == 0 {
		method, path, want = "POST", "/api/v1/people", 201
		body = fmt.Sprintf(`{"given_name":"Load","family_name":"W%d","email":"load-%d-%d@example.com"}`, w, w, i)
	}
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	code, data, err := l.a.do(method, path, ctype, body)
	l.requests.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		l.failures = append(l.failures, fmt.Sprintf("%s %s: %v", method, path, err))
	case code != want:
		l.failures = append(l.failures, fmt.Sprintf("%s %s: %d: %s", method, path, code, data))
	case method == "POST":
		var p tillit.Person
		if json.Unmarshal(data, &p) != nil || p.ID == 0 {
			l.failures = append(l.failures, fmt.Sprintf("POST: %s", data))
		}
		l.created = append(l.created, p.ID)
	}
}

// waitFor waits until n requests are done.
func (l *apiLoad) waitFor(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); l.requests.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests in 20 s", l.requests.Load())
		}
	}
}

// stop stops the workers and returns the failures and the people created.
func (l *apiLoad) stop() (failures []string, created []int64) {
	close(l.quit)
	l.wg.Wait()
	return l.failures, l.created
}

// readAll reads every person of ids through the API, 8 at a time, and
// fails t for each that cannot be read.
func (a *api) readAll(t *testing.T, ids []int64) {
	t.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(ids)); i = next.Add(1) - 1 {
				path := fmt.Sprintf("/api/v1/people/%d", ids[i])
				if code, data, err := a.do("GET", path, "", ""); err != nil || code != 200 {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("GET %s: %d %v %s", path, code, err, data))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of %d people cannot be read, such as %s", len(failed), len(ids), failed[0])
	}
}

// rotate runs a rotation subcommand and decodes what it printed.
func (e *peopleEnv) rotate(args ...string) keyring.Rotation {
	e.t.Helper()
	var rot keyring.Rotation
	e.cli.mustJSON(&rot, args...)
	return rot
}

const rotatePeople = 1500

// TestPeopleKeyRotationWhileServing rotates the tenant key, twice, and the
// root key with the CLI while the server serves reads and writes, and
// checks that no request failed, everyone stays readable, also after a
// restart, and the rotations are in the audit logs, which still verify.
func TestPeopleKeyRotationWhileServing(t *testing.T) {
	for _, dialect := range sqldbtest.Engines(t) {
		t.Run(dialect, func(t *testing.T) {
			e := newPeopleEnv(t, dialect, tillit.RoleAdmin)
			base, stop := e.cli.serve()
			a := &api{c: httpsClient(t, e.dir), base: base, token: e.token}
			var nd strings.Builder
			for i := range rotatePeople {
				fmt.Fprintf(&nd, `{"given_name":"Rota","family_name":"Person %d","email":"rota%d@example.com"}`+"\n", i, i)
			}
			var res tillit.ImportResult
			a.must(t, "POST", "/api/v1/people/import", "application/x-ndjson", nd.String(), 200, &res)
			if res.Created != rotatePeople {
				t.Fatalf("import: %+v", res)
			}
			ids := a.ids(t)

			// The rotation waits for the server to take up the new key
			// version (--settle, 35 s), and re-wraps the keys it made meanwhile.
			load := startLoad(a, ids, 4)
			load.waitFor(t, 20)
			before := load.requests.Load()
			rot := e.rotate("keys", "rotate", "--tenant", "acme")
			during := load.requests.Load() - before
			failures, created := load.stop()
			if len(failures) > 0 {
				t.Fatalf("%d requests failed while the key rotated, such as %s", len(failures), failures[0])
			}
			if during == 0 {
				t.Error("no request was answered while the key rotated")
			}
			if rot.Version != 2 || !rot.Started || rot.Rewrapped < rotatePeople {
				t.Fatalf("rotate: %+v, want version 2, started, %d or more re-wrapped", rot, rotatePeople)
			}
			t.Logf("rotation: %+v, %d requests meanwhile, %d people created", rot, during, len(created))
			ids = append(ids, created...)
			a.readAll(t, ids)
			if left := e.count(true, "person_keys", "tenant_id = $1 AND version < 2"); left != 0 {
				t.Errorf("%d person keys are still wrapped by version 1 after the rotation", left)
			}

			if rot := e.rotate("keys", "rotate", "--tenant", "acme", "--settle", "0"); rot.Version != 3 || !rot.Started || rot.Rewrapped != len(ids) {
				t.Errorf("second rotate: %+v, want version 3, started, %d re-wrapped", rot, len(ids))
			}

			// The root key: the running server reads the new version when it
			// meets it, and a new server starts with it.
			// As with several nodes: add the version, (copy the file,) then
			// re-wrap; the second run finishes what the first started.
			if added := e.rotate("keys", "rotate-root", "--add-only"); added.Version != 2 || !added.Started || added.Rewrapped != 0 {
				t.Errorf("rotate-root --add-only: %+v, want version 2, started, nothing re-wrapped", added)
			}
			root := e.rotate("keys", "rotate-root")
			if root.Version != 2 || root.Started || root.Rewrapped < 4 {
				t.Errorf("rotate-root after --add-only: %+v, want version 2, not started again, the 4 keys of acme re-wrapped", root)
			}
			a.readAll(t, ids)
			var p tillit.Person
			a.must(t, "POST", "/api/v1/people", "application/json", `{"given_name":"After","email":"after@example.com"}`, 201, &p)
			ids = append(ids, p.ID)
			if code := stop(); code != 0 {
				t.Fatalf("serve stopped with %d", code)
			}

			base, stop = e.cli.serve()
			a = &api{c: httpsClient(t, e.dir), base: base, token: e.token}
			a.readAll(t, ids)
			var found struct {
				People []tillit.Person `json:"people"`
			}
			a.must(t, "POST", "/api/v1/people/lookup", "application/json", `{"email":"ROTA7@example.com"}`, 200, &found)
			if len(found.People) != 1 || found.People[0].FamilyName != "Person 7" {
				t.Errorf("lookup after the rotations: %+v", found.People)
			}
			var events struct {
				Events []tillit.Event `json:"events"`
			}
			a.must(t, "GET", "/api/v1/audit?action=keys.rotate", "", "", 200, &events)
			if len(events.Events) != 2 || events.Events[0].Fields[0] != "version:2" || events.Events[1].Fields[0] != "version:3" ||
				events.Events[0].Actor != "system:cli" {
				t.Errorf("keys.rotate events of acme: %+v", events.Events)
			}
			if code := stop(); code != 0 {
				t.Fatalf("serve stopped with %d", code)
			}
			if n := e.count(false, "audit_events", fmt.Sprintf("log_id = %d AND action = 'keys.rotate_root' AND outcome = 'ok'", tillit.OperatorLog)); n != 1 {
				t.Errorf("%d keys.rotate_root events in the operator log, want 1", n)
			}
			var out bytes.Buffer
			if code, errOut := e.cli.run(context.Background(), &out, "audit", "verify"); code != 0 || !strings.Contains(out.String(), "OK") {
				t.Fatalf("audit verify: exit %d: %s %s", code, out.String(), errOut)
			}
		})
	}
}
