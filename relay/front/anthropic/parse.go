// Package anthropic is the Anthropic Messages client front (/v1/messages):
// a Messages body read into the neutral request, whole answers rendered as
// an Anthropic message, and the named-event stream (message_start ...
// message_stop) written for converted answers or passed through from an
// Anthropic channel.
package anthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/anthropic"
	"switchyard/relay/front"
)

// Front is the Anthropic front. The zero value is ready.
type Front struct{}

// Format implements adaptor.Front.
func (Front) Format() adaptor.Format { return adaptor.FormatAnthropic }

// Framing counted per message and per image in the prompt estimate, as
// the OpenAI front does; the answer's usage is what is billed.
const (
	tokensPerMessage = 3
	tokensPerReply   = 3
	tokensPerImage   = 85
)

// blockTypes are the content block types Anthropic documents for
// requests; others are refused as Anthropic refuses them.
var blockTypes = map[string]bool{
	"text": true, "image": true, "document": true, "search_result": true,
	"tool_use": true, "tool_result": true, "thinking": true, "redacted_thinking": true,
	"server_tool_use": true, "web_search_tool_result": true, "web_fetch_tool_result": true,
	"code_execution_tool_result": true, "bash_code_execution_tool_result": true,
	"text_editor_code_execution_tool_result": true, "mcp_tool_use": true, "mcp_tool_result": true,
	"container_upload": true,
}

func invalid(format string, args ...any) *errs.Error {
	return errs.BadRequest(format, args...)
}

// Parse implements adaptor.Front.
func (Front) Parse(hr *http.Request, mode adaptor.Mode) (*adaptor.Request, error) {
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	var req *adaptor.Request
	if mode == adaptor.ModeChat {
		// Messages calls are mostly pass-through: scan them, and read them
		// whole only when a conversion needs it (scan.go).
		req, err = ScanRequest(raw)
	} else {
		req, err = ParseRequest(raw)
	}
	if err != nil {
		return nil, err
	}
	req.Mode = mode
	// The headers a pass-through forwards, as they came (their keys are
	// canonical already in hr.Header).
	var h http.Header
	for _, k := range [...]string{"Anthropic-Version", "Anthropic-Beta"} {
		if v := hr.Header[k]; len(v) > 0 {
			if h == nil {
				h = make(http.Header, 2)
			}
			h[k] = v
		}
	}
	req.Header = h
	return req, nil
}

// ParseRequest reads a Messages body into a neutral chat request.
func ParseRequest(raw []byte) (*adaptor.Request, error) {
	var in wire.MessagesRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, invalid("the body is not a valid Messages request: %v", err)
	}
	if in.Model == "" {
		return nil, invalid("model: field required").WithParam("model")
	}
	if in.MaxTokens <= 0 {
		return nil, invalid("max_tokens: field required and must be at least 1").WithParam("max_tokens")
	}
	if len(in.Messages) == 0 {
		return nil, invalid("messages: at least one message is required").WithParam("messages")
	}
	chat := &adaptor.Chat{
		MaxTokens: in.MaxTokens, Stream: in.Stream, Stop: in.StopSequences,
		Temperature: in.Temperature, TopP: in.TopP, TopK: in.TopK,
	}
	var sb strings.Builder
	extra := tokensPerReply
	if len(in.System) > 0 && string(in.System) != "null" {
		parts, err := systemParts(in.System)
		if err != nil {
			return nil, invalid("system: %v", err).WithParam("system")
		}
		chat.System = parts
		for _, p := range parts {
			sb.WriteString(p.Text)
			sb.WriteByte('\n')
		}
	}
	for i, m := range in.Messages {
		if m.Role != adaptor.RoleUser && m.Role != adaptor.RoleAssistant {
			return nil, invalid("messages.%d.role: must be user or assistant", i).WithParam("messages")
		}
		msgs, images, err := messagesOf(m, &sb)
		if err != nil {
			return nil, invalid("messages.%d: %v", i, err).WithParam("messages")
		}
		extra += tokensPerMessage + images*tokensPerImage
		chat.Messages = append(chat.Messages, msgs...)
	}
	for _, t := range in.Tools {
		sb.WriteString(t.Name)
		sb.WriteString(t.Description)
		sb.Write(t.InputSchema)
		if t.Type != "" && t.Type != "custom" {
			// Server tools (web search, code execution) run at Anthropic;
			// only an Anthropic channel can serve them, through
			// pass-through. They have nothing to convert to.
			continue
		}
		chat.Tools = append(chat.Tools, adaptor.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	if tc := in.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto":
			chat.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolAuto}
		case "any":
			chat.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolRequired}
		case "none":
			chat.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolNone}
		case "tool":
			chat.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolNamed, Name: tc.Name}
		default:
			return nil, invalid("tool_choice.type: unknown %q", tc.Type).WithParam("tool_choice")
		}
	}
	if in.Metadata != nil {
		chat.User = in.Metadata.UserID
	}
	if in.Thinking != nil && in.Thinking.Type == "enabled" {
		chat.ThinkingBudget = in.Thinking.BudgetTokens
	}
	return &adaptor.Request{
		Mode: adaptor.ModeChat, Format: adaptor.FormatAnthropic, Model: in.Model, Stream: in.Stream,
		MaxTokens: in.MaxTokens, Raw: raw, Chat: chat, PromptText: sb.String(), PromptExtra: extra,
	}, nil
}

