package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"tillit"
)

// ProviderTwilio names the Twilio Programmable Messaging API (and the APIs
// of other providers that speak it) in SMSConfig.Provider.
const ProviderTwilio = "twilio"

// DefaultTwilioURL is the base URL of Twilio's REST API.
const DefaultTwilioURL = "https://api.twilio.com"

// DefaultSMSTimeout bounds one request to the provider when
// SMSConfig.Timeout is zero.
const DefaultSMSTimeout = 10 * time.Second

// MaxSMSBody is the longest body, in characters, a provider takes: Twilio
// splits it into up to ten segments.
const MaxSMSBody = 1600

var (
	e164Pattern   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	alphaSender   = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	serviceSID    = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	accountSIDish = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// SMSConfig says how to reach the SMS provider (a sub-processor) that
// sends tillit's text messages.
type SMSConfig struct {
	Provider  string        // ProviderTwilio, the one supported
	BaseURL   string        // "" for DefaultTwilioURL; another for a Twilio-compatible API; http only to loopback
	AccountID string        // the Account SID (AC…), in the URL path and the basic-auth user
	Token     string        // the Auth Token of the account, the basic-auth password
	From      string        // the sender: E.164 number, alphanumeric sender ID, or Messaging Service SID (MG…)
	Timeout   time.Duration // bound of one request; 0 for DefaultSMSTimeout
}

// Validate reports every setting that is wrong, each with how to fix it.
func (c SMSConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Provider {
	case ProviderTwilio:
	case "":
		bad("sms provider: empty; use %q (the Twilio Messages API, or a provider compatible with it)", ProviderTwilio)
	default:
		bad("sms provider: %q is not supported; use %q (the Twilio Messages API, or a provider compatible with it)", c.Provider, ProviderTwilio)
	}
	if err := checkBaseURL(c.BaseURL); err != nil {
		bad("sms base url: %v", err)
	}
	switch {
	case c.AccountID == "":
		bad("sms account id: empty; set the Account SID (AC…) from the provider's console")
	case !accountSIDish.MatchString(c.AccountID):
		bad("sms account id: it may hold only letters, digits, '-' and '_'; copy the Account SID (AC…) from the provider's console")
	case c.BaseURL == "" && !strings.HasPrefix(c.AccountID, "AC"):
		bad("sms account id: a Twilio Account SID starts with AC; an API key (SK…) cannot be used here")
	}
	if c.Token == "" {
		bad("sms token: empty; set the Auth Token of the account")
	}
	if !validSender(c.From) {
		bad("sms from: %q is not a sender; use a number in E.164 form (+4791234567), an alphanumeric sender ID of 1-11 letters, digits and spaces with at least one letter, or a Messaging Service SID (MG…)", c.From)
	}
	if c.Timeout < 0 {
		bad("sms timeout: %v is negative; use e.g. 10s, or 0 for the default", c.Timeout)
	}
	return errors.Join(errs...)
}

// checkBaseURL checks the base URL of the provider's API: https, or http to
// a loopback host (a fake in tests), without credentials, query or fragment.
func checkBaseURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("%q is not a URL; use e.g. %s", s, DefaultTwilioURL)
	case u.User != nil:
		return errors.New("it holds credentials; put them in account id and token instead")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("it holds a query or fragment; give the scheme, host and path prefix only")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q: use https (plain http is allowed only to a loopback host)", s)
}

// validSender reports whether from is an E.164 number, an alphanumeric
// sender ID (with at least one letter), or a Messaging Service SID.
func validSender(from string) bool {
	if e164Pattern.MatchString(from) || serviceSID.MatchString(from) {
		return true
	}
	return alphaSender.MatchString(from) && strings.ContainsFunc(from, func(r rune) bool {
		return ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
	})
}

// TwilioSender sends text messages through the Twilio Messages API:
// POST {BaseURL}/2010-04-01/Accounts/{AccountSid}/Messages.json with a
// form-encoded To, From (or MessagingServiceSid) and Body, and HTTP basic
// authentication with the Account SID and Auth Token. It is safe for
// concurrent use.
type TwilioSender struct {
	cfg      SMSConfig
	endpoint string
	client   *http.Client
	logger   *slog.Logger
}

var _ tillit.SMSSender = (*TwilioSender)(nil)

// NewSMSSender returns the sender of cfg.Provider, or the error of
// cfg.Validate.
func NewSMSSender(cfg SMSConfig, logger *slog.Logger) (tillit.SMSSender, error) {
	// Validate refuses every other provider.
	s, err := NewTwilioSender(cfg, logger)
	if err != nil {
		return nil, err // not a nil *TwilioSender in a non-nil interface
	}
	return s, nil
}

// NewTwilioSender returns a sender for the Twilio Messages API, or the
// error of cfg.Validate. It does not connect.
func NewTwilioSender(cfg SMSConfig, logger *slog.Logger) (*TwilioSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultTwilioURL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMSTimeout
	}
	return &TwilioSender{
		cfg:      cfg,
		endpoint: strings.TrimSuffix(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountID) + "/Messages.json",
		client: &http.Client{
			// A redirect means a wrong base URL; following it would turn the
			// POST into a GET or carry the credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger: logger,
	}, nil
}

// checkSMS returns EInvalid if m cannot be sent: a number not in E.164
// form, or an empty or too long body. The message never quotes the number.
func checkSMS(m tillit.SMS) error {
	if !e164Pattern.MatchString(m.To) {
		return tillit.FieldErrorf("to", "the phone number must be in international form, e.g. +4791234567")
	}
	if strings.TrimSpace(m.Body) == "" {
		return tillit.FieldErrorf("body", "the text message is empty")
	}
	if !utf8.ValidString(m.Body) || utf8.RuneCountInString(m.Body) > MaxSMSBody {
		return tillit.FieldErrorf("body", "the text message must be UTF-8 text of at most %d characters", MaxSMSBody)
	}
	return nil
}
