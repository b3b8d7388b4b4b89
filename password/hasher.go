// Package password hashes and checks the passwords of tillit's accounts:
// argon2id in PHC strings, a bound on how many hashes run at once, and the
// password policy (length, common passwords, names).
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"runtime"

	"golang.org/x/crypto/argon2"

	"tillit"
)

// Hasher hashes passwords with argon2id (m=19 MiB, t=2, p=1, 16-byte salt,
// 32-byte key) in the PHC string format
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" (standard base64 without
// padding). At most maxConcurrent hashes run at once, so a sign-in flood
// cannot exhaust memory: each takes 19 MiB while it runs. Callers wait for a
// slot, for as long as their context allows. A Hasher is safe for
// concurrent use.
type Hasher struct {
	slots chan struct{}

	// derive is argon2.IDKey; tests replace it to watch the semaphore.
	derive func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher that runs at most maxConcurrent hashes at once;
// less than 1 means one per processor (runtime.GOMAXPROCS).
func NewHasher(maxConcurrent int) *Hasher {
	if maxConcurrent < 1 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{slots: make(chan struct{}, maxConcurrent), derive: argon2.IDKey}
}

// Hash returns the PHC string of password under a new random salt.
// Errors: EUnavailable when ctx ends before a slot is free.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, current.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", tillit.Internal(err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := h.derive([]byte(password), salt, current.time, current.memory, current.threads, uint32(current.keyLen))
	return encodePHC(current, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, comparing in
// constant time. needsRehash is true when the password matched and phc was
// made with other parameters than Hash uses now, so the caller should store
// a new Hash of the password. A phc that is not an argon2id PHC string is an
// error wrapping ErrMalformed. Errors: EUnavailable when ctx ends before a
// slot is free.
func (h *Hasher) Verify(ctx context.Context, phc, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := h.derive([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != current, nil
}

// dummyPHC is a hash with the current parameters that no password matches
// (its key is all zeros): Dummy verifies against it.
var dummyPHC = encodePHC(current, []byte("tillit.dummy.slt"), make([]byte, current.keyLen))

// Dummy does the work of one Verify against a fixed hash and throws the
// answer away, so that a sign-in for an account that does not exist takes as
// long as one for an account that does. It returns early when ctx ends
// before a slot is free.
func (h *Hasher) Dummy(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, dummyPHC, password)
}

// acquire waits for a free slot or the end of ctx.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return busy(err)
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return busy(ctx.Err())
	}
}

// release frees the slot taken by acquire.
func (h *Hasher) release() { <-h.slots }

// busy is the error of a caller that gave up waiting for a slot.
func busy(err error) error {
	return &tillit.Error{
		Code:    tillit.EUnavailable,
		Message: "the server is busy checking other passwords; try again in a moment",
		Err:     err,
	}
}
