// Package responses is the OpenAI Responses client format (POST
// /v1/responses): it reads a create call into the neutral chat, renders a
// neutral answer as a Response object and writes the Responses stream
// (named events with sequence numbers, ending with response.completed).
// It also reads the Responses format coming back from an upstream that
// speaks it, for metering a passed-through call.
package responses

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
)

// wireRequest is a create call as the client sent it.
type wireRequest struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       *string           `json:"instructions"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	Reasoning          *wireReasoning    `json:"reasoning"`
	Text               *wireText         `json:"text"`
	Stream             *bool             `json:"stream"`
	Store              *bool             `json:"store"`
	PreviousResponseID *string           `json:"previous_response_id"`
	User               *string           `json:"user"`
	Metadata           json.RawMessage   `json:"metadata"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Prompt             json.RawMessage   `json:"prompt"`
	Background         *bool             `json:"background"`
}

type wireReasoning struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

type wireText struct {
	Format json.RawMessage `json:"format"`
}

// wireItem is one input item: a message (role and content, type
// "message" or none), a function_call, a function_call_output, or a type
// only a Responses upstream understands.
type wireItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	// function_call and function_call_output
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

// wirePart is one content part of a message or a tool output.
type wirePart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL string `json:"image_url"`
	FileID   string `json:"file_id"`
}

type wireTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Parsed is a create call read and checked.
type Parsed struct {
	Model     string
	Stream    bool
	MaxTokens int
	// Chat is the call as a neutral chat, for channels that do not speak
	// Responses; nil when Unconvertible says why it cannot be one.
	Chat          *adaptor.Chat
	Unconvertible error
	// PromptText and PromptExtra are the billing estimate's inputs: the
	// text to count and the tokens it does not show (framing, images).
	PromptText  string
	PromptExtra int
}

// ErrUnconvertible wraps why a call needs a channel that speaks Responses
// itself: stored state (previous_response_id, item references, file ids)
// or a hosted tool (web search, file search, ...) has no chat equivalent.
var ErrUnconvertible = errors.New("this call needs a channel that speaks the Responses API")

func unconvertible(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnconvertible, fmt.Sprintf(format, args...))
}

func bad(param, format string, args ...any) *errs.Error {
	return errs.BadRequest(format, args...).WithParam(param)
}

// Framing tokens per item, as the chat counting in relay/request.go uses.
const (
	tokensPerItem  = 3
	tokensPerReply = 3
	tokensPerImage = 85
)

