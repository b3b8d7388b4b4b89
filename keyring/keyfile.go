// Package keyring holds the keys of tillit and what is done with them. The
// design's key hierarchy (root key → tenant keys → person keys) and the key
// store are to come; today it holds:
//
//   - key files in the data directory (the root key among them): secrets kept
//     on disk with mode 0600, created atomically on first use and refused
//     when others may read them;
//   - DeriveKey, which derives one independent key per purpose from the root
//     key (HKDF-SHA256);
//   - Seal and Open: AES-256-GCM with associated data that binds each value
//     to its place, so a value copied elsewhere does not open;
//   - BlindIndex, for exact-match lookup of a value without its plaintext.
package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// RootKeySize is the size in bytes of the root key.
const RootKeySize = 32

// LoadOrCreateKeyFile returns the contents of the secret file at path. If the
// file does not exist, it creates it with the bytes of generate, mode 0600,
// atomically: a reader never sees it half-written, and when two processes
// race, both end up with the contents of the one that created it first.
// created reports whether this call wrote the file. The parent directory is
// created with mode 0700 if it is missing.
//
// An existing file that its group or others may read or write is refused:
// a key others could read is no longer a secret.
func LoadOrCreateKeyFile(path string, generate func() ([]byte, error)) (data []byte, created bool, err error) {
	data, err = readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return data, false, err
	}
	data, err = generate()
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: generate: %w", path, err)
	}
	err = createKeyFile(path, data)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our read and our link: use
		// theirs, so that both agree on one key.
		data, err = readKeyFile(path)
		return data, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// readKeyFile reads the key file at path, refusing it if its mode lets
// anyone but its owner read or write it. A missing file is an error for
// which errors.Is(err, fs.ErrNotExist) holds.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file (mode %s); move it away and start again", path, info.Mode())
	}
	// Windows has no Unix permission bits: Go reports every file as 0666
	// or 0444 there, so the check would refuse every key.
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key file %s has mode %#o and may be read or changed by others; make it private with: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return data, nil
}

// createKeyFile writes data to a new private file at path without ever
// replacing an existing one: it writes a temporary file in the same
// directory, syncs it, and hard-links it into place. A link, unlike a
// rename, fails when the target exists; the error then satisfies
// errors.Is(err, fs.ErrExist).
func createKeyFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // the link keeps the file; the temporary name goes
	if err := writeAndSync(tmp, data); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return nil
}

// writeAndSync makes f private, writes data, syncs and closes it.
func writeAndSync(f *os.File, data []byte) error {
	err := f.Chmod(0o600) // CreateTemp uses 0600 already; say so anyway, whatever the umask
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a new directory entry durable. Systems that cannot sync a
// directory (Windows) are not an error.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadOrCreateRootKey returns version 1 of the root keys kept at path (see
// LoadRootKeys), creating the file with a new random key if it does not
// exist.
func LoadOrCreateRootKey(path string) (*[RootKeySize]byte, error) {
	keys, err := LoadRootKeys(path)
	if err != nil {
		return nil, err
	}
	return keys.First(), nil
}

// newRootKeyText returns a new random root key as base64 text with a
// trailing newline.
func newRootKeyText() ([]byte, error) {
	var key [RootKeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	return []byte(base64.StdEncoding.EncodeToString(key[:]) + "\n"), nil
}
