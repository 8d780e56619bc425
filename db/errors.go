package db

import (
	"errors"
	"fmt"
)

// Error codes. They name what went wrong in the domain's terms; the GraphQL
// layer maps each to one of the contract's extensions.code values in one
// place.
const (
	EINVALID         = "invalid"         // bad input; Field names the offending field
	ENOTFOUND        = "not_found"       // no such item (or not visible to the caller)
	ECONFLICT        = "conflict"        // a stale version or a concurrent change
	EUNAUTHENTICATED = "unauthenticated" // a credential was given but is not valid
	EFORBIDDEN       = "forbidden"       // the caller may not do this
	EINTERNAL        = "internal"        // anything else: never shown to clients
)

// Error is the one coded error type of trendql. Message is safe to show to
// clients; Field, when set, names the input field at fault; Reason, when
// set, is a stable machine-readable word for why (ReasonCursorExpired).
type Error struct {
	Code    string
	Message string
	Field   string
	Reason  string
}

// Reasons an error may give beside its code.
const (
	// ReasonCursorExpired: a changes cursor points before what the event
	// log still keeps; the client must start a full sync.
	ReasonCursorExpired = "CURSOR_EXPIRED"
	// ReasonRevisionExpired: the revision was pruned by retention.
	ReasonRevisionExpired = "REVISION_EXPIRED"
)

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic message for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err is an ENOTFOUND error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
