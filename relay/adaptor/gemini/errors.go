package gemini

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchyard/relay/adaptor"
)

// Google's errors carry a canonical status name beside the HTTP code, and
// google.rpc details: ErrorInfo.reason says why a key was refused,
// RetryInfo.retryDelay how long a quota lasts. The table below is what
// each means for the channel; errors_test.go pins every row.

// deadReasons are ErrorInfo reasons that mean the key itself is dead.
var deadReasons = map[string]bool{
	"API_KEY_INVALID":         true,
	"API_KEY_EXPIRED":         true,
	"API_KEY_SERVICE_BLOCKED": true,
	"CONSUMER_SUSPENDED":      true,
	"SERVICE_DISABLED":        true,
	"BILLING_DISABLED":        true,
	"ACCESS_TOKEN_EXPIRED":    false,
}

// deadPhrases are messages that mean the same when no reason is given.
var deadPhrases = []string{
	"api key not valid",
	"api key expired",
	"has been suspended",
	"permission denied: consumer",
	"billing account",
	"has not been used in project",
	"it is disabled",
}

// byStatus classifies the canonical status names.
var byStatus = map[string]adaptor.Class{
	"INVALID_ARGUMENT":    adaptor.ClassRequest,
	"OUT_OF_RANGE":        adaptor.ClassRequest,
	"FAILED_PRECONDITION": adaptor.ClassAuth, // "User location is not supported": another channel may be elsewhere
	"UNAUTHENTICATED":     adaptor.ClassDeadKey,
	"PERMISSION_DENIED":   adaptor.ClassAuth,
	"NOT_FOUND":           adaptor.ClassNotFound,
	"RESOURCE_EXHAUSTED":  adaptor.ClassRateLimited,
	"UNAVAILABLE":         adaptor.ClassUpstream,
	"INTERNAL":            adaptor.ClassUpstream,
	"DEADLINE_EXCEEDED":   adaptor.ClassUpstream,
	"UNKNOWN":             adaptor.ClassUpstream,
	"ABORTED":             adaptor.ClassUpstream,
	"CANCELLED":           adaptor.ClassUpstream,
	"UNIMPLEMENTED":       adaptor.ClassUnsupported,
}

// ParseError classifies a non-2xx Gemini (or Vertex AI) reply.
func ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	var reply ErrorReply
	if json.Unmarshal(body, &reply) != nil || reply.Error.Message == "" && reply.Error.Status == "" {
		// A proxy's HTML page or an empty body: judge by status alone.
		e := &adaptor.UpstreamError{Status: status, Class: classByHTTP(status), Message: strings.TrimSpace(string(truncate(body, 300)))}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		e.RetryAfter = retryAfterHeader(h)
		return e
	}
	return fromErrorBody(status, h, &reply.Error)
}

func fromErrorBody(status int, h http.Header, b *ErrorBody) *adaptor.UpstreamError {
	if status == 0 {
		status = b.Code
	}
	e := &adaptor.UpstreamError{Status: status, Type: b.Status, Code: strings.ToLower(b.Status), Message: b.Message}
	class, ok := byStatus[b.Status]
	if !ok {
		class = classByHTTP(status)
	}
	reason, delay := details(b.Details)
	if reason != "" {
		e.Code = strings.ToLower(reason)
	}
	if deadReasons[reason] || isDeadMessage(b.Message) {
		class = adaptor.ClassDeadKey
	}
	e.Class = class
	e.RetryAfter = delay
	if e.RetryAfter == 0 {
		e.RetryAfter = retryAfterHeader(h)
	}
	return e
}

func isDeadMessage(msg string) bool {
	m := strings.ToLower(msg)
	for _, p := range deadPhrases {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// details reads ErrorInfo.reason and RetryInfo.retryDelay.
func details(ds []json.RawMessage) (reason string, delay time.Duration) {
	for _, raw := range ds {
		var d struct {
			Type       string `json:"@type"`
			Reason     string `json:"reason"`
			RetryDelay string `json:"retryDelay"`
		}
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		switch {
		case strings.HasSuffix(d.Type, "google.rpc.ErrorInfo"):
			reason = d.Reason
		case strings.HasSuffix(d.Type, "google.rpc.RetryInfo"):
			if v, err := time.ParseDuration(d.RetryDelay); err == nil && v > 0 {
				delay = v
			}
		}
	}
	return reason, delay
}

func classByHTTP(status int) adaptor.Class {
	switch {
	case status == http.StatusUnauthorized:
		return adaptor.ClassDeadKey
	case status == http.StatusForbidden:
		return adaptor.ClassAuth
	case status == http.StatusTooManyRequests:
		return adaptor.ClassRateLimited
	case status == http.StatusNotFound:
		return adaptor.ClassNotFound
	case status >= 500:
		return adaptor.ClassUpstream
	case status >= 400:
		return adaptor.ClassRequest
	}
	return adaptor.ClassUpstream
}

func retryAfterHeader(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
