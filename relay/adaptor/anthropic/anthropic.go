// Package anthropic speaks Anthropic's Messages wire format to clients:
// it turns a /v1/messages request into the neutral (OpenAI chat) request
// the relay sends to any channel, and turns the answer, whole or streamed,
// back into Anthropic's shape, so Anthropic SDK clients can use every
// channel.
package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// request is the part of Anthropic's Messages request the relay reads.
type request struct {
	Model         string          `json:"model"`
	MaxTokens     int             `json:"max_tokens"`
	System        json.RawMessage `json:"system"`
	Messages      []message       `json:"messages"`
	StopSequences []string        `json:"stop_sequences"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	Stream        bool            `json:"stream"`
	Tools         []tool          `json:"tools"`
	ToolChoice    *toolChoice     `json:"tool_choice"`
	Metadata      *struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Source    *imageSource    `json:"source"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

type imageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
}

type tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type toolChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// Request is an Anthropic call read and turned into OpenAI chat fields.
type Request struct {
	Model     string
	MaxTokens int
	Stream    bool
	// Fields are the OpenAI chat request's top-level fields.
	Fields map[string]json.RawMessage
}

// ErrInvalid wraps what is wrong with a client's request.
var ErrInvalid = errors.New("invalid request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// oaMessage is an OpenAI chat message as this package writes it.
type oaMessage struct {
	Role       string   `json:"role"`
	Content    any      `json:"content,omitempty"`
	ToolCalls  []oaCall `json:"tool_calls,omitempty"`
	ToolCallID string   `json:"tool_call_id,omitempty"`
}

type oaCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaPart struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url,omitempty"`
}

// ParseRequest reads an Anthropic Messages body.
func ParseRequest(body []byte) (*Request, error) {
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("the body is not a valid Messages request: %v", err)
	}
	if in.Model == "" {
		return nil, invalid("model: field required")
	}
	if in.MaxTokens <= 0 {
		return nil, invalid("max_tokens: field required and must be at least 1")
	}
	if len(in.Messages) == 0 {
		return nil, invalid("messages: at least one message is required")
	}
	var msgs []oaMessage
	if len(in.System) > 0 && string(in.System) != "null" {
		text, err := textOf(in.System)
		if err != nil {
			return nil, invalid("system: %v", err)
		}
		msgs = append(msgs, oaMessage{Role: "system", Content: text})
	}
	for i, m := range in.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return nil, invalid("messages.%d.role: must be user or assistant", i)
		}
		out, err := convertMessage(m)
		if err != nil {
			return nil, invalid("messages.%d: %v", i, err)
		}
		msgs = append(msgs, out...)
	}
	f := map[string]json.RawMessage{}
	set := func(k string, v any) { b, _ := json.Marshal(v); f[k] = b }
	set("model", in.Model)
	set("messages", msgs)
	set("max_tokens", in.MaxTokens)
	if in.Stream {
		set("stream", true)
	}
	if len(in.StopSequences) > 0 {
		set("stop", in.StopSequences)
	}
	if in.Temperature != nil {
		set("temperature", *in.Temperature)
	}
	if in.TopP != nil {
		set("top_p", *in.TopP)
	}
	if in.Metadata != nil && in.Metadata.UserID != "" {
		set("user", in.Metadata.UserID)
	}
	if len(in.Tools) > 0 {
		tools := make([]map[string]any, len(in.Tools))
		for i, t := range in.Tools {
			params := t.InputSchema
			if len(params) == 0 {
				params = json.RawMessage(`{"type":"object"}`)
			}
			tools[i] = map[string]any{"type": "function", "function": map[string]any{"name": t.Name, "description": t.Description, "parameters": params}}
		}
		set("tools", tools)
	}
	if tc := in.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto":
			set("tool_choice", "auto")
		case "any":
			set("tool_choice", "required")
		case "none":
			set("tool_choice", "none")
		case "tool":
			set("tool_choice", map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}})
		default:
			return nil, invalid("tool_choice.type: unknown %q", tc.Type)
		}
	}
	return &Request{Model: in.Model, MaxTokens: in.MaxTokens, Stream: in.Stream, Fields: f}, nil
}

// textOf reads a string, or an array of text blocks joined.
func textOf(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", errors.New("want a string or an array of text blocks")
	}
	var sb strings.Builder
	for _, b := range blocks {
		if b.Type == "text" {
			if sb.Len() > 0 {
				sb.WriteString("\n")
			}
			sb.WriteString(b.Text)
		}
	}
	return sb.String(), nil
}

