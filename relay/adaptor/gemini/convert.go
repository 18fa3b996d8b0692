package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"path"
	"strconv"
	"strings"

	"switchyard/relay/adaptor"
)

// Tool call ids. Gemini names function calls by function name (newer
// models add an id), and Gemini 3 wants each call's thoughtSignature sent
// back with it. A neutral ToolCall has only an id, which every client
// echoes verbatim, so the signature travels inside it after this marker.
const sigMarker = "__thought__"

// dummySignature is the value Google documents for function calls whose
// signature was lost (a history written by another model): it tells
// Gemini 3 to skip its signature check. Older models ignore the field.
const dummySignature = "skip_thought_signature_validator"

// ToolCallID is the neutral id of the n-th function call of an answer.
func ToolCallID(fc *FunctionCall, signature string, n int) string {
	id := fc.ID
	if id == "" {
		id = "call_" + strconv.Itoa(n) + "_" + fc.Name
	}
	if signature != "" {
		id += sigMarker + signature
	}
	return id
}

// splitToolCallID returns the id Gemini knows and the signature, if any.
func splitToolCallID(id string) (plain, signature string) {
	if i := strings.Index(id, sigMarker); i >= 0 {
		return id[:i], id[i+len(sigMarker):]
	}
	return id, ""
}

// Thinking budgets for OpenAI's reasoning_effort, in tokens.
var effortBudget = map[string]int{"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}

// ToRequest turns a neutral chat into a generateContent body.
func ToRequest(c *adaptor.Chat) (*GenerateRequest, error) {
	g := &GenerateRequest{}
	if len(c.System) > 0 {
		sys := &Content{}
		for _, p := range c.System {
			if p.Type == adaptor.PartText && p.Text != "" {
				sys.Parts = append(sys.Parts, Part{Text: p.Text})
			}
		}
		if len(sys.Parts) > 0 {
			g.SystemInstruction = sys
		}
	}
	// Function responses are matched to calls by name: remember each
	// call's name by id.
	names := map[string]string{}
	for _, m := range c.Messages {
		for _, tc := range m.ToolCalls {
			names[tc.ID] = tc.Name
		}
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		switch m.Role {
		case adaptor.RoleTool:
			plain, _ := splitToolCallID(m.ToolCallID)
			name := names[m.ToolCallID]
			if name == "" {
				return nil, fmt.Errorf("tool result %q answers no tool call of this conversation", m.ToolCallID)
			}
			fr := &FunctionResponse{Name: name, Response: toolResponse(m)}
			if !strings.HasPrefix(plain, "call_") {
				fr.ID = plain
			}
			// One user turn carries every response to the turn's calls.
			if n := len(g.Contents); n > 0 && g.Contents[n-1].Role == "user" && g.Contents[n-1].Parts[0].FunctionResponse != nil {
				g.Contents[n-1].Parts = append(g.Contents[n-1].Parts, Part{FunctionResponse: fr})
			} else {
				g.Contents = append(g.Contents, Content{Role: "user", Parts: []Part{{FunctionResponse: fr}}})
			}
		case adaptor.RoleAssistant:
			ct := Content{Role: "model"}
			for _, p := range m.Parts {
				if part, ok := toPart(p); ok {
					ct.Parts = append(ct.Parts, part)
				}
			}
			for j, tc := range m.ToolCalls {
				plain, sig := splitToolCallID(tc.ID)
				fc := &FunctionCall{Name: tc.Name, Args: argsObject(tc.Args)}
				if !strings.HasPrefix(plain, "call_") {
					fc.ID = plain
				}
				if sig == "" && j == 0 {
					sig = dummySignature
				}
				ct.Parts = append(ct.Parts, Part{FunctionCall: fc, ThoughtSignature: sig})
			}
			if len(ct.Parts) > 0 {
				g.Contents = append(g.Contents, ct)
			}
		default:
			ct := Content{Role: "user"}
			for _, p := range m.Parts {
				if part, ok := toPart(p); ok {
					ct.Parts = append(ct.Parts, part)
				}
			}
			if len(ct.Parts) > 0 {
				g.Contents = append(g.Contents, ct)
			}
		}
	}
	if len(g.Contents) == 0 {
		return nil, fmt.Errorf("the conversation has no message with content")
	}
	if len(c.Tools) > 0 {
		t := Tool{}
		for _, tool := range c.Tools {
			fd := FunctionDeclaration{Name: tool.Name, Description: tool.Description}
			if len(tool.Parameters) > 0 && !bytes.Equal(bytes.TrimSpace(tool.Parameters), []byte("null")) {
				fd.ParametersJSONSchema = tool.Parameters
			}
			t.FunctionDeclarations = append(t.FunctionDeclarations, fd)
		}
		g.Tools = []Tool{t}
	}
	if tc := c.ToolChoice; tc != nil && len(c.Tools) > 0 {
		fcc := &FunctionCallingConfig{}
		switch tc.Mode {
		case adaptor.ToolNone:
			fcc.Mode = "NONE"
		case adaptor.ToolRequired:
			fcc.Mode = "ANY"
		case adaptor.ToolNamed:
			fcc.Mode, fcc.AllowedFunctionNames = "ANY", []string{tc.Name}
		default:
			fcc.Mode = "AUTO"
		}
		g.ToolConfig = &ToolConfig{FunctionCallingConfig: fcc}
	}
	gc := &GenerationConfig{Temperature: c.Temperature, TopP: c.TopP, StopSequences: c.Stop, MaxOutputTokens: c.MaxTokens}
	if c.TopK != nil {
		k := float64(*c.TopK)
		gc.TopK = &k
	}
	if err := responseFormat(c.ResponseFormat, gc); err != nil {
		return nil, err
	}
	budget := c.ThinkingBudget
	if budget == 0 {
		budget = effortBudget[c.ReasoningEffort]
	}
	if budget > 0 {
		gc.ThinkingConfig = &ThinkingConfig{IncludeThoughts: true, ThinkingBudget: &budget}
	}
	if !gc.empty() {
		g.GenerationConfig = gc
	}
	return g, nil
}

// responseFormat maps OpenAI's response_format onto Gemini's JSON mode.
func responseFormat(raw json.RawMessage, gc *GenerationConfig) error {
	if len(raw) == 0 {
		return nil
	}
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &rf); err != nil {
		return fmt.Errorf("response_format: %v", err)
	}
	switch rf.Type {
	case "json_object":
		gc.ResponseMimeType = "application/json"
	case "json_schema":
		gc.ResponseMimeType = "application/json"
		gc.ResponseJSONSchema = rf.JSONSchema.Schema
	}
	return nil
}

