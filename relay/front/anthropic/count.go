package anthropic

import (
	"encoding/json"
	"net/http"

	"switchyard/relay/adaptor"
	"switchyard/relay/front"
)

// ParseCount reads POST /v1/messages/count_tokens: a Messages body without
// max_tokens (the endpoint counts input only), checked as /v1/messages
// checks its body. Raw stays as the client sent it, for an Anthropic
// channel's own count_tokens.
func ParseCount(hr *http.Request) (*adaptor.Request, error) {
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	probe := raw
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		if _, ok := fields["max_tokens"]; !ok {
			// The check ParseRequest makes for /v1/messages does not apply.
			if probe, err = adaptor.SetField(raw, "max_tokens", []byte("1")); err != nil {
				probe = raw
			}
		}
	}
	req, err := ParseRequest(probe)
	if err != nil {
		return nil, err
	}
	req.Mode, req.Raw, req.Stream, req.MaxTokens = adaptor.ModeCountTokens, raw, false, 0
	req.Chat.MaxTokens, req.Chat.Stream = 0, false
	req.Header = http.Header{}
	for _, k := range []string{"anthropic-version", "anthropic-beta"} {
		if v := hr.Header.Values(k); len(v) > 0 {
			req.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	return req, nil
}
