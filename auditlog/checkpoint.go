package auditlog

import "errors"

// Signer signs checkpoints with an Ed25519 key in the signed note format.
type Signer struct{}

// GenerateKey returns a new signer key and its verifier key, as note texts
// ("PRIVATE+KEY+name+…" and "name+hash+key").
func GenerateKey(name string) (skey, vkey string, err error) { return "", "", errors.New("TODO") }

// NewSigner parses a signer key made by GenerateKey.
func NewSigner(skey string) (*Signer, error) { return nil, errors.New("TODO") }

// VerifierKey returns the public verifier key text of the signer.
func (s *Signer) VerifierKey() string { return "" }

// Report summarises a verification that passed.
type Report struct {
	Logs        int   // logs verified
	Events      int64 // events recomputed
	Checkpoints int   // checkpoint signatures checked
}

// Failure names the first bad event of a log that failed verification.
type Failure struct {
	Log    int64
	Index  int64 // the first bad event, or -1 when the log as a whole is at fault
	Reason string
}

func (f *Failure) Error() string { return "TODO" }