// toolResponse is a tool result as the JSON object Gemini wants: the
// result itself when it is an object, else {"content": text}.
func toolResponse(m *adaptor.Message) json.RawMessage {
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == adaptor.PartText {
			b.WriteString(p.Text)
		}
	}
	text := b.String()
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	key := "content"
	if m.IsError {
		key = "error"
	}
	raw, _ := json.Marshal(map[string]string{key: text})
	return raw
}

// argsObject is a tool call's arguments as a JSON object ({} when empty
// or not an object: Gemini's args is a Struct).
func argsObject(args string) json.RawMessage {
	t := strings.TrimSpace(args)
	if strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	return json.RawMessage("{}")
}

func toPart(p adaptor.Part) (Part, bool) {
	switch p.Type {
	case adaptor.PartText:
		if p.Text == "" {
			return Part{}, false
		}
		return Part{Text: p.Text}, true
	case adaptor.PartThinking:
		// A thought goes back only with its signature; text alone would
		// be read as answer text.
		if p.Signature == "" {
			return Part{}, false
		}
		return Part{Text: p.Text, Thought: true, ThoughtSignature: p.Signature}, true
	case adaptor.PartImage:
		if p.Data != "" {
			mt := p.MediaType
			if mt == "" {
				mt = "image/jpeg"
			}
			return Part{InlineData: &Blob{MimeType: mt, Data: p.Data}}, true
		}
		if p.ImageURL != "" {
			return Part{FileData: &FileData{MimeType: imageType(p.ImageURL, p.MediaType), FileURI: p.ImageURL}}, true
		}
	}
	return Part{}, false
}

