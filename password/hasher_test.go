package password

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tillit"
)

// testContext returns a context that ends after 10 seconds, so that a broken
// semaphore fails a test instead of hanging it.
func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// Hashes made by the reference implementation of argon2 (Debian's argon2
// command: printf %s PASSWORD | argon2 SALT -id -t T -k M -p P -l 32 -e),
// so that these tests check our parameters and encoding against another
// implementation, not only against themselves.
const (
	refCurrent = "$argon2id$v=19$m=19456,t=2,p=1$dGlsbGl0LXNhbHQtMDAwMQ$yHRFNAMSK0kW1q5kpXtjy372IcZ1AOCI+DvqkGx3Z/o"
	refCurPass = "correct horse battery staple"
	refOld     = "$argon2id$v=19$m=8192,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$Q4vbfl2a9gu08z1gZHJXXpNzINMosYveY6dU4MGoARU"
	refOldPass = "Blåbærsyltetøy på lørdag"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHash(t *testing.T) {
	h := NewHasher(2)
	ctx := testContext(t)
	a, err := h.Hash(ctx, refCurPass)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, refCurPass)
	if err != nil {
		t.Fatal(err)
	}
	if !phcPattern.MatchString(a) {
		t.Errorf("Hash = %q, want the PHC format %s", a, phcPattern)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", a)
	}
	if ok, rehash, err := h.Verify(ctx, a, refCurPass); !ok || rehash || err != nil {
		t.Errorf("Verify(own hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	// The same parameters and salt must give the reference implementation's key.
	_, salt, _, _ := parsePHC(refCurrent)
	if got := hashWith(current, salt, refCurPass); got != refCurrent {
		t.Errorf("hashWith(current) = %q, want the reference %q", got, refCurrent)
	}
}

func TestVerify(t *testing.T) {
	_, salt, _, _ := parsePHC(refCurrent)
	shortKey, shortSalt, moreTime := current, current, current
	shortKey.keyLen, shortSalt.saltLen, moreTime.time = 16, 8, 3
	tests := []struct {
		name       string
		phc, pass  string
		ok, rehash bool
	}{
		{"reference, right password", refCurrent, refCurPass, true, false},
		{"reference, wrong password", refCurrent, "correct horse battery stapler", false, false},
		{"reference, empty password", refCurrent, "", false, false},
		{"old parameters, right password", refOld, refOldPass, true, true},
		{"old parameters, other case", refOld, "blåbærsyltetøy på lørdag", false, false},
		{"shorter key", hashWith(shortKey, salt, "pw"), "pw", true, true},
		{"shorter salt", hashWith(shortSalt, salt[:8], "pw"), "pw", true, true},
		{"more passes", hashWith(moreTime, salt, "pw"), "pw", true, true},
		{"more passes, wrong password", hashWith(moreTime, salt, "pw"), "pW", false, false},
	}
	h := NewHasher(2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(testContext(t), tt.phc, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || rehash != tt.rehash {
				t.Errorf("Verify = %v, %v; want %v, %v", ok, rehash, tt.ok, tt.rehash)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "dGlsbGl0LXNhbHQtMDAwMQ", "yHRFNAMSK0kW1q5kpXtjy372IcZ1AOCI+DvqkGx3Z/o"
	tests := []struct{ name, phc string }{
		{"empty", ""},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no leading $", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"trailing $", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$"},
		{"parameters out of order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"missing parameter", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"extra parameter", "$argon2id$v=19$m=19456,t=2,p=1,keyid=1$" + salt + "$" + key},
		{"zero passes", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"zero lanes", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"256 lanes", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key},
		{"too little memory per lane", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"memory over 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{"too many passes", "$argon2id$v=19$m=19456,t=65,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=19456,t=-2,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$" + "dGlsbGl0!!!" + "$" + key},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$" + "c2FsdA" + "$" + key},
		{"key too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + "yHRFNAMSK0kW1q5k"},
		{"key with bad trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:42] + "p"},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
	}
	h := NewHasher(1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(testContext(t), tt.phc, refCurPass)
			if !errors.Is(err, ErrMalformed) || ok || rehash {
				t.Errorf("Verify(%q) = %v, %v, %v; want false, false, ErrMalformed", tt.phc, ok, rehash, err)
			}
		})
	}
}

func TestDummy(t *testing.T) {
	h := NewHasher(1)
	var calls []params
	h.derive = func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		calls = append(calls, params{memory, time, threads, len(salt), int(keyLen)})
		return make([]byte, keyLen)
	}
	h.Dummy(testContext(t), "whatever")
	if len(calls) != 1 || calls[0] != current {
		t.Errorf("Dummy derived %+v, want one key with the current parameters %+v", calls, current)
	}
	// The dummy hash's key is zeros; no password may match it, or an
	// unknown account's sign-in would behave differently.
	if ok, _, _ := NewHasher(1).Verify(testContext(t), dummyPHC, ""); ok {
		t.Error("the empty password matches the dummy hash")
	}
}

// TestConcurrencyBound starts more hashes than slots and checks that no more
// than the bound ever run at once, and that all finish.
func TestConcurrencyBound(t *testing.T) {
	const bound, callers = 3, 12
	h := NewHasher(bound)
	var running, peak atomic.Int32
	entered := make(chan struct{}, callers)
	release := make(chan struct{})
	h.derive = func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		entered <- struct{}{}
		<-release
		running.Add(-1)
		return make([]byte, keyLen)
	}
	ctx := testContext(t)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = h.Hash(ctx, "pw")
			} else {
				_, _, err = h.Verify(ctx, refCurrent, "pw")
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	for range bound { // the first `bound` callers get in and block
		select {
		case <-entered:
		case <-ctx.Done():
			t.Fatal("fewer callers than the bound got a slot")
		}
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != bound {
		t.Errorf("at most %d hashes ran at once, want exactly the bound %d", p, bound)
	}
}

// TestWaitHonoursContext fills every slot and checks that a caller whose
// context ends stops waiting with EUnavailable.
func TestWaitHonoursContext(t *testing.T) {
	h := NewHasher(1)
	h.slots <- struct{}{} // someone else is hashing
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"Hash", func() error { _, err := h.Hash(ctx, "pw"); return err }},
		{"Verify", func() error { _, _, err := h.Verify(ctx, refCurrent, refCurPass); return err }},
	}
	h.derive = func([]byte, []byte, uint32, uint32, uint8, uint32) []byte {
		t.Error("a hash ran without a slot")
		return nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want one wrapping context.Canceled", err)
			}
			if tillit.ErrorCode(err) != tillit.EUnavailable {
				t.Errorf("code = %q, want %q", tillit.ErrorCode(err), tillit.EUnavailable)
			}
		})
	}
	h.Dummy(ctx, "pw") // returns at once, without hashing

	// A context that has ended does not start a hash even when a slot is free.
	if _, err := NewHasher(1).Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a free slot and an ended context: err = %v, want context.Canceled", err)
	}

	// A context that ends while waiting stops the wait too.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := h.Hash(ctx, "pw"); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Hash after cancel while waiting: err = %v, want context.Canceled", err)
	}
}

func TestNewHasherDefault(t *testing.T) {
	if h := NewHasher(0); cap(h.slots) < 1 {
		t.Errorf("NewHasher(0) has %d slots, want at least 1", cap(h.slots))
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), refCurPass); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(1)
	for b.Loop() {
		if ok, _, err := h.Verify(context.Background(), refCurrent, refCurPass); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkHashParallel measures throughput when every processor asks for
// hashes at once: the bound (one per processor) caps memory at 19 MiB each.
func BenchmarkHashParallel(b *testing.B) {
	h := NewHasher(0)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(context.Background(), refCurPass); err != nil {
				b.Error(err)
			}
		}
	})
}
