package sqldb_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tillit"
	"tillit/keyring"
	"tillit/sqldb"
)

// countingStore counts the person keys a keyring asks its store for.
type countingStore struct {
	keyring.Store
	reads atomic.Int64
}

func (s *countingStore) PersonKeys(ctx context.Context, tenantID int64, ids []int64) (map[int64]keyring.PersonKeyRow, error) {
	s.reads.Add(int64(len(ids)))
	return s.Store.PersonKeys(ctx, tenantID, ids)
}

// erasingStore destroys a person's key just before a rotation re-wraps
// it, as an erasure running at the same time would.
type erasingStore struct {
	keyring.Store
	victim int64
}

func (s *erasingStore) RewrapPersonKeys(ctx context.Context, keys []keyring.PersonKeyRow, old []uint32) error {
	for _, k := range keys {
		if k.PersonID == s.victim {
			if _, err := s.Store.DeletePersonKeys(ctx, k.TenantID, []int64{k.PersonID}); err != nil {
				return err
			}
		}
	}
	return s.Store.RewrapPersonKeys(ctx, keys, old)
}

func TestKeyStoreIsApart(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", Email: "kari@example.no"})
		data, keys := e.rawData(), e.rawKeys()
		if n := queryInt(t, data, `SELECT COUNT(*) FROM people WHERE id = $1`, p.ID); n != 1 {
			t.Fatalf("%d people rows in the data", n)
		}
		if n := queryInt(t, keys, `SELECT COUNT(*) FROM person_keys WHERE tenant_id = $1 AND person_id = $2`, e.tenant.ID, p.ID); n != 1 {
			t.Fatalf("%d key rows in the key store", n)
		}
		if n := queryInt(t, keys, `SELECT COUNT(*) FROM tenant_keys WHERE tenant_id = $1`, e.tenant.ID); n != 2 {
			t.Fatalf("%d tenant keys in the key store, want a wrap key and an index key", n)
		}
		for _, table := range []string{"person_keys", "tenant_keys"} {
			var n int
			if err := data.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err == nil {
				t.Errorf("the data database has a table %s", table)
			}
		}
		for _, table := range []string{"people", "records", "tenants"} {
			var n int
			if err := keys.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err == nil {
				t.Errorf("the key store has a table %s", table)
			}
		}
		if e.ks.Dialect() != dialect {
			t.Fatalf("key store dialect %q", e.ks.Dialect())
		}
		if err := e.ks.Ready(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDestroyPersonKeys(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", FamilyName: "Aas", Email: "kari@example.no", Phone: "912 34 567",
			NationalID: "19121212-1212"})
		q := e.mustCreate(&tillit.Person{GivenName: "Ola", FamilyName: "Berg"})
		r := e.mustRecord(&tillit.Record{PersonID: p.ID, Category: "note", Title: "Samtale"})
		e.mustRead(p.ID) // cached
		ctx := context.Background()
		n, err := e.kr.DestroyPersonKeys(ctx, e.tenant.ID, []int64{p.ID})
		if err != nil || n != 1 {
			t.Fatalf("destroyed %d, %v", n, err)
		}
		title := "x"
		gone := map[string]error{}
		_, gone["read"] = e.svc.FindPersonByID(e.cw, p.ID)
		_, gone["update"] = e.svc.UpdatePerson(e.cw, p.ID, []byte(`{"given_name":"Karin"}`))
		_, gone["records"] = e.svc.FindRecords(e.cw, p.ID, tillit.RecordFilter{})
		_, gone["record"] = e.svc.FindRecordByID(e.cw, p.ID, r.ID)
		_, gone["update record"] = e.svc.UpdateRecord(e.cw, p.ID, r.ID, tillit.RecordUpdate{Title: &title})
		gone["create record"] = e.svc.CreateRecord(e.cw, &tillit.Record{PersonID: p.ID, Category: "note", Title: "x"})
		for op, err := range gone {
			if code(err) != tillit.ENotFound {
				t.Errorf("%s of an erased person: %v", op, err)
			}
		}
		for _, l := range []tillit.PersonLookup{{Email: p.Email}, {Phone: p.Phone}, {NationalID: p.NationalID}} {
			if found, err := e.svc.LookupPeople(e.cw, l); err != nil || len(found) != 0 {
				t.Errorf("lookup %+v of an erased person: %v, %v", l, personIDs(found), err)
			}
		}
		for _, sort := range []tillit.PersonSort{tillit.SortByID, tillit.SortByFamilyName} {
			page, err := e.svc.FindPeople(e.cw, tillit.PersonFilter{Sort: sort})
			if err != nil || !slices.Equal(personIDs(page.People), []int64{q.ID}) {
				t.Errorf("list by %s after an erasure: %v, %v", sort, page, err)
			}
		}
		// Another keyring (another process, a restored backup of the data)
		// cannot read them either.
		other := sqldb.NewPeopleService(e.db, e.keyring(keyring.Config{}))
		if _, err := other.FindPersonByID(e.cw, p.ID); code(err) != tillit.ENotFound {
			t.Fatalf("another keyring read an erased person: %v", err)
		}
		if n, err := e.kr.DestroyPersonKeys(ctx, e.tenant.ID, []int64{p.ID}); err != nil || n != 0 {
			t.Fatalf("destroyed again: %d, %v", n, err)
		}
		samePerson(t, e.mustRead(q.ID), q)
	})
}