// imageType guesses an image URL's media type from its extension.
func imageType(u, given string) string {
	if given != "" {
		return given
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(u))); strings.HasPrefix(t, "image/") {
		return t
	}
	return "image/jpeg"
}

// FinishReason maps Gemini's finishReason onto the neutral one. Safety
// and policy stops are content_filter, as OpenAI reports them.
func FinishReason(r string, toolCalls bool) string {
	switch r {
	case "":
		return ""
	case "MAX_TOKENS":
		return adaptor.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
		"IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE":
		return adaptor.FinishContentFilter
	}
	if toolCalls {
		return adaptor.FinishToolCalls
	}
	return adaptor.FinishStop
}

// ToUsage maps usageMetadata onto the neutral usage: the prompt count
// already includes cached content; thoughts are completion tokens.
func ToUsage(u *UsageMetadata) *adaptor.Usage {
	if u == nil {
		return nil
	}
	out := &adaptor.Usage{
		PromptTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
		TotalTokens:      u.TotalTokenCount,
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}

// blockedError is the error of a prompt Gemini refused to answer.
func blockedError(pf *PromptFeedback) *adaptor.UpstreamError {
	msg := "Gemini blocked the prompt (" + pf.BlockReason + ")"
	if pf.BlockReasonMessage != "" {
		msg += ": " + pf.BlockReasonMessage
	}
	return &adaptor.UpstreamError{Status: 400, Class: adaptor.ClassContentFilter, Type: "invalid_request_error", Code: "content_filter", Message: msg}
}

// FromResponse turns a whole generateContent answer into the neutral one.
// A blocked prompt is an *adaptor.UpstreamError of ClassContentFilter.
func FromResponse(g *GenerateResponse) (*adaptor.Response, error) {
	if g.Error != nil {
		return nil, fromErrorBody(g.Error.Code, nil, g.Error)
	}
	if len(g.Candidates) == 0 {
		if g.PromptFeedback != nil && g.PromptFeedback.BlockReason != "" {
			return nil, blockedError(g.PromptFeedback)
		}
		if g.UsageMetadata == nil {
			return nil, fmt.Errorf("gemini answer has no candidates")
		}
	}
	r := &adaptor.Response{ID: g.ResponseID, Model: g.ModelVersion, Usage: ToUsage(g.UsageMetadata)}
	if len(g.Candidates) == 0 {
		return r, nil
	}
	c := &g.Candidates[0]
	if c.Content != nil {
		for _, p := range c.Content.Parts {
			switch {
			case p.FunctionCall != nil:
				r.ToolCalls = append(r.ToolCalls, adaptor.ToolCall{ID: ToolCallID(p.FunctionCall, p.ThoughtSignature, len(r.ToolCalls)), Name: p.FunctionCall.Name, Args: argsText(p.FunctionCall.Args)})
			case p.Thought:
				r.Parts = append(r.Parts, adaptor.Part{Type: adaptor.PartThinking, Text: p.Text, Signature: p.ThoughtSignature})
			case p.InlineData != nil:
				r.Parts = append(r.Parts, adaptor.Part{Type: adaptor.PartImage, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data})
			case p.Text != "":
				r.Parts = append(r.Parts, adaptor.Part{Type: adaptor.PartText, Text: p.Text})
			}
		}
	}
	r.FinishReason = FinishReason(c.FinishReason, len(r.ToolCalls) > 0)
	return r, nil
}

func argsText(args json.RawMessage) string {
	if len(args) == 0 {
		return "{}"
	}
	return string(args)
}

func (gc *GenerationConfig) empty() bool {
	return gc.Temperature == nil && gc.TopP == nil && gc.TopK == nil && len(gc.StopSequences) == 0 &&
		gc.MaxOutputTokens == 0 && gc.ResponseMimeType == "" && gc.ThinkingConfig == nil
}
