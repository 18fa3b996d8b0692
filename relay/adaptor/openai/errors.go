package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchyard/relay/adaptor"
)

// Codes and types by which OpenAI-compatible upstreams say a channel is
// dead rather than busy.
var deadCodes = map[string]bool{
	"invalid_api_key":       true,
	"insufficient_quota":    true,
	"account_deactivated":   true,
	"billing_not_active":    true,
	"authentication_error":  true,
	"organization_disabled": true,
}

// DeadPhrases are messages by which upstreams say a key is dead when
// their codes do not (vendors that answer 400 for a bad key).
var DeadPhrases = []string{
	"incorrect api key",
	"invalid api key",
	"api key not valid",
	"account deactivated",
	"account has been deactivated",
	"organization has been disabled",
	"exceeded your current quota",
	"credit balance is too low",
}

// contentFilterCodes mark a refusal by the provider's safety system.
var contentFilterCodes = map[string]bool{
	"content_filter":           true,
	"content_policy_violation": true,
}

// Classify judges an OpenAI-style error reply. The table test in
// errors_test.go pins every row.
func Classify(status int, typ, code, msg string) adaptor.Class {
	if deadCodes[code] || deadCodes[typ] || HasDeadPhrase(msg) {
		return adaptor.ClassDeadKey
	}
	switch {
	case status == http.StatusUnauthorized:
		return adaptor.ClassDeadKey
	case status == http.StatusForbidden:
		return adaptor.ClassAuth
	case status == http.StatusTooManyRequests:
		return adaptor.ClassRateLimited
	case status == http.StatusNotFound:
		return adaptor.ClassNotFound
	case status == http.StatusRequestTimeout, status >= 500:
		return adaptor.ClassUpstream
	case contentFilterCodes[code]:
		return adaptor.ClassContentFilter
	case status >= 400:
		// 400, 413, 422 and the rest: the request itself is at fault, and
		// every channel would say the same.
		return adaptor.ClassRequest
	}
	return adaptor.ClassUpstream
}

// HasDeadPhrase reports whether msg says the key is dead.
func HasDeadPhrase(msg string) bool {
	msg = strings.ToLower(msg)
	for _, p := range DeadPhrases {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// ParseError implements adaptor.Adaptor.
func (Adaptor) ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	e := DecodeError(status, h, body)
	e.Class = Classify(status, e.Type, e.Code, e.Message)
	return e
}

// DecodeError reads an OpenAI error body (or any body, as text) without
// classifying it.
func DecodeError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	e := &adaptor.UpstreamError{Status: status, RetryAfter: RetryAfter(h)}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Message != "" {
		e.Message, e.Type = eb.Error.Message, eb.Error.Type
		e.Code = stringOf(eb.Error.Code)
		e.Param = stringOf(eb.Error.Param)
		return e
	}
	e.Message = PlainMessage(status, body)
	return e
}

// PlainMessage is a non-JSON error body as a short message.
func PlainMessage(status int, body []byte) string {
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return msg
}

// RetryAfter reads a Retry-After header in seconds or as a date.
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	return ""
}
