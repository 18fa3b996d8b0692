// Package anthropic speaks Anthropic's Messages API upstream (channel type
// 14): x-api-key and anthropic-version headers, the system prompt apart,
// content blocks, tools, and the named-event stream. It exports the wire
// structs, which the Anthropic front reads client requests with.
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
)

// Version is the anthropic-version sent when the client did not send one
// (Anthropic's current and only stable version).
const Version = "2023-06-01"

// Adaptor is the Anthropic adaptor. The zero value is ready.
type Adaptor struct{}

// Format implements adaptor.Adaptor.
func (Adaptor) Format() adaptor.Format { return adaptor.FormatAnthropic }

// URL joins a base URL and a /v1 path without doubling a /v1 the base URL
// already ends in.
func URL(base, path string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/v1") && strings.HasPrefix(path, "/v1/") {
		path = path[len("/v1"):]
	}
	return base + path
}

// NewRequest implements adaptor.Adaptor.
func (a Adaptor) NewRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	if req.Mode != adaptor.ModeChat {
		return nil, adaptor.Unsupported("Anthropic", req.Mode)
	}
	body, err := Body(req)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, URL(up.BaseURL, "/v1/messages"), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	SetHeaders(r, up.Key, req)
	if req.Stream {
		r.Header.Set("Accept", "text/event-stream")
	}
	return r, nil
}

// SetHeaders sets the key, the content type and the API version on r; a
// client speaking Anthropic keeps its own version and beta flags.
func SetHeaders(r *http.Request, key string, req *adaptor.Request) {
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("x-api-key", key)
	version := Version
	if req.Format == adaptor.FormatAnthropic {
		if v := req.Header.Get("anthropic-version"); v != "" {
			version = v
		}
		if b := req.Header.Values("anthropic-beta"); len(b) > 0 {
			r.Header["Anthropic-Beta"] = b
		}
	}
	r.Header.Set("anthropic-version", version)
}

// Body is the Messages body for req: the client's bytes with the model
// replaced when the client speaks Anthropic, else built from req.Chat.
func Body(req *adaptor.Request) ([]byte, error) {
	if req.Format == adaptor.FormatAnthropic && req.Raw != nil {
		if req.UpstreamModel == req.Model {
			return req.Raw, nil
		}
		m, _ := json.Marshal(req.UpstreamModel)
		return adaptor.SetField(req.Raw, "model", m)
	}
	if req.Chat == nil {
		return nil, adaptor.Unsupported("Anthropic", req.Mode)
	}
	return json.Marshal(RequestOf(req))
}

// DefaultMaxTokens is the max_tokens sent for model when the client gave
// none: Anthropic requires it. The figures are each model family's
// output limit where that is small, else 8192, which keeps a whole
// (non-streamed) answer inside Anthropic's ten-minute guidance.
func DefaultMaxTokens(model string) int {
	for _, p := range []string{"claude-3-haiku", "claude-3-opus", "claude-3-sonnet", "claude-2", "claude-instant"} {
		if strings.HasPrefix(model, p) {
			return 4096
		}
	}
	return 8192
}

