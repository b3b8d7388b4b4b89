package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"tillit"
	"tillit/keyring"
)

const (
	// selfSignedLifetime is how long a new self-signed certificate is valid.
	selfSignedLifetime = 365 * 24 * time.Hour
	// selfSignedRenewBefore is how long before its expiry a self-signed
	// certificate is replaced at start-up.
	selfSignedRenewBefore = 7 * 24 * time.Hour
)

// ensureSelfSigned returns the files of a self-signed certificate for
// localhost, 127.0.0.1 and ::1 in dir (cert.pem, key.pem). It reuses the
// certificate there while it is valid for at least selfSignedRenewBefore
// more and matches the key; otherwise it writes a new one, valid for
// selfSignedLifetime from clock's now. The key (ECDSA P-256, mode 0600) is
// created once and kept across renewals; a key file that others may read is
// refused.
func ensureSelfSigned(dir string, clock tillit.Clock) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyPEM, _, err := keyring.LoadOrCreateKeyFile(keyFile, newECKeyPEM)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	key, err := parseECKey(keyPEM)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: key file %s: %w; move it away to get a new key", keyFile, err)
	}
	now := clock.Now()
	if certUsable(certFile, key, now) {
		return certFile, keyFile, nil
	}
	certPEM, err := newSelfSigned(key, now)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	return certFile, keyFile, nil
}

// certUsable reports whether the PEM certificate at path belongs to key and
// is valid from now until at least selfSignedRenewBefore later. A missing or
// unreadable file is not usable: it is replaced.
func certUsable(path string, key *ecdsa.PrivateKey, now time.Time) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	return ok && pub.Equal(key.Public()) &&
		!now.Before(cert.NotBefore) &&
		cert.NotAfter.Sub(now) >= selfSignedRenewBefore
}

// newSelfSigned returns a PEM certificate for localhost, 127.0.0.1 and ::1
// signed by key, valid from an hour before now (for clocks a little behind)
// to selfSignedLifetime after it.
func newSelfSigned(key *ecdsa.PrivateKey, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"tillit self-signed"}},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// newECKeyPEM returns a new ECDSA P-256 private key as PKCS #8 PEM.
func newECKeyPEM() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseECKey parses a PKCS #8 PEM ECDSA private key.
func parseECKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PKCS #8 PEM private key in it")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, not ECDSA", parsed)
	}
	return key, nil
}

// writeFileAtomic replaces the file at path with data and mode perm, so that
// a reader sees the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
