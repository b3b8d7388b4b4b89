package sqldb

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"tillit"
)

// PasskeyConfig says who the relying party of passkeys is: the console's
// domain and the origins its pages are served from. A passkey works only
// on the domain it was registered on, so RPID must not change.
type PasskeyConfig struct {
	RPID          string   // the domain, such as tillit.example.com
	RPDisplayName string   // the name browsers show; "" for "tillit"
	RPOrigins     []string // such as https://tillit.example.com
}

// Validate checks the relying party and fills in defaults. Each origin
// must be https (http only for localhost) on RPID or one of its
// subdomains. Errors: EInvalid.
func (c *PasskeyConfig) Validate() error {
	if c.RPDisplayName == "" {
		c.RPDisplayName = "tillit"
	}
	if c.RPID == "" || strings.ContainsAny(c.RPID, ":/") {
		return tillit.FieldErrorf("rp_id", "the passkey relying party must be a domain name, such as tillit.example.com")
	}
	if len(c.RPOrigins) == 0 {
		return tillit.FieldErrorf("rp_origins", "passkeys need the origin of the console, such as https://%s", c.RPID)
	}
	c.RPOrigins = slices.Clone(c.RPOrigins)
	for i, o := range c.RPOrigins {
		o = strings.TrimRight(o, "/")
		c.RPOrigins[i] = o
		u, err := url.Parse(o)
		host := ""
		if err == nil {
			host = u.Hostname()
		}
		secure := err == nil && (u.Scheme == "https" || (u.Scheme == "http" && host == "localhost"))
		if !secure || u.Path != "" || (host != c.RPID && !strings.HasSuffix(host, "."+c.RPID)) {
			return tillit.FieldErrorf("rp_origins", "the passkey origin %q must be https://%s or a subdomain's, without a path", o, c.RPID)
		}
	}
	return nil
}

// PasskeyService implements tillit.PasskeyService on the sign-in service:
// it shares its store, its lockout and its sessions.
type PasskeyService struct {
	auth *AuthService
	db   *DB
	rp   *webauthn.WebAuthn
}

var _ tillit.PasskeyService = (*PasskeyService)(nil)

// NewPasskeyService returns the passkey service of the sign-in service.
// Errors: EInvalid (cfg).
func NewPasskeyService(auth *AuthService, cfg PasskeyConfig) (*PasskeyService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	timeout := webauthn.TimeoutConfig{Timeout: tillit.PasskeyChallengeTTL, TimeoutUVD: tillit.PasskeyChallengeTTL}
	rp, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             cfg.RPOrigins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, &tillit.Error{Code: tillit.EInvalid, Field: "rp_id", Message: "the passkey relying party is not valid", Err: err}
	}
	return &PasskeyService{auth: auth, db: auth.db, rp: rp}, nil
}

// The kinds of challenge.
const (
	challengeRegister = "register"
	challengeLogin    = "login"
	challengeStepUp   = "step_up"
)

// maxPasskeyName is the longest name of a passkey, in characters.
const maxPasskeyName = 64

// passkeyName returns the name trimmed, or an EInvalid error naming field
// "name". It may be empty.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxPasskeyName ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", tillit.FieldErrorf("name", "the name of a passkey is at most %d characters, on one line", maxPasskeyName)
	}
	return name, nil
}

// passkeyUser is an account as WebAuthn sees it: its random user handle
// and its credentials. name is shown by the authenticator only.
type passkeyUser struct {
	handle []byte
	name   string
	rows   []*passkeyRow
}

func (u *passkeyUser) WebAuthnID() []byte          { return u.handle }
func (u *passkeyUser) WebAuthnName() string        { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string { return u.name }

func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	creds := make([]webauthn.Credential, len(u.rows))
	for i, r := range u.rows {
		creds[i] = r.credential()
	}
	return creds
}

// exclusions lists the account's credentials, which a registration must
// not create again on the same authenticator.
func (u *passkeyUser) exclusions() []protocol.CredentialDescriptor {
	list := make([]protocol.CredentialDescriptor, len(u.rows))
	for i, r := range u.rows {
		c := r.credential()
		list[i] = c.Descriptor()
	}
	return list
}

// wrongPasskey is the one answer to a passkey that does not sign in: an
// unknown or another account's credential, a wrong origin, an old or used
// challenge, a bad signature, a signature counter that went back.
func wrongPasskey(err error) error {
	return &tillit.Error{Code: tillit.EUnauthenticated, Field: "credential",
		Message: "the passkey was not accepted; start again, or use another factor", Err: err}
}

// badRegistration is the answer to a registration that does not verify.
func badRegistration(err error) error {
	return &tillit.Error{Code: tillit.EInvalid, Field: "credential",
		Message: "the passkey could not be registered; start again", Err: err}
}

// challengeOver is the error of a challenge that is unknown, used or
// expired.
func challengeOver() error {
	return fmt.Errorf("passkey challenge unknown, used or older than %v", tillit.PasskeyChallengeTTL)
}
