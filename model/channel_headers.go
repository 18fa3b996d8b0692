package model

import (
	"encoding/json"
	"net/http"
	"strings"

	"switchyard/common/errs"
)

// Extra headers a channel sends: the "headers" object of its config JSON,
// header name to value, added to every call to the channel after its
// adaptor built it (OpenRouter's HTTP-Referer and X-Title, an AI
// gateway's own auth header, a vendor's beta flag). A name the adaptor
// also sets is replaced, the channel's key header included: the operator
// asked for it. Headers that frame the message are not the channel's to
// set.
const (
	maxConfigHeaders     = 32
	maxConfigHeaderValue = 4096
)

// framingHeaders are what net/http writes from the request itself.
var framingHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true, "Connection": true,
	"Upgrade": true, "Te": true, "Trailer": true, "Keep-Alive": true, "Proxy-Connection": true,
}

// ConfigHeaders reads the "headers" object of a channel's config (nil
// when it has none), or says what is wrong with it.
func ConfigHeaders(config string) (http.Header, error) {
	config = strings.TrimSpace(config)
	if config == "" {
		return nil, nil
	}
	var c struct {
		Headers json.RawMessage `json:"headers"`
	}
	if json.Unmarshal([]byte(config), &c) != nil || len(c.Headers) == 0 || string(c.Headers) == "null" {
		return nil, nil
	}
	var m map[string]string
	if json.Unmarshal(c.Headers, &m) != nil {
		return nil, errs.BadRequest(`config "headers" must be an object of header name to text value`).WithParam("config")
	}
	if len(m) > maxConfigHeaders {
		return nil, errs.BadRequest(`config "headers" may set at most %d headers`, maxConfigHeaders).WithParam("config")
	}
	h := make(http.Header, len(m))
	for name, value := range m {
		if !validHeaderName(name) {
			return nil, errs.BadRequest(`config "headers": %q is not a header name`, name).WithParam("config")
		}
		canon := http.CanonicalHeaderKey(name)
		if framingHeaders[canon] {
			return nil, errs.BadRequest(`config "headers": %s is set by the relay itself`, canon).WithParam("config")
		}
		if len(value) > maxConfigHeaderValue || strings.ContainsAny(value, "\r\n\x00") {
			return nil, errs.BadRequest(`config "headers": the value of %s must be one line of at most %d bytes`, canon, maxConfigHeaderValue).WithParam("config")
		}
		h[canon] = []string{value}
	}
	return h, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
