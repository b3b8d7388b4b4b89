package sqldb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"tillit"
	"tillit/keyring"
	"tillit/password"
)

// AuthConfig is what the account and sign-in services need beside the
// store. The store's Clock is their clock.
type AuthConfig struct {
	// RootKey is the key from which the keys that seal e-mail addresses,
	// phone numbers and TOTP secrets, and the key of the e-mail blind
	// index, are derived. Required.
	RootKey *[32]byte
	// Hasher hashes and verifies passwords. Required.
	Hasher *password.Hasher
	// Mailer sends invitations, password resets and lockout notices.
	// Required.
	Mailer tillit.Mailer
	// SMS sends sign-in codes; nil makes SMS codes unavailable.
	SMS tillit.SMSSender
	// BaseURL is where people reach the console, such as
	// https://tillit.example.com; links in e-mails start with it.
	BaseURL string
}

// Validate reports what is missing. Errors: EInvalid.
func (c *AuthConfig) Validate() error {
	switch {
	case c.RootKey == nil:
		return tillit.FieldErrorf("root_key", "the sign-in services need the root key")
	case c.Hasher == nil:
		return tillit.FieldErrorf("hasher", "the sign-in services need a password hasher")
	case c.Mailer == nil:
		return tillit.FieldErrorf("mailer", "the sign-in services need a mailer")
	case !strings.HasPrefix(c.BaseURL, "https://") && !strings.HasPrefix(c.BaseURL, "http://"):
		return tillit.FieldErrorf("base_url", "the base URL must start with https:// (or http:// behind a TLS proxy)")
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return nil
}

// The purposes of the keys derived from the root key.
const (
	purposeEmail      = "account-email"
	purposeEmailIndex = "account-email-index"
	purposeTOTP       = "account-totp"
	purposePhone      = "account-phone"
	purposeSMSCode    = "sms-code"
)

// authCore is what the account and sign-in services share: the store, the
// configuration and the derived keys.
type authCore struct {
	db                                    *DB
	cfg                                   AuthConfig
	emailKey, indexKey, totpKey, phoneKey *[32]byte
	smsKey                                *[32]byte      // keys the stored hashes of SMS codes
	mail                                  sync.WaitGroup // e-mails sent in the background
}

func newAuthCore(db *DB, cfg AuthConfig) (*authCore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &authCore{db: db, cfg: cfg,
		emailKey: keyring.DeriveKey(cfg.RootKey, purposeEmail),
		indexKey: keyring.DeriveKey(cfg.RootKey, purposeEmailIndex),
		totpKey:  keyring.DeriveKey(cfg.RootKey, purposeTOTP),
		phoneKey: keyring.DeriveKey(cfg.RootKey, purposePhone),
		smsKey:   keyring.DeriveKey(cfg.RootKey, purposeSMSCode),
	}, nil
}

// normalizeEmail returns the address trimmed and lowercased, or an
// EInvalid error naming field "email".
func normalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 || !strings.Contains(s, "@") {
		return "", tillit.FieldErrorf("email", "email must be a plain e-mail address such as name@example.com")
	}
	return s, nil
}

// localPart returns the part of an e-mail address before the @.
func localPart(email string) string {
	local, _, _ := strings.Cut(email, "@")
	return local
}

// emailIndex returns the blind index of a normalized e-mail address.
func (c *authCore) emailIndex(email string) []byte { return keyring.BlindIndex(c.indexKey, email) }

// aad returns the associated data that binds a sealed value to its account
// and column: "account:<id>:<what>".
func aad(accountID int64, what string) []byte {
	return fmt.Appendf(nil, "account:%d:%s", accountID, what)
}

func (c *authCore) sealEmail(id int64, email string) ([]byte, error) {
	return keyring.Seal(c.emailKey, []byte(email), aad(id, "email"))
}

func (c *authCore) openEmail(id int64, sealed []byte) (string, error) {
	b, err := keyring.Open(c.emailKey, sealed, aad(id, "email"))
	if err != nil {
		return "", tillit.Internal(fmt.Errorf("account %d: open e-mail: %w", id, err))
	}
	return string(b), nil
}

func (c *authCore) sealTOTP(id int64, secret string) ([]byte, error) {
	return keyring.Seal(c.totpKey, []byte(secret), aad(id, "totp"))
}

func (c *authCore) openTOTP(id int64, sealed []byte) (string, error) {
	b, err := keyring.Open(c.totpKey, sealed, aad(id, "totp"))
	if err != nil {
		return "", tillit.Internal(fmt.Errorf("account %d: open TOTP secret: %w", id, err))
	}
	return string(b), nil
}

func (c *authCore) sealPhone(id int64, phone string) ([]byte, error) {
	return keyring.Seal(c.phoneKey, []byte(phone), aad(id, "phone"))
}

func (c *authCore) openPhone(id int64, sealed []byte) (string, error) {
	b, err := keyring.Open(c.phoneKey, sealed, aad(id, "phone"))
	if err != nil {
		return "", tillit.Internal(fmt.Errorf("account %d: open phone: %w", id, err))
	}
	return string(b), nil
}

// newSecret returns 256 random bits as unpadded base64url text.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", tillit.Internal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// mailTimeout bounds an e-mail sent in the background.
const mailTimeout = time.Minute

// sendLater sends m in the background, so that whether a mail is sent
// does not show in the time a request takes. Failures are logged with the
// kind of mail, never its recipient.
func (c *authCore) sendLater(kind string, m tillit.Mail) {
	c.mail.Add(1)
	go func() {
		defer c.mail.Done()
		ctx, cancel := context.WithTimeout(context.Background(), mailTimeout)
		defer cancel()
		if err := c.cfg.Mailer.Send(ctx, m); err != nil {
			c.db.logger.Error("e-mail not sent", "mail", kind, "code", tillit.ErrorCode(err))
		}
	}()
}

// link returns the URL of a console page with a one-time token in its
// fragment, which browsers never send to a server, so it is in no log.
func (c *authCore) link(page, token string) string {
	return c.cfg.BaseURL + "/" + page + "#" + token
}
