package tillit

import (
	"errors"
	"fmt"
	"time"
)

// Error codes: the closed set every error of tillit is classified by. The
// web package maps each to one HTTP status.
const (
	EInvalid         = "invalid"           // input that breaks a rule; the message says which
	EUnauthenticated = "unauthenticated"   // no credential, or one that is invalid, expired or revoked
	EForbidden       = "forbidden"         // the principal lacks the permission
	ENotFound        = "not_found"         // no such object, or another tenant's
	EConflict        = "conflict"          // the object exists already, or its state forbids the change
	ETooLarge        = "too_large"         // the request body is over its limit
	ETooMany         = "too_many_requests" // a rate limit was hit
	EStepUp          = "step_up_required"  // a sensitive action needs a fresh step-up (password and second factor)
	EUnavailable     = "unavailable"       // a dependency (database, audit log) cannot be reached
	EInternal        = "internal"          // a bug
)

// Error is the one error type of tillit. Message is for the person who made
// the request and never contains a wrapped driver error; Err is for the log.
type Error struct {
	Code    string // one of the E* codes
	Message string // what went wrong and how to fix it, safe to show
	Field   string // the input field at fault, if any
	Err     error  // the underlying error, logged, never shown

	RetryAfter time.Duration // ETooMany: when to try again
}

// Error returns the message followed by the underlying error, for logs.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Code, e.Err)
	default:
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EInvalid *Error that names the field at fault.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps err as an EInternal error: a bug or an unexpected failure.
func Internal(err error) *Error {
	return &Error{Code: EInternal, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err: "" for nil, EInternal for an error that
// is not an *Error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of err that is safe to show: the *Error's
// Message, or a generic text for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

func asError(err error, target **Error) bool { return errors.As(err, target) }

// ErrorField returns the input field err names, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
