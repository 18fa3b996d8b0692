package bedrock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
)

// Converse's wire structs (bedrock-runtime Converse and ConverseStream),
// with the fields the relay writes and reads.

// ConverseRequest is the body of /model/{id}/converse(-stream).
type ConverseRequest struct {
	Messages                     []Message        `json:"messages"`
	System                       []ContentBlock   `json:"system,omitempty"`
	InferenceConfig              *InferenceConfig `json:"inferenceConfig,omitempty"`
	ToolConfig                   *ToolConfig      `json:"toolConfig,omitempty"`
	AdditionalModelRequestFields map[string]any   `json:"additionalModelRequestFields,omitempty"`
}

// Message is one turn: role user or assistant.
type Message struct {
	Role    string         `json:"role"`
	Content []ContentBlock `json:"content"`
}

// ContentBlock is one block; exactly one field is set.
type ContentBlock struct {
	Text             string            `json:"text,omitempty"`
	Image            *Image            `json:"image,omitempty"`
	ToolUse          *ToolUse          `json:"toolUse,omitempty"`
	ToolResult       *ToolResult       `json:"toolResult,omitempty"`
	ReasoningContent *ReasoningContent `json:"reasoningContent,omitempty"`
}

// Image is an inline image: format png, jpeg, gif or webp; bytes base64.
type Image struct {
	Format string `json:"format"`
	Source struct {
		Bytes string `json:"bytes"`
	} `json:"source"`
}

// ToolUse is a tool call the model made.
type ToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

// ToolResult answers one ToolUse.
type ToolResult struct {
	ToolUseID string              `json:"toolUseId"`
	Content   []ToolResultContent `json:"content"`
	Status    string              `json:"status,omitempty"`
}

// ToolResultContent is text or a JSON document.
type ToolResultContent struct {
	Text string          `json:"text,omitempty"`
	JSON json.RawMessage `json:"json,omitempty"`
}

// ReasoningContent is a model's reasoning (Claude's thinking).
type ReasoningContent struct {
	ReasoningText *struct {
		Text      string `json:"text"`
		Signature string `json:"signature,omitempty"`
	} `json:"reasoningText,omitempty"`
}

// InferenceConfig holds the common sampling settings.
type InferenceConfig struct {
	MaxTokens     int      `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

// ToolConfig declares tools and the choice among them.
type ToolConfig struct {
	Tools      []ToolSpecEntry `json:"tools"`
	ToolChoice map[string]any  `json:"toolChoice,omitempty"`
}

// ToolSpecEntry wraps one tool specification.
type ToolSpecEntry struct {
	ToolSpec ToolSpec `json:"toolSpec"`
}

// ToolSpec is a function the model may call.
type ToolSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	InputSchema struct {
		JSON json.RawMessage `json:"json"`
	} `json:"inputSchema"`
}

// ConverseResponse is Converse's answer.
type ConverseResponse struct {
	Output struct {
		Message *Message `json:"message"`
	} `json:"output"`
	StopReason string         `json:"stopReason"`
	Usage      *ConverseUsage `json:"usage"`
}

// ConverseUsage: inputTokens excludes the cache reads and writes.
type ConverseUsage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	TotalTokens           int `json:"totalTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

func (u *ConverseUsage) neutral() *adaptor.Usage {
	if u == nil {
		return nil
	}
	p := u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens
	out := &adaptor.Usage{PromptTokens: p, CompletionTokens: u.OutputTokens, TotalTokens: u.TotalTokens,
		CachedTokens: u.CacheReadInputTokens, CacheCreationTokens: u.CacheWriteInputTokens}
	if out.TotalTokens == 0 {
		out.TotalTokens = p + u.OutputTokens
	}
	return out
}

// stopReason maps Converse's stopReason onto the neutral finish reason.
func stopReason(r string) string {
	switch r {
	case "":
		return ""
	case "tool_use":
		return adaptor.FinishToolCalls
	case "max_tokens", "model_context_window_exceeded":
		return adaptor.FinishLength
	case "guardrail_intervened", "content_filtered":
		return adaptor.FinishContentFilter
	}
	return adaptor.FinishStop
}

// imageFormats are the image media types Converse takes.
var imageFormats = map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}

