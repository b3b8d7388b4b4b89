package sqldb_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
)

// TestDestroyedKeyLeavesNoTrace: on SQLite a destroyed person key is gone
// from the key store's files, not only from its table: neither keys.db (a
// free page) nor its write-ahead log holds the wrapped key any more.
func TestDestroyedKeyLeavesNoTrace(t *testing.T) {
	e := newRegEnv(t, sqldb.SQLite)
	p := &tillit.Person{GivenName: "Kari", Email: "kari@example.no"}
	if err := e.svc.CreatePerson(e.cw, p); err != nil {
		t.Fatal(err)
	}
	var wrapped []byte
	if err := e.rawKeys().QueryRow(`SELECT wrapped FROM person_keys WHERE person_id = $1`, p.ID).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	contains := func() []string {
		var in []string
		for _, f := range []string{e.keysURL, e.keysURL + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(b, wrapped) {
				in = append(in, f)
			}
		}
		return in
	}
	if len(contains()) == 0 {
		t.Fatal("the wrapped key is in neither file before it is destroyed: the search sees nothing")
	}
	if n, err := e.kr.DestroyPersonKeys(context.Background(), e.tenant.ID, []int64{p.ID}); err != nil || n != 1 {
		t.Fatalf("destroy: %d, %v", n, err)
	}
	// The checkpointer cuts the log within checkpointEvery (100 ms); a
	// busy machine gets two seconds.
	deadline := time.Now().Add(2 * time.Second)
	for in := contains(); len(in) > 0; in = contains() {
		if time.Now().After(deadline) {
			t.Fatalf("the destroyed key is still in %v", in)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
