package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tillit"
)

// Twilio error codes that tillit tells apart (https://www.twilio.com/docs/api/errors).
const (
	twilioInvalidTo     = 21211 // Invalid 'To' Phone Number
	twilioUnsubscribed  = 21610 // Attempt to send to unsubscribed recipient
	twilioNotMobile     = 21614 // 'To' number is not a valid mobile number
	twilioSendRateLimit = 14107 // SMS send rate limit exceeded
	twilioTooMany       = 20429 // Too Many Requests
)

// defaultRetryAfter is the wait for ETooMany when the provider names none.
const defaultRetryAfter = time.Second

// twilioError is the body of a Twilio 2010 API error answer. Its message is
// not kept: it may quote the phone number.
type twilioError struct {
	Code     int    `json:"code"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// SendSMS sends m through Twilio and returns once Twilio has accepted it
// for delivery. It returns EInvalid if m's number or body is unfit, or
// Twilio says the number cannot take text messages; ETooMany, with
// RetryAfter, if Twilio limits the rate; and EUnavailable if Twilio cannot
// be reached in time, refuses tillit's credentials or request, or fails.
// The number and body travel only in the POST body; the log gets the
// message SID, never the number or the body.
func (t *TwilioSender) SendSMS(ctx context.Context, m tillit.SMS) error {
	if err := checkSMS(m); err != nil {
		return err
	}
	status, header, body, err := t.post(ctx, t.form(m))
	if err != nil {
		msg := "the SMS provider could not be reached; try again later"
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			msg = "the SMS provider did not answer in time; try again later"
		case errors.Is(err, context.Canceled):
			msg = "sending was cancelled"
		}
		err = smsError(tillit.EUnavailable, msg, fmt.Errorf("twilio: %w", err))
		t.logger.Warn("sms failed", "error", err)
		return err
	}
	if status/100 != 2 {
		err := providerError(status, header, body)
		t.logger.Warn("sms failed", "http_status", status, "error", err)
		return err
	}
	var created struct {
		SID    string `json:"sid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.SID == "" {
		// Twilio took the message; an error now would invite a second copy.
		t.logger.Warn("sms sent, answer not understood", "http_status", status)
		return nil
	}
	t.logger.Info("sms sent", "sms_id", created.SID, "status", created.Status)
	return nil
}

// form returns the form of the Create Message request for m.
func (t *TwilioSender) form(m tillit.SMS) url.Values {
	f := url.Values{"To": {m.To}, "Body": {m.Body}}
	if serviceSID.MatchString(t.cfg.From) {
		f.Set("MessagingServiceSid", t.cfg.From)
	} else {
		f.Set("From", t.cfg.From)
	}
	return f
}

// post sends the form to the Messages endpoint and returns the answer's
// status, header and (at most 1 MiB of) body.
func (t *TwilioSender) post(ctx context.Context, form url.Values) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, err
	}
	req.SetBasicAuth(t.cfg.AccountID, t.cfg.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tillit/"+tillit.Version)
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	// A body cut short still leaves the status, which decides.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, body, nil
}

// providerError maps an error answer of Twilio to a tillit error.
func providerError(status int, header http.Header, body []byte) error {
	var te twilioError
	_ = json.Unmarshal(body, &te) // a body that is not Twilio's leaves only the status
	cause := fmt.Errorf("twilio: HTTP %d, error code %d (%s)", status, te.Code, te.MoreInfo)
	switch {
	case status == http.StatusTooManyRequests || te.Code == twilioTooMany || te.Code == twilioSendRateLimit:
		e := smsError(tillit.ETooMany, "too many text messages are being sent; try again in a moment", cause)
		e.RetryAfter = retryAfter(header)
		return e
	case te.Code == twilioInvalidTo || te.Code == twilioNotMobile:
		e := smsError(tillit.EInvalid, "the phone number cannot take text messages; check that it is a mobile number in international form, e.g. +4791234567", cause)
		e.Field = "to"
		return e
	case te.Code == twilioUnsubscribed:
		e := smsError(tillit.EInvalid, "the phone number has opted out of text messages from this sender (it answered STOP)", cause)
		e.Field = "to"
		return e
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return smsError(tillit.EUnavailable, "the SMS provider refused tillit's credentials; ask the operator to check the SMS account id and token", cause)
	case status >= 500:
		return smsError(tillit.EUnavailable, "the SMS provider is not available; try again later", cause)
	}
	what := fmt.Sprintf("HTTP %d", status)
	if te.Code != 0 {
		what += fmt.Sprintf(", error %d", te.Code)
	}
	return smsError(tillit.EUnavailable,
		"the SMS provider refused the request ("+what+"); ask the operator to check the SMS settings", cause)
}

// smsError returns a tillit error for a text message that was not sent.
func smsError(code, msg string, err error) *tillit.Error {
	return &tillit.Error{Code: code, Message: "the text message could not be sent: " + msg, Err: err}
}

// retryAfter returns the wait of a Retry-After header in seconds, or
// defaultRetryAfter if there is none (an HTTP date counts as none).
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return defaultRetryAfter
}
