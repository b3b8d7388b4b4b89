package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the size in bytes of every key of the keyring: AES-256 and
// HMAC-SHA256 keys alike.
const KeySize = 32

// Sealed values: a version byte, then the GCM nonce, then the ciphertext
// with its tag.
const (
	sealVersion = 1
	nonceSize   = 12 // bytes: GCM's standard 96-bit nonce
	tagSize     = 16 // bytes: GCM's full tag
	sealedExtra = 1 + nonceSize + tagSize

	// BlindIndexSize is the length in bytes of a blind index.
	BlindIndexSize = 16
)

// ErrOpen is wrapped by every error of Open: the key or the associated data
// is not the one the value was sealed with, or the value was changed.
var ErrOpen = errors.New("keyring: cannot open sealed value")

// derivePrefix separates the keys DeriveKey makes from any other use of the
// root key; "v1" leaves room for another scheme without key reuse.
const derivePrefix = "tillit/v1/"

// DeriveKey derives a 256-bit key for one purpose (such as "account-email",
// "account-email-index" or "totp") from the root key, with HKDF-SHA256 (no
// salt; info "tillit/v1/" + purpose). Each purpose gets its own independent
// key, so one root key serves many purposes without ever using a key for
// two. purpose must not be empty.
func DeriveKey(root *[32]byte, purpose string) *[32]byte {
	if purpose == "" {
		panic("keyring: DeriveKey with an empty purpose")
	}
	raw, err := hkdf.Key(sha256.New, root[:], nil, derivePrefix+purpose, KeySize)
	if err != nil {
		// hkdf.Key fails only for lengths over 255 hash blocks.
		panic(fmt.Sprintf("keyring: DeriveKey: %v", err))
	}
	return (*[32]byte)(raw)
}

// Seal encrypts plaintext with AES-256-GCM under key with a random 96-bit
// nonce, binding aad, the value's place (such as "account:12:email"), so
// that a sealed value copied to another place does not open there. aad is
// authenticated, not stored: Open needs the same. The result is the version
// byte 1, the nonce, then the ciphertext and its 16-byte tag: 29 bytes more
// than plaintext. Random nonces keep a key safe for about 2^32 seals.
func Seal(key *[32]byte, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return sealWith(gcm, plaintext, aad), nil
}

// sealWith seals with a GCM of newGCM: the version byte, then (written by
// the random-nonce GCM) the nonce, the ciphertext and its tag.
func sealWith(gcm cipher.AEAD, plaintext, aad []byte) []byte {
	out := make([]byte, 1, sealedExtra+len(plaintext))
	out[0] = sealVersion
	return gcm.Seal(out, nil, plaintext, aad)
}

// Open decrypts a value made by Seal with the same key and aad. A wrong key,
// a wrong aad, an unknown version, a short value or any changed byte is an
// error wrapping ErrOpen; it never returns unauthenticated plaintext.
func Open(key *[32]byte, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return openWith(gcm, sealed, aad)
}

// openWith opens what sealWith sealed. Errors wrap ErrOpen.
func openWith(gcm cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < sealedExtra {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrOpen, len(sealed))
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrOpen, sealed[0])
	}
	plaintext, err := gcm.Open(nil, nil, sealed[1:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: wrong key or place, or changed", ErrOpen)
	}
	return plaintext, nil
}

// newGCM returns AES-256-GCM under key that draws a random nonce for each
// Seal and reads it from the front of each Open.
func newGCM(key *[32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	gcm, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return gcm, nil
}

// BlindIndex returns the first 16 bytes of the HMAC-SHA256 of value under
// key: the same value gives the same index, so a store can find a row by an
// exact value without keeping it in plain text. The caller normalises value
// first (for example, lower-cases an e-mail address); use a key derived for
// indexes alone, never one that also seals.
func BlindIndex(key *[32]byte, value string) []byte {
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(value))
	return mac.Sum(nil)[:BlindIndexSize]
}
