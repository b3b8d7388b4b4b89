package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformed is wrapped by the error Verify returns for a stored hash that
// is not an argon2id PHC string it can check: damaged data or a bug, never a
// wrong password.
var ErrMalformed = errors.New("malformed password hash")

// params are the argon2id parameters of one hash.
type params struct {
	memory  uint32 // KiB
	time    uint32 // passes over the memory
	threads uint8  // lanes
	saltLen int    // bytes
	keyLen  int    // bytes
}

// current are the parameters of new hashes: OWASP's first choice for
// argon2id (19 MiB, 2 passes, 1 lane), a 128-bit salt and a 256-bit key.
var current = params{memory: 19 * 1024, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// Limits on what a stored hash may ask for, so that a damaged or hostile row
// cannot make one Verify allocate gigabytes or spin for minutes.
const (
	maxMemory = 1 << 20 // KiB: 1 GiB
	maxTime   = 64
	minSalt   = 8
	maxSalt   = 64
	minKey    = 16
	maxKey    = 64
)

// b64 is the encoding of salts and keys in PHC strings: standard base64
// without padding, strict about trailing bits so each value has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// hashWith derives the key of password under p and salt, and formats it.
func hashWith(p params, salt []byte, password string) string {
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
	return encodePHC(p, salt, key)
}

// encodePHC formats an argon2id hash as a PHC string.
func encodePHC(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parsePHC parses an argon2id PHC string into its parameters, salt and key.
// It accepts only version 19 and parameters in the order m, t, p, within the
// limits above.
func parsePHC(phc string) (p params, salt, key []byte, err error) {
	fields := strings.Split(phc, "$")
	if len(fields) != 6 || fields[0] != "" {
		return p, nil, nil, malformed("want 5 fields separated by $")
	}
	if fields[1] != "argon2id" {
		return p, nil, nil, malformed("algorithm %q is not argon2id", fields[1])
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, malformed("version %q is not v=%d", fields[2], argon2.Version)
	}
	if p, err = parseParams(fields[3]); err != nil {
		return p, nil, nil, err
	}
	if salt, err = b64.DecodeString(fields[4]); err != nil || len(salt) < minSalt || len(salt) > maxSalt {
		return p, nil, nil, malformed("salt is not %d to %d bytes of base64", minSalt, maxSalt)
	}
	if key, err = b64.DecodeString(fields[5]); err != nil || len(key) < minKey || len(key) > maxKey {
		return p, nil, nil, malformed("key is not %d to %d bytes of base64", minKey, maxKey)
	}
	p.saltLen, p.keyLen = len(salt), len(key)
	return p, salt, key, nil
}

// parseParams parses "m=…,t=…,p=…".
func parseParams(s string) (params, error) {
	var p params
	names := [...]string{"m", "t", "p"}
	limits := [...]uint64{maxMemory, maxTime, 255}
	var vals [3]uint64
	parts := strings.Split(s, ",")
	if len(parts) != len(names) {
		return p, malformed("parameters %q are not m=…,t=…,p=…", s)
	}
	for i, part := range parts {
		name, val, _ := strings.Cut(part, "=")
		n, err := strconv.ParseUint(val, 10, 32)
		if name != names[i] || err != nil || n < 1 || n > limits[i] || val != strconv.FormatUint(n, 10) {
			return p, malformed("parameter %q is not %s=1…%d", part, names[i], limits[i])
		}
		vals[i] = n
	}
	p.memory, p.time, p.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	if p.memory < 8*uint32(p.threads) {
		return p, malformed("memory m=%d is under 8 KiB per lane", p.memory)
	}
	return p, nil
}

// malformed returns an error wrapping ErrMalformed that says why.
func malformed(format string, args ...any) error {
	return fmt.Errorf("password: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