// Parse reads a create call. Malformed input is the client's fault (a
// 400); what only a Responses upstream can serve is noted in
// Unconvertible, not refused, because such a channel may serve it.
func Parse(raw []byte) (*Parsed, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, errs.BadRequest("the body is not a JSON object")
	}
	var in wireRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, bad(te.Field, "%s has the wrong type (%s)", te.Field, te.Value)
		}
		return nil, errs.BadRequest("the body is not a valid Responses request")
	}
	if in.Model == "" {
		return nil, bad("model", "model is required and must be a string")
	}
	if in.Background != nil && *in.Background {
		// A background response is answered "queued" with no usage and
		// runs on at the upstream: the relay, which bills when the call
		// returns, would charge its prompt and never its output.
		return nil, bad("background", "background responses are not relayed: the relay bills a call when it returns, and a background response's cost is known only later; send it without background").WithCode("unsupported_parameter")
	}
	p := &Parsed{Model: in.Model}
	if in.Stream != nil {
		p.Stream = *in.Stream
	}
	if in.MaxOutputTokens != nil {
		if *in.MaxOutputTokens < 0 {
			return nil, bad("max_output_tokens", "max_output_tokens must be a positive whole number")
		}
		p.MaxTokens = *in.MaxOutputTokens
	}
	chat := &adaptor.Chat{MaxTokens: p.MaxTokens, Stream: p.Stream, Temperature: in.Temperature, TopP: in.TopP}
	var sb strings.Builder
	extra := tokensPerReply
	var why error
	note := func(err error) {
		if why == nil {
			why = err
		}
	}
	if in.Instructions != nil && *in.Instructions != "" {
		chat.System = append(chat.System, adaptor.Part{Type: "text", Text: *in.Instructions})
		sb.WriteString(*in.Instructions)
		sb.WriteByte('\n')
		extra += tokensPerItem
	}
	items, err := inputItems(in.Input)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		extra += tokensPerItem
		if err := addItem(chat, i, it, &sb, &extra, note); err != nil {
			return nil, err
		}
	}
	for i, rawTool := range in.Tools {
		var t wireTool
		if json.Unmarshal(rawTool, &t) != nil || t.Type == "" {
			return nil, bad(fmt.Sprintf("tools[%d]", i), "tools[%d] must be an object with a type", i)
		}
		sb.Write(rawTool)
		if t.Type != "function" {
			note(unconvertible("the %s tool is hosted by OpenAI", t.Type))
			continue
		}
		if t.Name == "" {
			return nil, bad(fmt.Sprintf("tools[%d].name", i), "tools[%d].name is required", i)
		}
		params := t.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		chat.Tools = append(chat.Tools, adaptor.Tool{Name: t.Name, Description: t.Description, Parameters: params})
	}
	if len(in.ToolChoice) > 0 && string(in.ToolChoice) != "null" {
		tc, err := toolChoice(in.ToolChoice)
		if err != nil {
			if errors.Is(err, ErrUnconvertible) {
				note(err)
			} else {
				return nil, err
			}
		}
		chat.ToolChoice = tc
	}
	if in.Reasoning != nil && in.Reasoning.Effort != nil {
		chat.ReasoningEffort = *in.Reasoning.Effort
	}
	if in.Text != nil && len(in.Text.Format) > 0 && string(in.Text.Format) != "null" {
		rf, err := responseFormat(in.Text.Format)
		if err != nil {
			return nil, err
		}
		chat.ResponseFormat = rf
	}
	if in.User != nil {
		chat.User = *in.User
	}
	switch {
	case in.PreviousResponseID != nil && *in.PreviousResponseID != "":
		note(unconvertible("previous_response_id refers to state kept by the upstream"))
	case len(in.Prompt) > 0 && string(in.Prompt) != "null":
		note(unconvertible("prompt templates are kept by the upstream"))
	case len(chat.Messages) == 0 && why == nil:
		return nil, bad("input", "input is required: a string or a non-empty array of input items")
	}
	p.PromptText, p.PromptExtra = sb.String(), extra
	if why != nil {
		p.Unconvertible = why
	} else {
		p.Chat = chat
	}
	return p, nil
}

// inputItems reads input: a string is one user message.
func inputItems(raw json.RawMessage) ([]wireItem, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		c, _ := json.Marshal(s)
		return []wireItem{{Role: "user", Content: c}}, nil
	}
	var items []wireItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, bad("input", "input must be a string or an array of input items")
	}
	return items, nil
}

// addItem appends one input item to chat.
func addItem(chat *adaptor.Chat, i int, it wireItem, sb *strings.Builder, extra *int, note func(error)) error {
	param := func(f string) string { return fmt.Sprintf("input[%d]%s", i, f) }
	switch it.Type {
	case "", "message":
		parts, err := contentParts(it.Content, param(".content"), extra, note)
		if err != nil {
			return err
		}
		for _, pt := range parts {
			sb.WriteString(pt.Text)
		}
		sb.WriteByte('\n')
		switch it.Role {
		case "system", "developer":
			// Every provider that lacks Responses takes system text apart
			// from the turns (Anthropic only at the top), so it goes there.
			chat.System = append(chat.System, parts...)
		case "user", "assistant":
			chat.Messages = append(chat.Messages, adaptor.Message{Role: it.Role, Parts: parts})
		default:
			return bad(param(".role"), "input[%d].role must be user, assistant, system or developer", i)
		}
	case "function_call":
		if it.CallID == "" || it.Name == "" {
			return bad(param(""), "input[%d]: a function_call needs call_id and name", i)
		}
		sb.WriteString(it.Name)
		sb.WriteString(it.Arguments)
		call := adaptor.ToolCall{ID: it.CallID, Name: it.Name, Args: it.Arguments}
		// Calls made in one turn follow the assistant's text as separate
		// items; chat keeps them on that one assistant message.
		if n := len(chat.Messages); n > 0 && chat.Messages[n-1].Role == "assistant" {
			chat.Messages[n-1].ToolCalls = append(chat.Messages[n-1].ToolCalls, call)
		} else {
			chat.Messages = append(chat.Messages, adaptor.Message{Role: "assistant", ToolCalls: []adaptor.ToolCall{call}})
		}
	case "function_call_output":
		if it.CallID == "" {
			return bad(param(".call_id"), "input[%d].call_id is required", i)
		}
		parts, err := contentParts(it.Output, param(".output"), extra, note)
		if err != nil {
			return err
		}
		for _, pt := range parts {
			sb.WriteString(pt.Text)
		}
		chat.Messages = append(chat.Messages, adaptor.Message{Role: "tool", ToolCallID: it.CallID, Parts: parts})
	case "reasoning":
		// Encrypted reasoning from an earlier OpenAI turn means nothing
		// to another provider; the turn's text and calls carry over.
	case "item_reference":
		note(unconvertible("input[%d] refers to an item stored by the upstream", i))
	default:
		if !strings.HasSuffix(it.Type, "_call") && !strings.HasSuffix(it.Type, "_call_output") && !strings.HasPrefix(it.Type, "mcp_") {
			return bad(param(".type"), "input[%d].type %q is not an input item type", i, it.Type)
		}
		note(unconvertible("input[%d] is a %s item of a hosted tool", i, it.Type))
	}
	return nil
}

