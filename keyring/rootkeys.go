package keyring

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RootKeys are the versions of the root key, from the root key file: one
// base64 key per line, oldest first; a key's version is its line number.
// The newest wraps new tenant keys; older ones stay to open what they
// wrapped until a rotation has re-wrapped it. Version 1 also derives the
// keys that seal account secrets (DeriveKey).
type RootKeys struct {
	keys [][RootKeySize]byte // keys[v-1] is version v
}

// Newest returns the newest version and its key.
func (r *RootKeys) Newest() (uint32, *[RootKeySize]byte) {
	return uint32(len(r.keys)), &r.keys[len(r.keys)-1]
}

// Key returns the key of version v, if the file holds it.
func (r *RootKeys) Key(v uint32) (*[RootKeySize]byte, bool) {
	if v < 1 || int(v) > len(r.keys) {
		return nil, false
	}
	return &r.keys[v-1], true
}

// First returns version 1, the key account secrets are derived from.
func (r *RootKeys) First() *[RootKeySize]byte { return &r.keys[0] }

// LoadRootKeys reads the root key file at path, creating it with one new
// random key (mode 0600) if it does not exist. A file that others may read,
// or with a line that is not RootKeySize bytes of base64, is refused.
func LoadRootKeys(path string) (*RootKeys, error) {
	text, _, err := LoadOrCreateKeyFile(path, newRootKeyText)
	if err != nil {
		return nil, err
	}
	return parseRootKeys(path, text)
}

func parseRootKeys(path string, text []byte) (*RootKeys, error) {
	r := &RootKeys{}
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
		if err != nil || len(raw) != RootKeySize {
			return nil, fmt.Errorf("root key file %s: line %d does not hold %d bytes of base64; restore it from your backup (without it, sealed data cannot be read)", path, len(r.keys)+1, RootKeySize)
		}
		r.keys = append(r.keys, [RootKeySize]byte(raw))
	}
	return r, nil
}

// AddRootKeyVersion appends a new random key to the root key file at path
// and returns the keys with it. The file is replaced atomically (a
// temporary file renamed over it), so a crash leaves the old or the new
// file, never a torn one.
func AddRootKeyVersion(path string) (*RootKeys, error) {
	text, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("root key file %s does not exist", path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := parseRootKeys(path, text); err != nil {
		return nil, err
	}
	line, err := newRootKeyText()
	if err != nil {
		return nil, err
	}
	text = append([]byte(strings.TrimSpace(string(text))+"\n"), line...)
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("root key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeAndSync(tmp, text); err != nil {
		return nil, fmt.Errorf("root key file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("root key file %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("root key file %s: %w", path, err)
	}
	return parseRootKeys(path, text)
}
