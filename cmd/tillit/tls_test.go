package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fixedClock is a Clock that tells the time it is set to.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mustSelfSigned calls ensureSelfSigned at now and returns the certificate
// file's bytes and parsed certificate.
func mustSelfSigned(t *testing.T, dir string, now time.Time) ([]byte, *x509.Certificate) {
	t.Helper()
	certFile, keyFile, err := ensureSelfSigned(dir, &fixedClock{now})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("certificate and key do not make a pair: %v", err)
	}
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	return data, pair.Leaf
}

func TestSelfSignedVerifies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	_, cert := mustSelfSigned(t, dir, start)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			if err := cert.VerifyHostname(host); err != nil {
				t.Error(err)
			}
			_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: start.Add(time.Minute)})
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := cert.VerifyHostname("example.com"); err == nil {
		t.Error("certificate is valid for example.com")
	}
	if got := cert.NotAfter.Sub(start); got != selfSignedLifetime {
		t.Errorf("valid for %v after now, want %v", got, selfSignedLifetime)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(filepath.Join(dir, "key.pem"))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("key file: %v, mode %v; want mode 0600", err, info.Mode().Perm())
		}
	}
}

func TestSelfSignedRenewal(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name    string
		later   time.Duration // after the first certificate was made
		wantNew bool
	}{
		{"next day", day, false},
		{"eight days left", selfSignedLifetime - 8*day, false},
		{"seven days left", selfSignedLifetime - 7*day, false},
		{"six days left", selfSignedLifetime - 6*day, true},
		{"expired", selfSignedLifetime + day, true},
		{"clock before the certificate", -2 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first, firstCert := mustSelfSigned(t, dir, start)
			second, secondCert := mustSelfSigned(t, dir, start.Add(tt.later))
			if renewed := !bytes.Equal(first, second); renewed != tt.wantNew {
				t.Fatalf("renewed = %v, want %v", renewed, tt.wantNew)
			}
			if !secondCert.PublicKey.(*ecdsa.PublicKey).Equal(firstCert.PublicKey) {
				t.Error("the key changed; it should be kept across renewals")
			}
			if tt.wantNew && secondCert.NotAfter.Sub(start.Add(tt.later)) != selfSignedLifetime {
				t.Errorf("renewed certificate expires %v, want a year after %v", secondCert.NotAfter, start.Add(tt.later))
			}
		})
	}
}

func TestSelfSignedReplacesBadCertificate(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, dir string)
	}{
		{"certificate is garbage", func(t *testing.T, dir string) {
			writeOver(t, filepath.Join(dir, "cert.pem"), []byte("not a certificate"), 0o644)
		}},
		{"certificate is missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "cert.pem")); err != nil {
				t.Fatal(err)
			}
		}},
		{"key was replaced", func(t *testing.T, dir string) {
			key, err := newECKeyPEM()
			if err != nil {
				t.Fatal(err)
			}
			writeOver(t, filepath.Join(dir, "key.pem"), key, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustSelfSigned(t, dir, start)
			tt.spoil(t, dir)
			mustSelfSigned(t, dir, start.Add(time.Hour)) // checks that the pair matches
		})
	}
}

func TestSelfSignedRefusesBadKey(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		mode os.FileMode
		want string
	}{
		{"readable by others", nil, 0o644, "chmod 600"},
		{"not a key", []byte("garbage"), 0o600, "move it away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode != 0o600 {
				t.Skip("no Unix permission bits on Windows")
			}
			dir := t.TempDir()
			mustSelfSigned(t, dir, start)
			keyFile := filepath.Join(dir, "key.pem")
			key := tt.key
			if key == nil {
				key, _ = os.ReadFile(keyFile)
			}
			writeOver(t, keyFile, key, tt.mode)
			_, _, err := ensureSelfSigned(dir, &fixedClock{start})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), keyFile) {
				t.Fatalf("err = %v, want one naming %s and %q", err, keyFile, tt.want)
			}
		})
	}
}

// writeOver replaces the file at path with data and mode.
func writeOver(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
