// Package trellis holds what every capability shares: the one error type whose
// codes the HTTP edges map to status codes, and the clock-free time helpers the
// store and services agree on.
package trellis

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. The HTTP surfaces map each code to one status code; clients see
// the code and message, never an internal detail.
const (
	EINVALID         = "invalid"           // 400: input breaks a rule; Field names the input
	EUNAUTHENTICATED = "unauthenticated"   // 401: no or bad credentials
	EFORBIDDEN       = "forbidden"         // 403: authenticated, but not allowed
	ENOTFOUND        = "not_found"         // 404: absent, or hidden from this caller
	ECONFLICT        = "conflict"          // 409: clashes with the current state
	EGONE            = "gone"              // 410: existed once, used up (one-time tokens)
	ETOOLARGE        = "too_large"         // 413: request body over the limit
	ETOOMANY         = "too_many_requests" // 429: rate or lockout limits
	EUNAVAILABLE     = "unavailable"       // 503: not ready (e.g. store unreachable)
	EINTERNAL        = "internal"          // 500: a bug or an outage; details only in the log
)

// Error is the error type the services return for every expected failure.
// Anything else reaching an edge is treated as EINTERNAL.
type Error struct {
	Code    string
	Message string
	Field   string // the input field at fault, for EINVALID
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("trellis error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("trellis error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the field and the rule it broke.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message safe to show to a client.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the input field an EINVALID error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Millis converts t to the int64 milliseconds since the Unix epoch (UTC) that
// the store keeps, as MLflow does.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis is the inverse of Millis; 0 means "never" and gives the zero time.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