func TestPersonKeyCache(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		store := &countingStore{Store: e.ks}
		kr := e.keyring(keyring.Config{Store: store, CacheSize: 2, CacheTTL: time.Minute})
		ctx := context.Background()
		tid := e.tenant.ID
		made, err := kr.NewPersonKeys(ctx, tid, []int64{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		sealed := made[0].Seal("given_name", []byte("Kari"))
		get := func(id int64, fromStore bool) *keyring.PersonKey {
			t.Helper()
			before := store.reads.Load()
			pk, err := kr.PersonKey(ctx, tid, id)
			if err != nil {
				t.Fatalf("key of %d: %v", id, err)
			}
			if read := store.reads.Load() != before; read != fromStore {
				t.Fatalf("key of %d read from the store: %v, want %v", id, read, fromStore)
			}
			return pk
		}
		// Two keys are kept: the newest.
		get(3, false)
		get(2, false)
		pk := get(1, true) // 3 goes
		if pt, err := pk.Open("given_name", sealed); err != nil || string(pt) != "Kari" {
			t.Fatalf("the stored key opens %q, %v", pt, err)
		}
		get(1, false)
		get(2, false)
		get(3, true) // 1 goes
		get(1, true)
		// Until they expire.
		e.clock.Add(time.Minute - time.Second)
		get(1, false)
		e.clock.Add(time.Second)
		get(1, true)
		// PersonKeys fetches what is missing alone.
		before := store.reads.Load()
		m, err := kr.PersonKeys(ctx, tid, []int64{1, 2, 3, 4})
		if err != nil || len(m) != 3 || m[4] != nil {
			t.Fatalf("keys %v, %v", m, err)
		}
		if n := store.reads.Load() - before; n != 3 {
			t.Fatalf("%d keys read from the store, want 3 (1 was cached)", n)
		}
		// A destroyed key is gone from the cache too.
		if _, err := kr.DestroyPersonKeys(ctx, tid, []int64{1}); err != nil {
			t.Fatal(err)
		}
		if _, err := kr.PersonKey(ctx, tid, 1); !errors.Is(err, keyring.ErrNoKey) {
			t.Fatalf("destroyed key: %v", err)
		}
		if _, err := kr.PersonKey(ctx, tid, 99); !errors.Is(err, keyring.ErrNoKey) {
			t.Fatalf("never made key: %v", err)
		}
		// Another tenant's key of the same person id is another key.
		if _, err := kr.PersonKey(ctx, tid+1, 2); !errors.Is(err, keyring.ErrNoKey) {
			t.Fatalf("another tenant's key: %v", err)
		}
	})
}