func convertMessage(m message) ([]oaMessage, error) {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []oaMessage{{Role: m.Role, Content: s}}, nil
	}
	var blocks []block
	if err := json.Unmarshal(m.Content, &blocks); err != nil {
		return nil, errors.New("content: want a string or an array of content blocks")
	}
	var out []oaMessage
	var parts []oaPart
	var calls []oaCall
	for _, b := range blocks {
		switch b.Type {
		case "text":
			parts = append(parts, oaPart{Type: "text", Text: b.Text})
		case "image":
			if b.Source == nil {
				return nil, errors.New("image block without a source")
			}
			url := b.Source.URL
			if b.Source.Type == "base64" {
				url = "data:" + b.Source.MediaType + ";base64," + b.Source.Data
			}
			p := oaPart{Type: "image_url", ImageURL: &struct {
				URL string `json:"url"`
			}{URL: url}}
			parts = append(parts, p)
		case "tool_use":
			if m.Role != "assistant" {
				return nil, errors.New("tool_use blocks belong to assistant messages")
			}
			c := oaCall{ID: b.ID, Type: "function"}
			c.Function.Name = b.Name
			c.Function.Arguments = string(b.Input)
			if c.Function.Arguments == "" {
				c.Function.Arguments = "{}"
			}
			calls = append(calls, c)
		case "tool_result":
			text := ""
			if len(b.Content) > 0 {
				t, err := textOf(b.Content)
				if err != nil {
					return nil, fmt.Errorf("tool_result content: %v", err)
				}
				text = t
			}
			if b.IsError {
				text = "Error: " + text
			}
			out = append(out, oaMessage{Role: "tool", ToolCallID: b.ToolUseID, Content: text})
		case "thinking", "redacted_thinking":
			// Earlier reasoning is not sent back to other providers.
		default:
			return nil, fmt.Errorf("unsupported content block type %q", b.Type)
		}
	}
	if len(parts) > 0 || len(calls) > 0 {
		msg := oaMessage{Role: m.Role, ToolCalls: calls}
		switch {
		case len(parts) == 1 && parts[0].Type == "text":
			msg.Content = parts[0].Text
		case len(parts) > 0 && m.Role == "assistant":
			// Assistant content is text only in OpenAI's format.
			var sb strings.Builder
			for _, p := range parts {
				sb.WriteString(p.Text)
			}
			msg.Content = sb.String()
		case len(parts) > 0:
			msg.Content = parts
		}
		out = append(out, msg)
	}
	return out, nil
}

// stopReason maps OpenAI's finish_reason onto Anthropic's stop_reason.
func stopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "":
		return ""
	default:
		return "end_turn"
	}
}

type oaAnswer struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Content   string   `json:"content"`
			ToolCalls []oaCall `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// Usage is Anthropic's usage object.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

type outBlock struct {
	Type  string          `json:"type"`
	Text  *string         `json:"text,omitempty"`
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

type outMessage struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Role         string     `json:"role"`
	Model        string     `json:"model"`
	Content      []outBlock `json:"content"`
	StopReason   *string    `json:"stop_reason"`
	StopSequence *string    `json:"stop_sequence"`
	Usage        Usage      `json:"usage"`
}

func messageID(id string) string {
	if strings.HasPrefix(id, "msg_") {
		return id
	}
	return "msg_" + strings.TrimPrefix(id, "chatcmpl-")
}

// ToMessage turns a whole OpenAI chat answer into an Anthropic message.
// usage is what billing decided the call used.
func ToMessage(body []byte, model string, usage Usage) ([]byte, error) {
	var a oaAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	m := outMessage{ID: messageID(a.ID), Type: "message", Role: "assistant", Model: model, Content: []outBlock{}, Usage: usage}
	if len(a.Choices) > 0 {
		c := a.Choices[0]
		if c.Message.Content != "" {
			text := c.Message.Content
			m.Content = append(m.Content, outBlock{Type: "text", Text: &text})
		}
		for _, tc := range c.Message.ToolCalls {
			input := json.RawMessage(tc.Function.Arguments)
			if !json.Valid(input) {
				input = json.RawMessage(`{}`)
			}
			m.Content = append(m.Content, outBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
		}
		if r := stopReason(c.FinishReason); r != "" {
			m.StopReason = &r
		}
	}
	return json.Marshal(m)
}
