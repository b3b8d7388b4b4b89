package sqldb_test

import (
	"context"
	"sync"
	"testing"

	"tillit"
	"tillit/auditlog"
	"tillit/receipt"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// The platform key of the tests' receipts, made once.
var testReceiptKey struct {
	once       sync.Once
	skey, vkey string
	err        error
}

// testReceiptSigner returns a signer of receipts with the tests' platform
// key (testReceiptVKey verifies them).
func testReceiptSigner(t testing.TB) *receipt.Signer {
	t.Helper()
	k := &testReceiptKey
	k.once.Do(func() { k.skey, k.vkey, k.err = auditlog.GenerateKey() })
	if k.err != nil {
		t.Fatal(k.err)
	}
	s, err := receipt.NewSigner(k.skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testReceiptVKey(t testing.TB) string {
	testReceiptSigner(t)
	return testReceiptKey.vkey
}

// privacy returns the context of a token of the privacy role, created
// sensitive when sensitive is set (erasure needs it).
func (e *regEnv) privacy(sensitive bool) context.Context {
	e.t.Helper()
	return e.tokenContext(tillit.RolePrivacy, sensitive)
}

func (e *regEnv) tokenContext(role tillit.Role, sensitive bool) context.Context {
	e.t.Helper()
	svc := sqldb.NewTokenService(e.db)
	_, secret, err := svc.CreateToken(sqldbtest.System(), tillit.TokenCreate{TenantID: e.tenant.ID, Name: string(role) + " sensitive",
		Role: role, Sensitive: sensitive})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := svc.AuthenticateToken(context.Background(), secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return tillit.NewContextWithPrincipal(context.Background(), p)
}

// verifyReceipt fails unless r verifies with the tests' platform key and
// says what want says.
func verifyReceipt(t *testing.T, r *tillit.Receipt, kind string, personID int64, want tillit.ErasureCounts) {
	t.Helper()
	got, err := receipt.Verify([]byte(r.Note), testReceiptVKey(t))
	if err != nil {
		t.Fatalf("receipt does not verify: %v\n%s", err, r.Note)
	}
	if got.Kind != kind || got.PersonID != personID || got.Tenant != "acme" || got.Erased != want || !got.At.Equal(r.At) {
		t.Fatalf("receipt says %+v, want %s of %d with %+v", got, kind, personID, want)
	}
}

// verifyAudit signs checkpoints of the tenant's log and verifies it.
func (e *regEnv) verifyAudit() {
	e.t.Helper()
	s := mustSigner(e.t)
	if _, err := e.db.WriteCheckpoints(context.Background(), s); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.VerifyAudit(context.Background(), &e.tenant.ID, s.VerifierKey()); err != nil {
		e.t.Fatalf("the audit log does not verify: %v", err)
	}
}
