package auditlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// KeyName names the audit signing key in its note texts.
const KeyName = "tillit-audit"

// Signer signs checkpoints with an Ed25519 key in the signed note format.
type Signer struct {
	signer note.Signer
	vkey   string
}

// GenerateKey returns a new signer key and its verifier key, as note texts
// ("PRIVATE+KEY+tillit-audit+…" and "tillit-audit+…").
func GenerateKey() (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, KeyName)
}

// NewSigner parses a signer key made by GenerateKey.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("auditlog: signer key: %w", err)
	}
	vkey, err := verifierKeyOf(strings.TrimSpace(skey))
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, vkey: vkey}, nil
}

// verifierKeyOf derives the verifier key text from a signer key text:
// "PRIVATE+KEY+name+hash+key" holds the Ed25519 seed.
func verifierKeyOf(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5) // the key itself is base64 and may hold "+"
	if len(parts) != 5 {
		return "", fmt.Errorf("auditlog: signer key is not in note format")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", fmt.Errorf("auditlog: signer key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// VerifierKey returns the public verifier key text of the signer.
func (s *Signer) VerifierKey() string { return s.vkey }

// Origin names a log in its checkpoints, so that a checkpoint of one log
// cannot pass for another's.
func Origin(log int64) string { return fmt.Sprintf("tillit/audit/%d", log) }

// Sign returns the signed checkpoint note of a log's size and root hash
// (C2SP tlog-checkpoint body: origin, size, base64 root hash).
func (s *Signer) Sign(log, size int64, root tlog.Hash) (string, error) {
	text := fmt.Sprintf("%s\n%d\n%s\n", Origin(log), size, base64.StdEncoding.EncodeToString(root[:]))
	msg, err := note.Sign(&note.Note{Text: text}, s.signer)
	if err != nil {
		return "", fmt.Errorf("auditlog: sign checkpoint: %w", err)
	}
	return string(msg), nil
}

// OpenCheckpoint verifies a signed checkpoint note of log against the
// verifier key and returns the size and root hash it states.
func OpenCheckpoint(msg string, log int64, vkey string) (size int64, root tlog.Hash, err error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return 0, root, fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		return 0, root, fmt.Errorf("signature does not verify: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != Origin(log) {
		return 0, root, fmt.Errorf("checkpoint is not of log %d", log)
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return 0, root, fmt.Errorf("checkpoint size %q is not a number", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return 0, root, fmt.Errorf("checkpoint root hash is malformed")
	}
	copy(root[:], h)
	return size, root, nil
}

// CheckInclusion checks that leaf is the index-th leaf of the tree of size
// with root, given the proof's hashes.
func CheckInclusion(proof []tlog.Hash, size int64, root tlog.Hash, index int64, leaf tlog.Hash) error {
	return tlog.CheckRecord(tlog.RecordProof(proof), size, root, index, leaf)
}

// equalHashes reports whether stored is exactly the concatenation of hs.
func equalHashes(stored []byte, hs []tlog.Hash) bool {
	if len(stored) != len(hs)*tlog.HashSize {
		return false
	}
	for i, h := range hs {
		if !bytes.Equal(stored[i*tlog.HashSize:(i+1)*tlog.HashSize], h[:]) {
			return false
		}
	}
	return true
}
