package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"switchyard/relay/adaptor"
)

// CountPath is Anthropic's token counting endpoint.
const CountPath = "/v1/messages/count_tokens"

var _ adaptor.Counter = Adaptor{}

// countRequest is the count_tokens body: a Messages request without the
// generation settings, which the endpoint refuses.
type countRequest struct {
	Model      string          `json:"model"`
	System     json.RawMessage `json:"system,omitempty"`
	Messages   []Message       `json:"messages"`
	Tools      []Tool          `json:"tools,omitempty"`
	ToolChoice *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking   *Thinking       `json:"thinking,omitempty"`
}

// CountBody is the count_tokens body of a neutral chat call. Vertex AI's
// count-tokens endpoint for Claude takes the same body.
func CountBody(req *adaptor.Request) ([]byte, error) {
	m := RequestOf(req)
	return json.Marshal(countRequest{Model: m.Model, System: m.System, Messages: m.Messages, Tools: m.Tools, ToolChoice: m.ToolChoice, Thinking: m.Thinking})
}

// NewCountRequest implements adaptor.Counter: an Anthropic client's body
// goes as it came (model aside), anything else is built from the neutral
// chat.
func (Adaptor) NewCountRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	var body []byte
	var err error
	switch {
	case req.Format == adaptor.FormatAnthropic && req.Raw != nil:
		body = req.Raw
		if req.UpstreamModel != req.Model {
			m, _ := json.Marshal(req.UpstreamModel)
			body, err = adaptor.SetField(req.Raw, "model", m)
		}
	case req.Chat != nil:
		body, err = CountBody(req)
	default:
		return nil, adaptor.Unsupported("Anthropic", adaptor.ModeCountTokens)
	}
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, URL(up.BaseURL, CountPath), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	SetHeaders(r, up.Key, req)
	return r, nil
}

// ParseCount implements adaptor.Counter: {"input_tokens": N}.
func (Adaptor) ParseCount(body []byte) (int, error) { return adaptor.CountOf(body, "input_tokens") }
