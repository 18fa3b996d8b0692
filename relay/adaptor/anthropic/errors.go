package anthropic

import (
	"encoding/json"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/openai"
)

// DeadPhrases are messages by which Anthropic says a key cannot serve
// until someone acts, whatever the error type (a spent credit balance
// comes back as a 400 invalid_request_error).
var DeadPhrases = []string{
	"credit balance is too low",
	"invalid x-api-key",
	"this organization has been disabled",
	"your api key has been disabled",
}

// classes maps Anthropic's documented error types
// (https://docs.anthropic.com/en/api/errors) onto failure classes.
var classes = map[string]adaptor.Class{
	"invalid_request_error": adaptor.ClassRequest,
	"request_too_large":     adaptor.ClassRequest,
	"authentication_error":  adaptor.ClassDeadKey,
	"billing_error":         adaptor.ClassDeadKey,
	"permission_error":      adaptor.ClassAuth,
	"not_found_error":       adaptor.ClassNotFound,
	"rate_limit_error":      adaptor.ClassRateLimited,
	"api_error":             adaptor.ClassUpstream,
	"overloaded_error":      adaptor.ClassUpstream,
	"timeout_error":         adaptor.ClassUpstream,
}

// Classify judges an Anthropic error; errors_test.go pins every row.
func Classify(status int, typ, msg string) adaptor.Class {
	low := strings.ToLower(msg)
	for _, p := range DeadPhrases {
		if strings.Contains(low, p) {
			return adaptor.ClassDeadKey
		}
	}
	if c, ok := classes[typ]; ok {
		return c
	}
	switch {
	case status == http.StatusUnauthorized:
		return adaptor.ClassDeadKey
	case status == http.StatusForbidden:
		return adaptor.ClassAuth
	case status == http.StatusNotFound:
		return adaptor.ClassNotFound
	case status == http.StatusTooManyRequests:
		return adaptor.ClassRateLimited
	case status == http.StatusRequestTimeout, status >= 500:
		return adaptor.ClassUpstream
	case status >= 400:
		return adaptor.ClassRequest
	}
	return adaptor.ClassUpstream
}

// ParseError implements adaptor.Adaptor.
func (Adaptor) ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	e := &adaptor.UpstreamError{Status: status, RetryAfter: openai.RetryAfter(h)}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Message != "" {
		e.Type, e.Message = eb.Error.Type, eb.Error.Message
	} else {
		e.Message = openai.PlainMessage(status, body)
	}
	e.Class = Classify(status, e.Type, e.Message)
	return e
}

// statusOf is the HTTP status Anthropic gives an error type, for errors
// that arrive inside a stream.
func statusOf(typ string) int {
	switch typ {
	case "invalid_request_error":
		return 400
	case "authentication_error":
		return 401
	case "billing_error":
		return 402
	case "permission_error":
		return 403
	case "not_found_error":
		return 404
	case "request_too_large":
		return 413
	case "rate_limit_error":
		return 429
	case "timeout_error":
		return 504
	case "overloaded_error":
		return 529
	}
	return 500
}
