package sqldb_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"tillit"
	"tillit/sqldb/sqldbtest"
)

// TestPasswordParametersUpgrade stores a hash made with weaker argon2id
// parameters; the next sign-in replaces it with one of today's.
func TestPasswordParametersUpgrade(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newAuthEnv(t, dialect)
		acme := sqldbtest.MustTenant(t, e.db, "acme")
		acc := e.mustAccount(tillit.KindUser, acme, "kari@example.com", tillit.RoleReader)
		salt := []byte("0123456789abcdef")
		key := argon2.IDKey([]byte(testPassword), salt, 1, 8*1024, 1, 32)
		old := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s",
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
		if _, err := e.db.ExecForTest(context.Background(), `UPDATE accounts SET password_hash = $1 WHERE id = $2`, old, acc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword); err != nil {
			t.Fatalf("sign-in with the old hash: %v", err)
		}
		var stored string
		if err := rawDB(t, dialect, e.url).QueryRow(`SELECT password_hash FROM accounts WHERE id = $1`, acc.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == old || !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("hash after sign-in: %s", stored)
		}
		if _, err := e.auth.Login(context.Background(), "acme", acc.Email, testPassword); err != nil {
			t.Fatalf("sign-in with the new hash: %v", err)
		}
	})
}
