package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func fixed(b string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(b), nil }
}

func TestLoadOrCreateKeyFileExisting(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	tests := []struct {
		name    string
		mode    os.FileMode
		wantErr string // "" means the contents are returned
	}{
		{"owner only", 0o600, ""},
		{"owner read only", 0o400, ""},
		{"group and others read", 0o644, "chmod 600"},
		{"group read", 0o640, "chmod 600"},
		{"others write", 0o602, "chmod 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			data, created, err := LoadOrCreateKeyFile(path, fixed("new"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want one naming %s and %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created || string(data) != "old" {
				t.Errorf("got %q created=%v, want the existing \"old\"", data, created)
			}
		})
	}
}

func TestLoadOrCreateKeyFileCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "tls") // parents are missing too
	path := filepath.Join(dir, "secret.key")
	data, created, err := LoadOrCreateKeyFile(path, fixed("fresh"))
	if err != nil {
		t.Fatal(err)
	}
	if !created || string(data) != "fresh" {
		t.Fatalf("got %q created=%v, want \"fresh\" created", data, created)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode = %#o, want 0600", perm)
		}
		if dinfo, _ := os.Stat(dir); dinfo.Mode().Perm() != 0o700 {
			t.Errorf("directory mode = %#o, want 0700", dinfo.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (no temporary left)", len(entries))
	}
	again, created, err := LoadOrCreateKeyFile(path, fixed("other"))
	if err != nil || created || string(again) != "fresh" {
		t.Errorf("second call: %q created=%v err=%v, want the first contents", again, created, err)
	}
}

func TestLoadOrCreateKeyFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		gen   func() ([]byte, error)
		want  string
	}{
		{"generate fails", func(*testing.T, string) {}, func() ([]byte, error) { return nil, errors.New("no entropy") }, "no entropy"},
		{"path is a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, fixed("x"), "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			tt.setup(t, path)
			_, _, err := LoadOrCreateKeyFile(path, tt.gen)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestLoadOrCreateKeyFileRace checks that racing creators agree on one key.
func TestLoadOrCreateKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	const n = 16
	results := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], _, errs[i] = LoadOrCreateKeyFile(path, fixed(strings.Repeat(string(rune('a'+i)), 8)))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if !bytes.Equal(results[i], results[0]) {
			t.Fatalf("creator %d got %q, creator 0 got %q", i, results[i], results[0])
		}
	}
	onDisk, _ := os.ReadFile(path)
	if !bytes.Equal(onDisk, results[0]) {
		t.Errorf("file holds %q, creators got %q", onDisk, results[0])
	}
}

func TestLoadOrCreateRootKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	key, err := LoadOrCreateRootKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if *key == ([RootKeySize]byte{}) {
		t.Fatal("root key is all zeros")
	}
	text, _ := os.ReadFile(path)
	if !bytes.HasSuffix(text, []byte("\n")) {
		t.Errorf("file %q has no trailing newline", text)
	}
	again, err := LoadOrCreateRootKey(path)
	if err != nil || *again != *key {
		t.Errorf("second load = %x, %v; want the first key", again, err)
	}
}

func TestLoadOrCreateRootKeyInvalid(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"not base64", "not base64!\n"},
		{"too short", base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n"},
		{"too long", base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateRootKey(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s", err, path)
			}
		})
	}
}
