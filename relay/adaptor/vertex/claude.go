package vertex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
)

// claudeBody is Anthropic's Messages body as Vertex AI takes it: the
// model lives in the URL, not the body, and anthropic_version names
// Vertex's own version of the API.
func claudeBody(req *adaptor.Request) ([]byte, error) {
	m := anthropic.RequestOf(req)
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	delete(fields, "model")
	fields["anthropic_version"] = json.RawMessage(`"` + AnthropicVersion + `"`)
	return json.Marshal(fields)
}

// claudeError reads an error the Claude model itself raised, in
// Anthropic's shape ({"type":"error","error":{...}}); nil when the body
// is Google's (quota, auth, routing errors come from Vertex).
func claudeError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	if !bytes.Contains(body, []byte(`"type"`)) {
		return nil
	}
	var probe struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.Type != "error" {
		return nil
	}
	return anthropic.Adaptor{}.ParseError(status, h, body)
}

func claudeResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	var m anthropic.MessageResponse
	if err := json.Unmarshal(body, &m); err != nil || m.Type != "message" {
		return nil, fmt.Errorf("vertex claude answer is not an Anthropic message")
	}
	return anthropic.ResponseOf(&m), nil
}

func claudeStream(req *adaptor.Request) adaptor.StreamDecoder {
	return anthropic.Adaptor{}.NewStream(req)
}
