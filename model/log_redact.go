package model

import (
	"regexp"
	"strings"
)

// Stored request and answer text (LogContentEnabled) passes through
// RedactSecrets before it is written: a client that puts a key in its
// body, a user who pastes one into a prompt, or a signed URL must not
// leave a secret readable in the logs table, which admins and owners can
// read in the console.
var (
	// secretFields are JSON members whose value is a credential, whatever
	// the value looks like.
	secretFields = regexp.MustCompile(`(?i)("(?:api[_-]?key|x-api-key|key|access[_-]?token|refresh[_-]?token|token|secret|client[_-]?secret|password|authorization)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// secretShapes are credentials recognisable by their form: OpenAI,
	// Anthropic and most relays' sk- keys, Google API keys, AWS access key
	// ids, bearer tokens, and key or signature parameters in URLs.
	secretShapes = regexp.MustCompile(`sk-[A-Za-z0-9_\-]{12,}|AIza[0-9A-Za-z_\-]{30,}|AKIA[0-9A-Z]{16}|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{12,}|(?i:[?&](?:key|api_key|token|sig|signature|x-amz-signature)=)[^&"\s]+`)
)

// redacted replaces each secret in stored log content.
const redacted = "[redacted]"

// RedactSecrets returns s with credentials replaced by "[redacted]": the
// values of JSON members named like a key, token, secret or password, and
// anything key-shaped anywhere else. The text keeps its shape otherwise,
// so a JSON request stays JSON.
func RedactSecrets(s string) string {
	s = secretFields.ReplaceAllString(s, `${1}"`+redacted+`"`)
	return secretShapes.ReplaceAllStringFunc(s, func(m string) string {
		// Keep a URL parameter's name so the reader sees what was there.
		if m[0] == '?' || m[0] == '&' {
			if i := strings.IndexByte(m, '='); i >= 0 {
				return m[:i+1] + redacted
			}
		}
		return redacted
	})
}