// importNumbered imports n numbered people and fails unless all are created.
func (e *regEnv) importNumbered(n int) {
	e.t.Helper()
	res, _ := e.mustImport(&sliceSource{people: numbered(n)}, tillit.ImportOptions{})
	if res.Created != n {
		e.t.Fatalf("imported %d of %d", res.Created, n)
	}
}

// mustReadAll reads every person of the tenant through a new keyring (a
// process that has cached nothing) and returns how many there are.
func (e *regEnv) mustReadAll(kr *keyring.Keyring) int {
	e.t.Helper()
	svc := sqldb.NewPeopleService(e.db, kr)
	all := e.allPeople(svc)
	for _, p := range all {
		if p.Email == "" && p.GivenName == "" {
			e.t.Fatalf("person %d read without values", p.ID)
		}
	}
	return len(all)
}

func TestRotateTenantKey(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.importNumbered(2500)
		tid := e.tenant.ID
		if v := e.keyVersions(tid); len(v) != 1 || v[1] != 2500 {
			t.Fatalf("versions before the rotation: %v", v)
		}
		ctx := context.Background()
		var progress [][2]int
		rot, err := e.kr.RotateTenantKey(ctx, tid, func(done, total int) { progress = append(progress, [2]int{done, total}) })
		if err != nil {
			t.Fatal(err)
		}
		if rot != (keyring.Rotation{Version: 2, Started: true, Rewrapped: 2500}) {
			t.Fatalf("rotation %+v", rot)
		}
		if !slices.Equal(progress, [][2]int{{1000, 2500}, {2000, 2500}, {2500, 2500}}) {
			t.Fatalf("progress %v", progress)
		}
		if v := e.keyVersions(tid); len(v) != 1 || v[2] != 2500 {
			t.Fatalf("versions after the rotation: %v", v)
		}
		if n := e.mustReadAll(e.keyring(keyring.Config{})); n != 2500 {
			t.Fatalf("%d people read after the rotation", n)
		}
		// Blind indexes do not change.
		if found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{Email: "PERSON01234@example.com"}); err != nil || len(found) != 1 {
			t.Fatalf("lookup after the rotation: %v, %v", found, err)
		}
		// New people get the new version.
		p := e.mustCreate(&tillit.Person{GivenName: "Ny"})
		if v := e.keyVersions(tid); v[2] != 2501 {
			t.Fatalf("versions after a create: %v", v)
		}

		rot, err = e.kr.RotateTenantKey(ctx, tid, nil)
		if err != nil || rot != (keyring.Rotation{Version: 3, Started: true, Rewrapped: 2501}) {
			t.Fatalf("second rotation %+v, %v", rot, err)
		}
		if v := e.keyVersions(tid); len(v) != 1 || v[3] != 2501 {
			t.Fatalf("versions after the second rotation: %v", v)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM tenant_keys WHERE tenant_id = $1 AND purpose = 'wrap'`, tid); n != 3 {
			t.Fatalf("%d wrap keys, want 3", n)
		}

		// Interrupted after the first batch, then resumed.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		_, err = e.kr.RotateTenantKey(cctx, tid, func(done, total int) {
			if done >= 1000 {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("a cancelled rotation finished")
		}
		if v := e.keyVersions(tid); len(v) != 2 || v[4] != 1000 || v[3] != 1501 {
			t.Fatalf("versions after an interrupted rotation: %v", v)
		}
		if n := e.mustReadAll(e.keyring(keyring.Config{})); n != 2501 {
			t.Fatalf("%d people read in the middle of a rotation", n)
		}
		progress = nil
		rot, err = e.kr.RotateTenantKey(ctx, tid, func(done, total int) { progress = append(progress, [2]int{done, total}) })
		if err != nil || rot != (keyring.Rotation{Version: 4, Started: false, Rewrapped: 1501}) {
			t.Fatalf("resumed rotation %+v, %v", rot, err)
		}
		if !slices.Equal(progress, [][2]int{{1000, 1501}, {1501, 1501}}) {
			t.Fatalf("progress of the resumed rotation %v", progress)
		}
		if v := e.keyVersions(tid); len(v) != 1 || v[4] != 2501 {
			t.Fatalf("versions after the resumed rotation: %v", v)
		}
		if n := e.mustReadAll(e.keyring(keyring.Config{})); n != 2501 {
			t.Fatalf("%d people read after the resumed rotation", n)
		}
		samePerson(t, e.mustRead(p.ID), p)

		// A tenant without people rotates too.
		if rot, err := e.kr.RotateTenantKey(ctx, tid+1000, nil); err != nil || rot != (keyring.Rotation{Version: 2, Started: true}) {
			t.Fatalf("rotation of an empty tenant %+v, %v", rot, err)
		}
	})
}

func TestRotateTenantKeyWhileServing(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.importNumbered(1200)
		existing := e.allPeople(e.svc)
		other := sqldb.NewPeopleService(e.db, e.keyring(keyring.Config{})) // another process
		var (
			wg      sync.WaitGroup
			done    atomic.Bool
			mu      sync.Mutex
			created []int64
			reads   atomic.Int64
		)
		errs := make(chan error, 100)
		for w := range 4 {
			wg.Go(func() {
				for i := range 25 {
					p := &tillit.Person{GivenName: "Samtidig", Email: "w" + string(rune('a'+w)) + string(rune('a'+i)) + "@example.com"}
					if err := e.svc.CreatePerson(e.cw, p); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					created = append(created, p.ID)
					mu.Unlock()
				}
			})
		}
		for r := range 4 {
			svc := e.svc
			if r%2 == 1 {
				svc = other
			}
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), 1))
				for i := 0; i < 50 || !done.Load(); i++ {
					p := existing[rng.IntN(len(existing))]
					got, err := svc.FindPersonByID(e.reader, p.ID)
					if err != nil {
						errs <- err
						return
					}
					if got.Email != p.Email {
						errs <- errors.New("read " + got.Email + ", want " + p.Email)
						return
					}
					reads.Add(1)
				}
			})
		}
		rot, err := e.kr.RotateTenantKey(context.Background(), e.tenant.ID, nil)
		done.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if err != nil || rot.Version != 2 || !rot.Started || rot.Rewrapped < 1200 {
			t.Fatalf("rotation %+v, %v", rot, err)
		}
		if len(created) != 100 || reads.Load() < 200 {
			t.Fatalf("%d created, %d read meanwhile", len(created), reads.Load())
		}
		if n := e.mustReadAll(e.keyring(keyring.Config{})); n != 1300 {
			t.Fatalf("%d people read after the rotation, want 1300", n)
		}
		for _, id := range created {
			e.mustRead(id)
		}
		// A key made with the old version while the rotation ran is
		// re-wrapped by the next run, which finishes the rotation.
		if v := e.keyVersions(e.tenant.ID); v[1] > 0 {
			rot, err := e.kr.RotateTenantKey(context.Background(), e.tenant.ID, nil)
			if err != nil || rot.Started || rot.Version != 2 || rot.Rewrapped != v[1] {
				t.Fatalf("finishing rotation %+v, %v (versions %v)", rot, err, v)
			}
		}
		if v := e.keyVersions(e.tenant.ID); len(v) != 1 || v[2] != 1300 {
			t.Fatalf("versions %v", v)
		}
	})
}

// TestRotateTenantKeySeenByAnotherProcess has two keyrings on one key
// store: the second sees the first's rotation when it reads a key of the
// new version, or when its tenant keys are older than TenantTTL.
func TestRotateTenantKeySeenByAnotherProcess(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		a := e.svc
		krB := e.keyring(keyring.Config{TenantTTL: time.Minute})
		b := sqldb.NewPeopleService(e.db, krB)
		tid := e.tenant.ID
		create := func(svc *sqldb.PeopleService, name string) *tillit.Person {
			t.Helper()
			p := &tillit.Person{GivenName: name}
			if err := svc.CreatePerson(e.cw, p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		versionOf := func(p *tillit.Person) int {
			t.Helper()
			return queryInt(t, e.rawKeys(), `SELECT version FROM person_keys WHERE tenant_id = $1 AND person_id = $2`, tid, p.ID)
		}
		before := create(a, "Før")
		if _, err := b.FindPersonByID(e.cw, before.ID); err != nil { // b caches the tenant's keys
			t.Fatal(err)
		}
		if rot, err := e.kr.RotateTenantKey(context.Background(), tid, nil); err != nil || rot.Version != 2 {
			t.Fatalf("rotation %+v, %v", rot, err)
		}
		// Within TenantTTL, b still wraps new keys with version 1…
		stale := create(b, "Foreldet")
		if v := versionOf(stale); v != 1 {
			t.Fatalf("b wrapped a key with version %d within TenantTTL", v)
		}
		// …and once it is past, with version 2.
		e.clock.Add(time.Minute)
		fresh := create(b, "Fersk")
		if v := versionOf(fresh); v != 2 {
			t.Fatalf("b wrapped a key with version %d after TenantTTL", v)
		}
		after := create(a, "Etter")
		if v := versionOf(after); v != 2 {
			t.Fatalf("a wrapped a key with version %d after its rotation", v)
		}
		e.clock.Add(10 * time.Minute) // past the cache of person keys
		for _, svc := range []*sqldb.PeopleService{a, b} {
			for _, p := range []*tillit.Person{before, stale, fresh, after} {
				got, err := svc.FindPersonByID(e.cw, p.ID)
				if err != nil || got.GivenName != p.GivenName {
					t.Fatalf("read %s: %+v, %v", p.GivenName, got, err)
				}
			}
		}
		// A third process that never saw version 1 as the newest reads a
		// key of version 2 at once.
		c := sqldb.NewPeopleService(e.db, e.keyring(keyring.Config{}))
		if _, err := c.FindPersonByID(e.cw, after.ID); err != nil {
			t.Fatal(err)
		}
		// The stale key is what the next rotation finishes.
		rot, err := e.kr.RotateTenantKey(context.Background(), tid, nil)
		if err != nil || rot != (keyring.Rotation{Version: 2, Started: false, Rewrapped: 1}) {
			t.Fatalf("rotation after the stale key: %+v, %v", rot, err)
		}
		if v := e.keyVersions(tid); len(v) != 1 || v[2] != 4 {
			t.Fatalf("versions %v", v)
		}
	})
}

func TestRotateRoot(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		ctx := context.Background()
		var people []*tillit.Person
		for _, email := range []string{"a@example.no", "b@example.no", "c@example.no"} {
			people = append(people, e.mustCreate(&tillit.Person{Email: email}))
		}
		// Another tenant's keys.
		if _, err := e.kr.NewPersonKeys(ctx, e.tenant.ID+1000, []int64{1}); err != nil {
			t.Fatal(err)
		}
		oldRoot := filepath.Join(t.TempDir(), "root-v1.key")
		b, err := os.ReadFile(e.rootPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(oldRoot, b, 0o600); err != nil {
			t.Fatal(err)
		}
		roots, err := keyring.AddRootKeyVersion(e.rootPath)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := roots.Newest(); v != 2 {
			t.Fatalf("root version %d after adding one", v)
		}
		rootVersions := func() []int {
			t.Helper()
			rows, err := e.rawKeys().Query(`SELECT DISTINCT root_version FROM tenant_keys ORDER BY root_version`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []int
			for rows.Next() {
				var v int
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
			return out
		}
		if v := rootVersions(); !slices.Equal(v, []int{1}) {
			t.Fatalf("root versions before the rotation: %v", v)
		}
		var progress []int
		rot, err := e.kr.RotateRoot(ctx, func(done int) { progress = append(progress, done) })
		if err != nil || rot != (keyring.Rotation{Version: 2, Rewrapped: 4}) || !slices.Equal(progress, []int{4}) {
			t.Fatalf("root rotation %+v, %v, progress %v", rot, err, progress)
		}
		if v := rootVersions(); !slices.Equal(v, []int{2}) {
			t.Fatalf("root versions after the rotation: %v", v)
		}
		// A new process with the new root key file reads everyone.
		fresh := sqldb.NewPeopleService(e.db, e.keyring(keyring.Config{}))
		for _, p := range people {
			got, err := fresh.FindPersonByID(e.cw, p.ID)
			if err != nil || got.Email != p.Email {
				t.Fatalf("read after the root rotation: %+v, %v", got, err)
			}
		}
		if found, err := fresh.LookupPeople(e.cw, tillit.PersonLookup{Email: "b@example.no"}); err != nil || len(found) != 1 {
			t.Fatalf("lookup after the root rotation: %v, %v", found, err)
		}
		// One with the old file cannot, and says why.
		stale := sqldb.NewPeopleService(e.db, e.keyring(keyring.Config{
			Roots: func() (*keyring.RootKeys, error) { return keyring.LoadRootKeys(oldRoot) }}))
		_, err = stale.FindPersonByID(e.cw, people[0].ID)
		if !errors.Is(err, keyring.ErrRootKeyMissing) || !strings.Contains(tillit.ErrorMessage(err), "a version of the root key is missing") {
			t.Fatalf("read with a root key file without version 2: %v", err)
		}
		// Nothing is left to do; new tenant keys are wrapped by version 2.
		if rot, err := e.kr.RotateRoot(ctx, nil); err != nil || rot != (keyring.Rotation{Version: 2}) {
			t.Fatalf("second root rotation %+v, %v", rot, err)
		}
		if _, err := e.kr.RotateTenantKey(ctx, e.tenant.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.kr.NewPersonKeys(ctx, e.tenant.ID+2000, []int64{1}); err != nil {
			t.Fatal(err)
		}
		if v := rootVersions(); !slices.Equal(v, []int{2}) {
			t.Fatalf("root versions of new tenant keys: %v", v)
		}
		for _, p := range people {
			if _, err := fresh.FindPersonByID(e.cw, p.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestRotationKeepsErasures erases a person while a rotation has read
// their key and is re-wrapping it: the key stays destroyed.
func TestRotationKeepsErasures(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		var people []*tillit.Person
		for _, name := range []string{"Anna", "Bjørn", "Cecilie"} {
			people = append(people, e.mustCreate(&tillit.Person{GivenName: name}))
		}
		victim := people[1]
		kr := e.keyring(keyring.Config{Store: &erasingStore{Store: e.ks, victim: victim.ID}})
		rot, err := kr.RotateTenantKey(context.Background(), e.tenant.ID, nil)
		if err != nil || rot.Version != 2 {
			t.Fatalf("rotation %+v, %v", rot, err)
		}
		if v := e.keyVersions(e.tenant.ID); len(v) != 1 || v[2] != 2 {
			t.Fatalf("versions %v, want the two people left at version 2", v)
		}
		fresh := sqldb.NewPeopleService(e.db, e.keyring(keyring.Config{}))
		if _, err := fresh.FindPersonByID(e.cw, victim.ID); code(err) != tillit.ENotFound {
			t.Fatalf("the erased person after the rotation: %v", err)
		}
		for _, p := range []*tillit.Person{people[0], people[2]} {
			if got, err := fresh.FindPersonByID(e.cw, p.ID); err != nil || got.GivenName != p.GivenName {
				t.Fatalf("read %+v, %v", got, err)
			}
		}
	})
}
