package sqldbtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// Authenticator is a software WebAuthn authenticator and the browser in
// front of it: it answers the options of navigator.credentials.create()
// and get() with the PublicKeyCredential JSON a browser sends, built as
// the WebAuthn specification says (clientDataJSON, authenticator data,
// COSE keys, "none" or "packed" self attestation, ES256 signatures). It
// uses no WebAuthn library, so that it checks the server's, not its own.
type Authenticator struct {
	Origin  string // the origin the "browser" reports in clientDataJSON
	Format  string // the attestation format: "none" (default) or "packed"
	NoUV    bool   // the person is present but not verified (no PIN)
	NoCount bool   // keeps no signature counter: sends 0, as synced passkeys do
	creds   []*softCredential
}

// softCredential is a key pair the authenticator made for a relying party.
type softCredential struct {
	id    []byte
	key   *ecdsa.PrivateKey
	rpID  string
	user  []byte // the user handle
	count uint32 // the signature counter
}

// NewAuthenticator returns an authenticator whose browser is at origin.
func NewAuthenticator(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Clone returns an authenticator with copies of the keys and counters,
// which go on separately from now: a cloned security key.
func (a *Authenticator) Clone() *Authenticator {
	c := *a
	c.creds = nil
	for _, cr := range a.creds {
		n := *cr
		c.creds = append(c.creds, &n)
	}
	return &c
}

// IDs returns the ids of the credentials it holds, oldest first.
func (a *Authenticator) IDs() [][]byte {
	var ids [][]byte
	for _, c := range a.creds {
		ids = append(ids, c.id)
	}
	return ids
}

// creationOptions is what Create reads of navigator.credentials.create()'s
// options.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

// Create makes a new credential for the options ({"publicKey": …}) and
// returns the registration response JSON.
func (a *Authenticator) Create(tb testing.TB, options []byte) []byte {
	tb.Helper()
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		tb.Fatalf("creation options: %v", err)
	}
	for _, ex := range o.PublicKey.Exclude {
		for _, c := range a.creds {
			if ex.ID == b64(c.id) {
				tb.Fatalf("the authenticator holds an excluded credential")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	c := &softCredential{id: randomBytes(tb, 32), key: key, rpID: o.PublicKey.RP.ID, user: unb64(tb, o.PublicKey.User.ID)}
	a.creds = append(a.creds, c)
	client := a.clientData("webauthn.create", o.PublicKey.Challenge)
	authData := a.authData(c, 0x40) // and the attested credential data: AAGUID (zero), length, id, key
	authData = append(authData, make([]byte, 16)...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(c.id)))
	authData = append(append(authData, c.id...), coseKey(key)...)
	stmt := cborMap()
	if a.Format == "packed" {
		sig := sign(tb, key, authData, client)
		stmt = cborMap(cborText("alg"), cborInt(-7), cborText("sig"), cborBytes(sig))
	}
	format := a.Format
	if format == "" {
		format = "none"
	}
	obj := cborMap(cborText("fmt"), cborText(format), cborText("attStmt"), stmt, cborText("authData"), cborBytes(authData))
	return mustJSON(tb, map[string]any{
		"id": b64(c.id), "rawId": b64(c.id), "type": "public-key", "authenticatorAttachment": "cross-platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(client), "attestationObject": b64(obj),
			"transports": []string{"usb", "nfc"}},
	})
}

// requestOptions is what Get reads of navigator.credentials.get()'s
// options.
type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		Allow     []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

// Get signs the options' challenge ({"publicKey": …}) with the first
// allowed credential it holds and returns the assertion response JSON. If
// it holds none of them it signs with its first credential all the same,
// as a hostile client would.
func (a *Authenticator) Get(tb testing.TB, options []byte) []byte {
	tb.Helper()
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		tb.Fatalf("request options: %v", err)
	}
	if len(a.creds) == 0 {
		tb.Fatal("the authenticator holds no credential")
	}
	c := a.creds[0]
	for _, allow := range o.PublicKey.Allow {
		for _, cr := range a.creds {
			if allow.ID == b64(cr.id) {
				c = cr
			}
		}
	}
	if !a.NoCount {
		c.count++
	}
	client := a.clientData("webauthn.get", o.PublicKey.Challenge)
	authData := a.authData(c, 0)
	return mustJSON(tb, map[string]any{
		"id": b64(c.id), "rawId": b64(c.id), "type": "public-key", "authenticatorAttachment": "cross-platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(client), "authenticatorData": b64(authData),
			"signature": b64(sign(tb, c.key, authData, client)), "userHandle": b64(c.user)},
	})
}

// clientData returns the clientDataJSON the browser makes.
func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData returns the authenticator data's fixed part: the SHA-256 of
// the RP ID, the flags UP and UV (unless NoUV) and more, and the counter.
func (a *Authenticator) authData(c *softCredential, more byte) []byte {
	h := sha256.Sum256([]byte(c.rpID))
	flags := 0x01 | more
	if !a.NoUV {
		flags |= 0x04
	}
	return binary.BigEndian.AppendUint32(append(h[:], flags), c.count)
}

// sign signs authData || SHA-256(clientDataJSON) with ES256 (DER).
func sign(tb testing.TB, key *ecdsa.PrivateKey, authData, client []byte) []byte {
	h := sha256.Sum256(client)
	digest := sha256.Sum256(append(bytes.Clone(authData), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// coseKey returns the public key as a COSE_Key: EC2, ES256, P-256.
func coseKey(key *ecdsa.PrivateKey) []byte {
	raw, _ := key.PublicKey.Bytes() // 0x04 || X || Y
	return cborMap(cborInt(1), cborInt(2), cborInt(3), cborInt(-7), cborInt(-1), cborInt(1),
		cborInt(-2), cborBytes(raw[1:33]), cborInt(-3), cborBytes(raw[33:65]))
}

// The few CBOR (RFC 8949) items WebAuthn needs.
func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	}
	return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
}

func cborInt(n int64) []byte {
	if n < 0 {
		return cborHead(1, uint64(-1-n))
	}
	return cborHead(0, uint64(n))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

// cborMap encodes keys and values, alternating, in the order given.
func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, item := range kv {
		out = append(out, item...)
	}
	return out
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(tb testing.TB, s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func randomBytes(tb testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustJSON(tb testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