// RequestOf is the Messages request for a neutral chat call.
func RequestOf(req *adaptor.Request) *MessagesRequest {
	c := req.Chat
	out := &MessagesRequest{Model: req.UpstreamModel, MaxTokens: c.MaxTokens, TopP: c.TopP, TopK: c.TopK, StopSequences: c.Stop, Stream: req.Stream}
	if out.MaxTokens <= 0 {
		out.MaxTokens = DefaultMaxTokens(req.UpstreamModel)
	}
	if t := c.Temperature; t != nil {
		// OpenAI's range is 0..2, Anthropic's 0..1.
		v := min(*t, 1)
		out.Temperature = &v
	}
	if len(c.System) > 0 {
		out.System, _ = json.Marshal(textBlocks(c.System))
	}
	out.Messages = messagesOf(c.Messages)
	for _, t := range c.Tools {
		schema := t.Parameters
		if len(schema) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		out.Tools = append(out.Tools, Tool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	if tc := c.ToolChoice; tc != nil && len(out.Tools) > 0 {
		switch tc.Mode {
		case adaptor.ToolRequired:
			out.ToolChoice = &ToolChoice{Type: "any"}
		case adaptor.ToolNamed:
			out.ToolChoice = &ToolChoice{Type: "tool", Name: tc.Name}
		case adaptor.ToolNone:
			out.ToolChoice = &ToolChoice{Type: "none"}
		default:
			out.ToolChoice = &ToolChoice{Type: "auto"}
		}
	}
	if c.User != "" {
		out.Metadata = &Metadata{UserID: c.User}
	}
	if c.ThinkingBudget > 0 {
		out.Thinking = &Thinking{Type: "enabled", BudgetTokens: c.ThinkingBudget}
	}
	return out
}

func strp(s string) *string { return &s }

func textBlocks(parts []adaptor.Part) []Block {
	out := make([]Block, 0, len(parts))
	for _, p := range parts {
		if p.Type == adaptor.PartText && p.Text != "" {
			out = append(out, Block{Type: "text", Text: strp(p.Text), CacheControl: p.CacheControl})
		}
	}
	return out
}

// blocksOf converts content parts; thinking goes back only with its
// signature, which Anthropic checks.
func blocksOf(parts []adaptor.Part) []Block {
	out := make([]Block, 0, len(parts))
	for _, p := range parts {
		switch p.Type {
		case adaptor.PartText:
			if p.Text != "" {
				out = append(out, Block{Type: "text", Text: strp(p.Text), CacheControl: p.CacheControl})
			}
		case adaptor.PartImage:
			src := &Source{Type: "url", URL: p.ImageURL}
			if p.ImageURL == "" {
				src = &Source{Type: "base64", MediaType: p.MediaType, Data: p.Data}
			}
			out = append(out, Block{Type: "image", Source: src, CacheControl: p.CacheControl})
		case adaptor.PartThinking:
			if p.Signature != "" {
				out = append(out, Block{Type: "thinking", Thinking: strp(p.Text), Signature: p.Signature})
			}
		case adaptor.PartRedactedThinking:
			out = append(out, Block{Type: "redacted_thinking", Data: p.Data})
		}
	}
	return out
}

// messagesOf converts the turns. Tool results become tool_result blocks
// of one user turn; turns left without content are dropped, since
// Anthropic refuses empty content.
func messagesOf(msgs []adaptor.Message) []Message {
	var out []Message
	var pending []Block // tool results waiting for their user turn
	flush := func(extra []Block) {
		blocks := append(pending, extra...)
		pending = nil
		if len(blocks) == 0 {
			return
		}
		b, _ := json.Marshal(blocks)
		out = append(out, Message{Role: "user", Content: b})
	}
	for _, m := range msgs {
		switch m.Role {
		case adaptor.RoleTool:
			content, _ := json.Marshal(blocksOf(m.Parts))
			if string(content) == "[]" {
				content = json.RawMessage(`""`)
			}
			pending = append(pending, Block{Type: "tool_result", ToolUseID: m.ToolCallID, Content: content, IsError: m.IsError})
		case adaptor.RoleAssistant:
			flush(nil)
			blocks := blocksOf(m.Parts)
			for _, tc := range m.ToolCalls {
				input := json.RawMessage(tc.Args)
				if len(bytes.TrimSpace(input)) == 0 || !json.Valid(input) {
					input = json.RawMessage(`{}`)
				}
				blocks = append(blocks, Block{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
			}
			if len(blocks) == 0 {
				continue
			}
			b, _ := json.Marshal(blocks)
			out = append(out, Message{Role: "assistant", Content: b})
		default:
			flush(blocksOf(m.Parts))
		}
	}
	flush(nil)
	return out
}

// errNotMessage means a 2xx body is not an Anthropic message.
var errNotMessage = errors.New("the upstream's answer is not an Anthropic message")

// ParseResponse implements adaptor.Adaptor.
func (Adaptor) ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	var m MessageResponse
	if err := json.Unmarshal(body, &m); err != nil || m.Type != "message" {
		return nil, errNotMessage
	}
	return ResponseOf(&m), nil
}

// ResponseOf is a whole message in neutral terms.
func ResponseOf(m *MessageResponse) *adaptor.Response {
	resp := &adaptor.Response{ID: m.ID, Model: m.Model, Usage: m.Usage.Neutral()}
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			resp.Parts = append(resp.Parts, adaptor.Part{Type: adaptor.PartText, Text: b.TextOf()})
		case "thinking":
			t := ""
			if b.Thinking != nil {
				t = *b.Thinking
			}
			resp.Parts = append(resp.Parts, adaptor.Part{Type: adaptor.PartThinking, Text: t, Signature: b.Signature})
		case "redacted_thinking":
			resp.Parts = append(resp.Parts, adaptor.Part{Type: adaptor.PartRedactedThinking, Data: b.Data})
		case "tool_use":
			args := string(b.Input)
			if args == "" {
				args = "{}"
			}
			resp.ToolCalls = append(resp.ToolCalls, adaptor.ToolCall{ID: b.ID, Name: b.Name, Args: args})
		}
	}
	if m.StopReason != nil {
		resp.FinishReason = FinishOf(*m.StopReason)
	}
	if m.StopSequence != nil {
		resp.StopSequence = *m.StopSequence
	}
	return resp
}
