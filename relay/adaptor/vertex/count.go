package vertex

import (
	"context"
	"encoding/json"
	"net/http"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
	"switchyard/relay/adaptor/gemini"
)

var _ adaptor.Counter = (*Adaptor)(nil)

// countBody is Vertex AI's countTokens body for Gemini models: the parts
// of a generateContent body that count, at the top level (Vertex has no
// generateContentRequest wrapper, and generation settings do not change
// a prompt's count).
type countBody struct {
	Contents          []gemini.Content `json:"contents"`
	SystemInstruction *gemini.Content  `json:"systemInstruction,omitempty"`
	Tools             []gemini.Tool    `json:"tools,omitempty"`
}

// claudeCountModel is the model Vertex AI publishes Claude's token
// counting as (count-tokens:rawPredict); the model counted for goes in
// the body.
const claudeCountModel = "count-tokens"

// NewCountRequest implements adaptor.Counter: publishers/google's
// {model}:countTokens for Gemini models, publishers/anthropic's
// count-tokens:rawPredict (Anthropic's count_tokens body, the model in
// it) for Claude.
func (a *Adaptor) NewCountRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	if req.Chat == nil {
		return nil, adaptor.Unsupported("Vertex AI", adaptor.ModeCountTokens)
	}
	model := gemini.ModelName(req.UpstreamModel)
	if IsClaude(model) {
		body, err := anthropic.CountBody(req)
		if err != nil {
			return nil, err
		}
		return a.post(ctx, up, "anthropic", claudeCountModel, "rawPredict", body)
	}
	g, err := gemini.ToRequest(req.Chat)
	if err != nil {
		return nil, &adaptor.UpstreamError{Status: http.StatusBadRequest, Class: adaptor.ClassRequest, Type: "invalid_request_error", Message: err.Error()}
	}
	body, err := json.Marshal(countBody{Contents: g.Contents, SystemInstruction: g.SystemInstruction, Tools: g.Tools})
	if err != nil {
		return nil, err
	}
	return a.post(ctx, up, "google", model, "countTokens", body)
}

// ParseCount implements adaptor.Counter: Gemini models answer
// {"totalTokens": N, ...}, Claude {"input_tokens": N}.
func (*Adaptor) ParseCount(body []byte) (int, error) {
	return adaptor.CountOf(body, "totalTokens", "input_tokens")
}
