package smstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// e164 is the form of a phone number Twilio accepts in To.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// check validates a Create Message form as Twilio does and returns the
// status, error code and message of the first fault, or a zero code.
func check(form url.Values) (status, code int, msg string) {
	to := form.Get("To")
	switch {
	case to == "":
		return http.StatusBadRequest, 21604, "A 'To' phone number is required."
	case !e164.MatchString(to):
		// Twilio quotes the number, so a client must not log this message.
		return http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)
	case form.Get("From") == "" && form.Get("MessagingServiceSid") == "":
		return http.StatusBadRequest, 21603, "A 'From' phone number is required."
	case form.Get("Body") == "":
		return http.StatusBadRequest, 21602, "Message body is required."
	case utf8.RuneCountInString(form.Get("Body")) > 1600:
		return http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit."
	}
	return 0, 0, ""
}

// writeFailure writes the error answer FailNext asked for; to is the
// number of the request, which Twilio quotes in some messages.
func writeFailure(w http.ResponseWriter, f failure, to string) {
	msg := http.StatusText(f.status)
	switch f.code {
	case 21211:
		msg = fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)
	case 21614:
		msg = fmt.Sprintf("'To' number %s is not a valid mobile number", to)
	case 21610:
		msg = "Attempt to send to unsubscribed recipient"
	}
	if f.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, f.status, f.code, msg)
}

// writeError writes a Twilio 2010 API error answer.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   msg,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		"status":    status,
	})
}

// writeJSON writes v as the JSON body of an answer with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// created returns the Message resource Twilio answers a Create Message
// request with: queued, or accepted if sent through a Messaging Service.
func created(accountID string, m Message) map[string]any {
	now := time.Now().UTC().Format(time.RFC1123Z)
	uri := "/2010-04-01/Accounts/" + accountID + "/Messages/" + m.SID
	status, from, service := "queued", any(m.From), any(nil)
	if m.MessagingServiceSID != "" {
		status, from, service = "accepted", nil, m.MessagingServiceSID
	}
	return map[string]any{
		"account_sid":           accountID,
		"api_version":           "2010-04-01",
		"body":                  m.Body,
		"date_created":          now,
		"date_sent":             nil,
		"date_updated":          now,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  from,
		"messaging_service_sid": service,
		"num_media":             "0",
		"num_segments":          strconv.Itoa(segments(m.Body)),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                status,
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
		"to":                    m.To,
		"uri":                   uri + ".json",
	}
}

// segments estimates how many SMS segments body takes: 153 characters
// each when split, 160 for one; UCS-2 is not told apart.
func segments(body string) int {
	n := utf8.RuneCountInString(body)
	if n <= 160 {
		return 1
	}
	return (n + 152) / 153
}