// systemParts reads a system prompt: a string or an array of text blocks.
func systemParts(raw json.RawMessage) ([]adaptor.Part, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []adaptor.Part{{Type: adaptor.PartText, Text: s}}, nil
	}
	var blocks []wire.Block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, fmt.Errorf("want a string or an array of text blocks")
	}
	out := make([]adaptor.Part, 0, len(blocks))
	for _, b := range blocks {
		if b.Type != "text" {
			return nil, fmt.Errorf("system blocks must be text, not %q", b.Type)
		}
		out = append(out, adaptor.Part{Type: adaptor.PartText, Text: b.TextOf(), CacheControl: b.CacheControl})
	}
	return out, nil
}

// messagesOf converts one turn. A user turn's tool_result blocks become
// tool messages ahead of what else the turn says.
func messagesOf(m wire.Message, sb *strings.Builder) ([]adaptor.Message, int, error) {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		sb.WriteString(s)
		sb.WriteByte('\n')
		return []adaptor.Message{{Role: m.Role, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: s}}}}, 0, nil
	}
	var blocks []wire.Block
	if err := json.Unmarshal(m.Content, &blocks); err != nil {
		return nil, 0, fmt.Errorf("content: want a string or an array of content blocks")
	}
	var out []adaptor.Message
	msg := adaptor.Message{Role: m.Role}
	images := 0
	for _, b := range blocks {
		if !blockTypes[b.Type] {
			return nil, 0, fmt.Errorf("unsupported content block type %q", b.Type)
		}
		switch b.Type {
		case "text":
			sb.WriteString(b.TextOf())
			msg.Parts = append(msg.Parts, adaptor.Part{Type: adaptor.PartText, Text: b.TextOf(), CacheControl: b.CacheControl})
		case "image":
			p, err := imagePart(b)
			if err != nil {
				return nil, 0, err
			}
			images++
			msg.Parts = append(msg.Parts, p)
		case "tool_use":
			if m.Role != adaptor.RoleAssistant {
				return nil, 0, fmt.Errorf("tool_use blocks belong to assistant messages")
			}
			args := string(b.Input)
			if args == "" || args == "null" {
				args = "{}"
			}
			sb.WriteString(b.Name)
			sb.WriteString(args)
			msg.ToolCalls = append(msg.ToolCalls, adaptor.ToolCall{ID: b.ID, Name: b.Name, Args: args})
		case "tool_result":
			parts, n, err := resultParts(b.Content)
			if err != nil {
				return nil, 0, fmt.Errorf("tool_result content: %v", err)
			}
			images += n
			for _, p := range parts {
				sb.WriteString(p.Text)
			}
			out = append(out, adaptor.Message{Role: adaptor.RoleTool, ToolCallID: b.ToolUseID, Parts: parts, IsError: b.IsError})
		case "thinking":
			t := ""
			if b.Thinking != nil {
				t = *b.Thinking
			}
			msg.Parts = append(msg.Parts, adaptor.Part{Type: adaptor.PartThinking, Text: t, Signature: b.Signature})
		case "redacted_thinking":
			msg.Parts = append(msg.Parts, adaptor.Part{Type: adaptor.PartRedactedThinking, Data: b.Data})
		default:
			// Documents and server tool blocks pass through to Anthropic
			// channels untouched; a conversion keeps their text if any.
			if t := b.TextOf(); t != "" {
				sb.WriteString(t)
				msg.Parts = append(msg.Parts, adaptor.Part{Type: adaptor.PartText, Text: t})
			}
		}
	}
	sb.WriteByte('\n')
	if len(msg.Parts) > 0 || len(msg.ToolCalls) > 0 {
		out = append(out, msg)
	}
	return out, images, nil
}

func imagePart(b wire.Block) (adaptor.Part, error) {
	src := b.Source
	if src == nil {
		return adaptor.Part{}, fmt.Errorf("image block without a source")
	}
	switch src.Type {
	case "base64":
		return adaptor.Part{Type: adaptor.PartImage, MediaType: src.MediaType, Data: src.Data, CacheControl: b.CacheControl}, nil
	case "url":
		return adaptor.Part{Type: adaptor.PartImage, ImageURL: src.URL, CacheControl: b.CacheControl}, nil
	}
	return adaptor.Part{}, fmt.Errorf("image source type %q is not base64 or url", src.Type)
}

// resultParts reads a tool_result's content: a string or text and image
// blocks.
func resultParts(raw json.RawMessage) ([]adaptor.Part, int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []adaptor.Part{{Type: adaptor.PartText, Text: s}}, 0, nil
	}
	var blocks []wire.Block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, 0, fmt.Errorf("want a string or an array of blocks")
	}
	var out []adaptor.Part
	images := 0
	for _, b := range blocks {
		switch b.Type {
		case "text":
			out = append(out, adaptor.Part{Type: adaptor.PartText, Text: b.TextOf()})
		case "image":
			p, err := imagePart(b)
			if err != nil {
				return nil, 0, err
			}
			images++
			out = append(out, p)
		}
	}
	return out, images, nil
}
