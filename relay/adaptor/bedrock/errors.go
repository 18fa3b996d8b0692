package bedrock

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchyard/relay/adaptor"
)

// Bedrock names an error by its type, in the x-amzn-ErrorType header
// ("ThrottlingException:http://internal.amazon.com/...") and, from some
// front ends, in the body's __type; the body's message says the rest.
// errors_test.go pins every row.
var byType = map[string]adaptor.Class{
	"unrecognizedclientexception":         adaptor.ClassDeadKey, // the access key does not exist
	"invalidsignatureexception":           adaptor.ClassDeadKey, // the secret does not match the key
	"expiredtokenexception":               adaptor.ClassDeadKey,
	"invalidclienttokenid":                adaptor.ClassDeadKey,
	"missingauthenticationtokenexception": adaptor.ClassDeadKey,
	"incompletesignatureexception":        adaptor.ClassDeadKey,
	"accessdeniedexception":               adaptor.ClassAuth, // model access not granted in this region: another channel may have it
	"throttlingexception":                 adaptor.ClassRateLimited,
	"servicequotaexceededexception":       adaptor.ClassRateLimited,
	"toomanyrequestsexception":            adaptor.ClassRateLimited,
	"validationexception":                 adaptor.ClassRequest,
	"resourcenotfoundexception":           adaptor.ClassNotFound,
	"modelnotreadyexception":              adaptor.ClassUpstream,
	"modeltimeoutexception":               adaptor.ClassUpstream,
	"modelerrorexception":                 adaptor.ClassUpstream,
	"modelstreamerrorexception":           adaptor.ClassUpstream,
	"internalserverexception":             adaptor.ClassUpstream,
	"serviceunavailableexception":         adaptor.ClassUpstream,
	"unknownoperationexception":           adaptor.ClassNotFound,
}

// deadPhrases mark an AccessDenied that is the account's, not the model's.
var deadPhrases = []string{
	"security token included in the request is invalid",
	"signature we calculated does not match",
	"account is not authorized",
	"has been suspended",
}

// ParseError classifies a non-2xx Bedrock reply.
func ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	var b struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
		Type     string `json:"__type"`
	}
	_ = json.Unmarshal(body, &b)
	typ := h.Get("X-Amzn-ErrorType")
	if typ == "" {
		typ = b.Type
	}
	if i := strings.IndexAny(typ, ":#"); i >= 0 {
		// "ThrottlingException:http://..." or "com.amazon...#ThrottlingException"
		if typ[i] == '#' {
			typ = typ[i+1:]
		} else {
			typ = typ[:i]
		}
	}
	msg := b.Message
	if msg == "" {
		msg = b.Message2
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300]
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := classify(status, typ, msg)
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func classify(status int, typ, msg string) *adaptor.UpstreamError {
	e := &adaptor.UpstreamError{Status: status, Type: typ, Code: strings.ToLower(typ), Message: msg}
	class, ok := byType[strings.ToLower(typ)]
	if !ok {
		switch {
		case status == http.StatusUnauthorized:
			class = adaptor.ClassDeadKey
		case status == http.StatusForbidden:
			class = adaptor.ClassAuth
		case status == http.StatusTooManyRequests:
			class = adaptor.ClassRateLimited
		case status == http.StatusNotFound:
			class = adaptor.ClassNotFound
		case status >= 400 && status < 500:
			class = adaptor.ClassRequest
		default:
			class = adaptor.ClassUpstream
		}
	}
	m := strings.ToLower(msg)
	for _, p := range deadPhrases {
		if strings.Contains(m, p) {
			class = adaptor.ClassDeadKey
		}
	}
	e.Class = class
	return e
}
