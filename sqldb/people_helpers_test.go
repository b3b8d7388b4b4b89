package sqldb_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"tillit"
	"tillit/keyring"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// regEnv is a register on a data database and a key store of its own, with
// the addresses a test needs to reach them directly (as an intruder
// would), a fake clock, and a tenant with a token of each role. On SQLite
// the key store is keys.db beside tillit.db, as tillit serve lays them out.
type regEnv struct {
	t        *testing.T
	dialect  string
	clock    *fakeClock
	dataURL  string
	keysURL  string
	rootPath string
	db       *sqldb.DB
	ks       *sqldb.KeyStore
	kr       *keyring.Keyring
	svc      *sqldb.PeopleService
	tenant   *tillit.Tenant
	admin    context.Context
	cw       context.Context // caseworker
	reader   context.Context
	auditor  context.Context
}

func newRegEnv(t *testing.T, dialect string) *regEnv {
	t.Helper()
	e := &regEnv{t: t, dialect: dialect, clock: newClock(), dataURL: sqldbtest.URL(t, dialect),
		rootPath: filepath.Join(t.TempDir(), "root.key")}
	e.keysURL = filepath.Join(filepath.Dir(e.dataURL), "keys.db")
	if dialect == sqldb.Postgres {
		e.keysURL = sqldbtest.URL(t, dialect)
	}
	e.db = sqldbtest.OpenURL(t, e.dataURL, e.clock)
	ctx := context.Background()
	ks, err := sqldb.OpenKeyStore(ctx, sqldb.Config{URL: e.keysURL, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	if _, err := ks.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e.ks = ks
	e.kr = e.keyring(keyring.Config{})
	e.svc = sqldb.NewPeopleService(e.db, e.kr).WithReceipts(testReceiptSigner(t))
	e.svc.SetImportBatchForTest(1000) // the tests cross batches with a few thousand people
	e.tenant = sqldbtest.MustTenant(t, e.db, "acme")
	_, _, e.admin = sqldbtest.MustToken(t, e.db, e.tenant, tillit.RoleAdmin)
	_, _, e.cw = sqldbtest.MustToken(t, e.db, e.tenant, tillit.RoleCaseworker)
	_, _, e.reader = sqldbtest.MustToken(t, e.db, e.tenant, tillit.RoleReader)
	_, _, e.auditor = sqldbtest.MustToken(t, e.db, e.tenant, tillit.RoleAuditor)
	return e
}

// keyring returns a keyring over the env's root key file and key store (or
// cfg.Store), with the env's clock: another process's, when called again.
func (e *regEnv) keyring(cfg keyring.Config) *keyring.Keyring {
	e.t.Helper()
	path := e.rootPath
	if cfg.Roots == nil {
		cfg.Roots = func() (*keyring.RootKeys, error) { return keyring.LoadRootKeys(path) }
	}
	if cfg.Store == nil {
		cfg.Store = e.ks
	}
	if cfg.Clock == nil {
		cfg.Clock = e.clock
	}
	kr, err := keyring.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return kr
}

// testSchema has an attribute of every type and classification.
func testSchema() *tillit.Schema {
	return &tillit.Schema{
		Attributes: []tillit.AttributeDef{
			{Name: "member_no", Type: tillit.TypeNumber, Classification: tillit.ClassPersonal},
			{Name: "active", Type: tillit.TypeBoolean, Classification: tillit.ClassPersonal},
			{Name: "joined", Type: tillit.TypeDate, Classification: tillit.ClassPersonal},
			{Name: "level", Type: tillit.TypeEnum, Classification: tillit.ClassPersonal, Values: []string{"bronze", "silver", "gold"}},
			{Name: "diagnosis", Type: tillit.TypeString, Classification: tillit.ClassSpecial},
			{Name: "municipality", Type: tillit.TypeString, Classification: tillit.ClassNonPersonal},
		},
		Categories: []string{"note", "visit"},
	}
}

// mustSchema replaces the tenant's schema, as its admin.
func (e *regEnv) mustSchema(s *tillit.Schema) {
	e.t.Helper()
	if _, err := e.svc.UpdateSchema(e.admin, s); err != nil {
		e.t.Fatalf("update schema: %v", err)
	}
}

// mustCreate creates a person as the caseworker.
func (e *regEnv) mustCreate(p *tillit.Person) *tillit.Person {
	e.t.Helper()
	if err := e.svc.CreatePerson(e.cw, p); err != nil {
		e.t.Fatalf("create %+v: %v", p, err)
	}
	return p
}

// mustRead reads a person as the caseworker.
func (e *regEnv) mustRead(id int64) *tillit.Person {
	e.t.Helper()
	p, err := e.svc.FindPersonByID(e.cw, id)
	if err != nil {
		e.t.Fatalf("read person %d: %v", id, err)
	}
	return p
}

// exec runs a statement on the data database.
func (e *regEnv) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.ExecForTest(context.Background(), q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

// rawData and rawKeys open plain connections to the data database and the
// key store.
func (e *regEnv) rawData() *sql.DB { return rawDB(e.t, e.dialect, e.dataURL) }
func (e *regEnv) rawKeys() *sql.DB { return rawDB(e.t, e.dialect, e.keysURL) }

// keyVersions returns how many person keys of the tenant each tenant key
// version wraps.
func (e *regEnv) keyVersions(tenantID int64) map[int]int {
	e.t.Helper()
	rows, err := e.rawKeys().Query(`SELECT version, COUNT(*) FROM person_keys WHERE tenant_id = $1 GROUP BY version`, tenantID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			e.t.Fatal(err)
		}
		out[v] = n
	}
	return out
}

// queryInt returns the single integer a query answers on db.
func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// events returns the events of the tenant's log, oldest first.
func (e *regEnv) events() []*tillit.Event {
	e.t.Helper()
	var out []*tillit.Event
	after := int64(-1)
	for {
		batch, err := e.db.FindEventsForTest(context.Background(), tillit.EventFilter{Log: e.tenant.ID, After: after, Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].Index
	}
}

// eventsOf returns the tenant's events of an action on a target.
func (e *regEnv) eventsOf(action, target string) []*tillit.Event {
	e.t.Helper()
	var out []*tillit.Event
	for _, ev := range e.events() {
		if ev.Action == action && ev.Target == target {
			out = append(out, ev)
		}
	}
	return out
}

// withRequest returns ctx carrying a request of the tenant, as the web
// layer makes one.
func (e *regEnv) withRequest(ctx context.Context) (context.Context, *tillit.Request) {
	req := &tillit.Request{Event: tillit.Event{Log: e.tenant.ID, RequestID: "req-test", ClientAddr: "192.0.2.1"}}
	return tillit.NewContextWithRequest(ctx, req), req
}

// personTarget names a person in the audit log.
func personTarget(id int64) string { return fmt.Sprintf("person:%d", id) }

// jsonOf is v in JSON, for comparing people.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// samePerson fails unless got and want have the same API form.
func samePerson(t *testing.T, got, want *tillit.Person) {
	t.Helper()
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Fatalf("person\n got %s\nwant %s", g, w)
	}
}

// wantErr fails unless err has the code and names the field.
func wantErr(t *testing.T, err error, code, field string) {
	t.Helper()
	if tillit.ErrorCode(err) != code || tillit.ErrorField(err) != field {
		t.Fatalf("got %v (code %q, field %q), want code %q field %q", err, tillit.ErrorCode(err), tillit.ErrorField(err), code, field)
	}
}

// personIDs returns the ids of people.
func personIDs(people []*tillit.Person) []int64 {
	out := make([]int64, len(people))
	for i, p := range people {
		out[i] = p.ID
	}
	return out
}

// sortedIDs returns the ids sorted.
func sortedIDs(people []*tillit.Person) []int64 {
	out := personIDs(people)
	slices.Sort(out)
	return out
}
