package fakeupstream

// Anthropic's token counting endpoint, POST /v1/messages/count_tokens
// (docs.anthropic.com/en/api/messages-count-tokens): a Messages body
// without max_tokens in, {"input_tokens": N} out, Anthropic's error shape.

import (
	"encoding/json"
	"net/http"
	"strings"
)

type countRequest struct {
	Model    string          `json:"model"`
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []json.RawMessage `json:"tools"`
}

// CountTokens is the fake's count for a count_tokens body, -1 when the
// body is not one: one token per word of text, four per message, one per
// tool schema's 4 bytes and 3 to prime the reply. Real Claude counts differ;
// tests compare the relay's answer with this to tell an upstream count from
// a local one.
func CountTokens(body []byte) int {
	var req countRequest
	if json.Unmarshal(body, &req) != nil {
		return -1
	}
	n := 3 + words(req.System)
	for _, m := range req.Messages {
		n += 4 + words(m.Content)
	}
	for _, t := range req.Tools {
		n += len(t) / 4
	}
	return n
}

// words counts the words of a string, or of the text of an array of
// content blocks.
func words(raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return len(strings.Fields(s))
	}
	var blocks []struct {
		Type    string          `json:"type"`
		Text    string          `json:"text"`
		Input   json.RawMessage `json:"input"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return 0
	}
	n := 0
	for _, b := range blocks {
		switch b.Type {
		case "text":
			n += len(strings.Fields(b.Text))
		case "image":
			n += 1500
		case "tool_use":
			n += len(b.Input) / 4
		case "tool_result":
			n += words(b.Content)
		}
	}
	return n
}

// ServeCountTokens answers POST /v1/messages/count_tokens. Callers check
// the key first, as for /v1/messages.
func (s *Server) ServeCountTokens(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		AnthropicError(w, 405, "invalid_request_error", "Method Not Allowed")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		AnthropicError(w, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	var req countRequest
	if err := json.Unmarshal(body, &req); err != nil {
		AnthropicError(w, 400, "invalid_request_error", "There was an issue with the JSON body of your request.")
		return
	}
	switch {
	case req.Model == "":
		AnthropicError(w, 400, "invalid_request_error", "model: Field required")
		return
	case len(req.Messages) == 0:
		AnthropicError(w, 400, "invalid_request_error", "messages: Field required")
		return
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			AnthropicError(w, 400, "invalid_request_error", "messages."+itoa(i)+".role: Input should be 'user' or 'assistant'")
			return
		}
	}
	writeJSON(w, map[string]int{"input_tokens": CountTokens(body)})
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