func badRequest(format string, args ...any) *adaptor.UpstreamError {
	return &adaptor.UpstreamError{Status: http.StatusBadRequest, Class: adaptor.ClassRequest, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
}

// ToConverse turns a neutral chat into a Converse body. claude adds
// Anthropic's own fields (top_k, thinking) as additional model fields.
func ToConverse(c *adaptor.Chat, claude bool) (*ConverseRequest, error) {
	q := &ConverseRequest{}
	for _, p := range c.System {
		if p.Type == adaptor.PartText && p.Text != "" {
			q.System = append(q.System, ContentBlock{Text: p.Text})
		}
	}
	// Converse wants strictly alternating turns: consecutive messages of
	// one role (tool results are the user's) are merged.
	add := func(role string, blocks []ContentBlock) {
		if len(blocks) == 0 {
			return
		}
		if n := len(q.Messages); n > 0 && q.Messages[n-1].Role == role {
			q.Messages[n-1].Content = append(q.Messages[n-1].Content, blocks...)
			return
		}
		q.Messages = append(q.Messages, Message{Role: role, Content: blocks})
	}
	for _, m := range c.Messages {
		var blocks []ContentBlock
		switch m.Role {
		case adaptor.RoleTool:
			text := textOf(m.Parts)
			rc := ToolResultContent{Text: text}
			if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
				rc = ToolResultContent{JSON: json.RawMessage(t)}
			}
			tr := &ToolResult{ToolUseID: m.ToolCallID, Content: []ToolResultContent{rc}}
			if m.IsError {
				tr.Status = "error"
			}
			add("user", []ContentBlock{{ToolResult: tr}})
			continue
		case adaptor.RoleAssistant:
			for _, p := range m.Parts {
				switch {
				case p.Type == adaptor.PartText && p.Text != "":
					blocks = append(blocks, ContentBlock{Text: p.Text})
				case p.Type == adaptor.PartThinking && p.Signature != "":
					rc := &ReasoningContent{}
					rc.ReasoningText = &struct {
						Text      string `json:"text"`
						Signature string `json:"signature,omitempty"`
					}{Text: p.Text, Signature: p.Signature}
					blocks = append(blocks, ContentBlock{ReasoningContent: rc})
				}
			}
			for _, tc := range m.ToolCalls {
				input := json.RawMessage("{}")
				if t := strings.TrimSpace(tc.Args); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
					input = json.RawMessage(t)
				}
				blocks = append(blocks, ContentBlock{ToolUse: &ToolUse{ToolUseID: tc.ID, Name: tc.Name, Input: input}})
			}
			add("assistant", blocks)
			continue
		}
		for _, p := range m.Parts {
			switch p.Type {
			case adaptor.PartText:
				if p.Text != "" {
					blocks = append(blocks, ContentBlock{Text: p.Text})
				}
			case adaptor.PartImage:
				if p.Data == "" {
					// Converse takes image bytes only; fetching a client's
					// URL from here would make the relay a fetcher of
					// arbitrary addresses.
					return nil, badRequest("Bedrock channels take images as base64 data: URLs, not links (%s)", p.ImageURL)
				}
				f, ok := imageFormats[strings.ToLower(p.MediaType)]
				if !ok {
					return nil, badRequest("Bedrock takes png, jpeg, gif or webp images, not %q", p.MediaType)
				}
				img := &Image{Format: f}
				img.Source.Bytes = p.Data
				blocks = append(blocks, ContentBlock{Image: img})
			}
		}
		add("user", blocks)
	}
	if len(q.Messages) == 0 || q.Messages[0].Role != "user" {
		return nil, badRequest("a Bedrock conversation must start with a user message")
	}
	ic := &InferenceConfig{MaxTokens: c.MaxTokens, Temperature: c.Temperature, TopP: c.TopP, StopSequences: c.Stop}
	if ic.MaxTokens > 0 || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		q.InferenceConfig = ic
	}
	if len(c.Tools) > 0 {
		tc := &ToolConfig{}
		for _, t := range c.Tools {
			spec := ToolSpec{Name: t.Name, Description: t.Description}
			spec.InputSchema.JSON = t.Parameters
			if len(spec.InputSchema.JSON) == 0 || string(spec.InputSchema.JSON) == "null" {
				spec.InputSchema.JSON = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			tc.Tools = append(tc.Tools, ToolSpecEntry{ToolSpec: spec})
		}
		if ch := c.ToolChoice; ch != nil {
			switch ch.Mode {
			case adaptor.ToolRequired:
				tc.ToolChoice = map[string]any{"any": map[string]any{}}
			case adaptor.ToolNamed:
				tc.ToolChoice = map[string]any{"tool": map[string]any{"name": ch.Name}}
			case adaptor.ToolAuto:
				tc.ToolChoice = map[string]any{"auto": map[string]any{}}
			}
			// "none" has no Converse equivalent: the tools stay declared
			// (a history with toolUse blocks needs them) and the model
			// is left to choose.
		}
		q.ToolConfig = tc
	}
	if claude {
		extra := map[string]any{}
		if c.TopK != nil {
			extra["top_k"] = *c.TopK
		}
		if c.ThinkingBudget > 0 {
			extra["thinking"] = map[string]any{"type": "enabled", "budget_tokens": c.ThinkingBudget}
		}
		if len(extra) > 0 {
			q.AdditionalModelRequestFields = extra
		}
	}
	return q, nil
}

func textOf(parts []adaptor.Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Type == adaptor.PartText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// FromConverse turns Converse's answer into the neutral one.
func FromConverse(r *ConverseResponse) (*adaptor.Response, error) {
	if r.Output.Message == nil {
		return nil, fmt.Errorf("converse answer has no output message")
	}
	out := &adaptor.Response{Usage: r.Usage.neutral()}
	for _, b := range r.Output.Message.Content {
		switch {
		case b.ToolUse != nil:
			out.ToolCalls = append(out.ToolCalls, adaptor.ToolCall{ID: b.ToolUse.ToolUseID, Name: b.ToolUse.Name, Args: string(b.ToolUse.Input)})
		case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
			out.Parts = append(out.Parts, adaptor.Part{Type: adaptor.PartThinking, Text: b.ReasoningContent.ReasoningText.Text, Signature: b.ReasoningContent.ReasoningText.Signature})
		case b.Text != "":
			out.Parts = append(out.Parts, adaptor.Part{Type: adaptor.PartText, Text: b.Text})
		}
	}
	out.FinishReason = stopReason(r.StopReason)
	return out, nil
}
