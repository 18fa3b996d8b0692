// Package errs is Switchyard's one error type and the one place that turns
// it into a reply. Every handler, middleware and relay step returns *Error
// (or any error, which renders as an internal error); Render picks the shape
// that the route's API style asks for.
package errs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Kind classifies an error the way OpenAI's "type" field does. Anthropic's
// and the management API's shapes are derived from it.
type Kind string

// The kinds used across Switchyard.
const (
	KindInvalidRequest    Kind = "invalid_request_error"
	KindAuthentication    Kind = "authentication_error"
	KindPermission        Kind = "permission_error"
	KindNotFound          Kind = "not_found_error"
	KindRateLimit         Kind = "rate_limit_error"
	KindInsufficientQuota Kind = "insufficient_quota"
	KindUpstream          Kind = "upstream_error"
	KindUnavailable       Kind = "service_unavailable"
	KindTooLarge          Kind = "request_too_large"
	KindInternal          Kind = "api_error"
)

// Error is the one error type. Status is the HTTP status to answer with,
// Kind the class, Code an optional machine code (OpenAI's "code"), Param
// the offending parameter, and Err the cause, which is never shown to
// clients when Status is 500.
type Error struct {
	Status  int
	Kind    Kind
	Code    string
	Param   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New builds an Error with a formatted message.
func New(status int, kind Kind, format string, args ...any) *Error {
	return &Error{Status: status, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 caused by the request itself.
func BadRequest(format string, args ...any) *Error {
	return New(http.StatusBadRequest, KindInvalidRequest, format, args...)
}

// Unauthorized is a 401: the caller is not authenticated.
func Unauthorized(format string, args ...any) *Error {
	return New(http.StatusUnauthorized, KindAuthentication, format, args...)
}

// Forbidden is a 403: the caller is known but may not do this.
func Forbidden(format string, args ...any) *Error {
	return New(http.StatusForbidden, KindPermission, format, args...)
}

// NotFound is a 404.
func NotFound(format string, args ...any) *Error {
	return New(http.StatusNotFound, KindNotFound, format, args...)
}

// TooManyRequests is a 429 from Switchyard's own limits.
func TooManyRequests(format string, args ...any) *Error {
	return New(http.StatusTooManyRequests, KindRateLimit, format, args...)
}

// Internal wraps an unexpected failure. Its cause is logged, never shown.
// A cause that is a timeout (a database or service that did not answer in
// time) is a 503 service_unavailable instead: the request may succeed
// later, and a client or load balancer should know that.
func Internal(err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Status: http.StatusServiceUnavailable, Kind: KindUnavailable, Message: "a backing service (the database) did not answer in time: try again shortly", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Kind: KindInternal, Message: "internal error", Err: err}
}

// WithCode returns a copy of e with the machine code set. A copy, so that
// a shared error value (a package's Err… sentinel) never changes under
// the other requests that return it.
func (e *Error) WithCode(code string) *Error { c := *e; c.Code = code; return &c }

// WithParam returns a copy of e naming the offending parameter (see
// WithCode).
func (e *Error) WithParam(param string) *Error { c := *e; c.Param = param; return &c }

// As returns err as *Error, wrapping anything else as Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// PublicMessage is what a client may read: internal causes stay hidden.
func (e *Error) PublicMessage() string {
	if e.Status >= 500 && e.Kind == KindInternal {
		return "internal error"
	}
	if e.Message == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}