// contentParts reads a message's content or a tool's output: a string, or
// an array of input_text, output_text, refusal, input_image and
// input_file parts.
func contentParts(raw json.RawMessage, param string, extra *int, note func(error)) ([]adaptor.Part, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, bad(param, "%s is required", param)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []adaptor.Part{{Type: "text", Text: s}}, nil
	}
	var parts []wirePart
	if json.Unmarshal(raw, &parts) != nil {
		return nil, bad(param, "%s must be a string or an array of content parts", param)
	}
	out := make([]adaptor.Part, 0, len(parts))
	for j, wp := range parts {
		switch wp.Type {
		case "input_text", "output_text":
			out = append(out, adaptor.Part{Type: "text", Text: wp.Text})
		case "refusal":
			out = append(out, adaptor.Part{Type: "text", Text: wp.Refusal})
		case "input_image":
			*extra += tokensPerImage
			switch {
			case wp.ImageURL != "":
				out = append(out, imagePart(wp.ImageURL))
			case wp.FileID != "":
				note(unconvertible("%s[%d] is a file stored by the upstream", param, j))
			default:
				return nil, bad(fmt.Sprintf("%s[%d]", param, j), "%s[%d]: an input_image needs image_url or file_id", param, j)
			}
		case "input_file", "input_audio":
			note(unconvertible("%s[%d] is an %s part", param, j, wp.Type))
		default:
			return nil, bad(fmt.Sprintf("%s[%d].type", param, j), "%s[%d].type %q is not a content part type", param, j, wp.Type)
		}
	}
	return out, nil
}

// imagePart keeps a URL, or splits a data URL into its type and base64.
func imagePart(u string) adaptor.Part {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		if meta, data, ok := strings.Cut(rest, ","); ok && strings.HasSuffix(meta, ";base64") {
			return adaptor.Part{Type: "image", MediaType: strings.TrimSuffix(meta, ";base64"), Data: data}
		}
	}
	return adaptor.Part{Type: "image", ImageURL: u}
}

// toolChoice reads "auto", "none", "required" or {"type":"function",
// "name":...}; a hosted tool's choice cannot be converted.
func toolChoice(raw json.RawMessage) (*adaptor.ToolChoice, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto", "none", "required":
			return &adaptor.ToolChoice{Mode: s}, nil
		}
		return nil, bad("tool_choice", "tool_choice must be auto, none, required or an object")
	}
	var o struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &o) != nil || o.Type == "" {
		return nil, bad("tool_choice", "tool_choice must be auto, none, required or an object with a type")
	}
	if o.Type == "function" {
		if o.Name == "" {
			return nil, bad("tool_choice.name", "tool_choice.name is required for a function")
		}
		return &adaptor.ToolChoice{Mode: "tool", Name: o.Name}, nil
	}
	return nil, unconvertible("tool_choice %s", o.Type)
}

// responseFormat turns text.format into chat's response_format.
func responseFormat(raw json.RawMessage) (json.RawMessage, error) {
	var f struct {
		Type        string          `json:"type"`
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict,omitempty"`
	}
	if json.Unmarshal(raw, &f) != nil {
		return nil, bad("text.format", "text.format must be an object")
	}
	switch f.Type {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		if f.Name == "" || len(f.Schema) == 0 {
			return nil, bad("text.format", "a json_schema format needs name and schema")
		}
		js := map[string]any{"name": f.Name, "schema": f.Schema}
		if f.Description != "" {
			js["description"] = f.Description
		}
		if f.Strict != nil {
			js["strict"] = *f.Strict
		}
		b, _ := json.Marshal(map[string]any{"type": "json_schema", "json_schema": js})
		return b, nil
	}
	return nil, bad("text.format.type", "text.format.type must be text, json_object or json_schema")
}
