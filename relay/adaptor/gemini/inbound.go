package gemini

import (
	"encoding/json"
	"fmt"
	"strings"

	"switchyard/relay/adaptor"
)

// The other direction: a Gemini client's body read into the neutral chat,
// and a neutral answer written back in Gemini's shape, for the Gemini
// front when the channel speaks another format.

// FromRequest reads a generateContent body into a neutral chat.
func FromRequest(g *GenerateRequest) (*adaptor.Chat, error) {
	c := &adaptor.Chat{}
	if g.SystemInstruction != nil {
		for _, p := range g.SystemInstruction.Parts {
			if p.Text != "" {
				c.System = append(c.System, adaptor.Part{Type: adaptor.PartText, Text: p.Text})
			}
		}
	}
	// Gemini answers a call by function name (or id when the model gave
	// one): each response takes the earliest unanswered call of its name.
	type pending struct{ id, name string }
	var open []pending
	n := 0
	for ci, ct := range g.Contents {
		switch ct.Role {
		case "model":
			m := adaptor.Message{Role: adaptor.RoleAssistant}
			for _, p := range ct.Parts {
				switch {
				case p.FunctionCall != nil:
					id := ToolCallID(p.FunctionCall, p.ThoughtSignature, n)
					n++
					m.ToolCalls = append(m.ToolCalls, adaptor.ToolCall{ID: id, Name: p.FunctionCall.Name, Args: argsText(p.FunctionCall.Args)})
					open = append(open, pending{id: id, name: p.FunctionCall.Name})
				default:
					if part, ok := fromPart(p); ok {
						m.Parts = append(m.Parts, part)
					}
				}
			}
			c.Messages = append(c.Messages, m)
		case "user", "", "function":
			m := adaptor.Message{Role: adaptor.RoleUser}
			for _, p := range ct.Parts {
				if fr := p.FunctionResponse; fr != nil {
					id := ""
					for i, o := range open {
						plain, _ := splitToolCallID(o.id)
						if (fr.ID != "" && plain == fr.ID) || (fr.ID == "" && o.name == fr.Name) {
							id = o.id
							open = append(open[:i], open[i+1:]...)
							break
						}
					}
					if id == "" {
						return nil, fmt.Errorf("contents[%d]: functionResponse %q answers no functionCall before it", ci, fr.Name)
					}
					c.Messages = append(c.Messages, adaptor.Message{Role: adaptor.RoleTool, ToolCallID: id, Name: fr.Name,
						Parts: []adaptor.Part{{Type: adaptor.PartText, Text: string(fr.Response)}}})
					continue
				}
				if part, ok := fromPart(p); ok {
					m.Parts = append(m.Parts, part)
				}
			}
			if len(m.Parts) > 0 {
				c.Messages = append(c.Messages, m)
			}
		default:
			return nil, fmt.Errorf("contents[%d].role: %q is not a Gemini role (user, model)", ci, ct.Role)
		}
	}
	for _, t := range g.Tools {
		for _, fd := range t.FunctionDeclarations {
			params := fd.ParametersJSONSchema
			if len(params) == 0 && len(fd.Parameters) > 0 {
				params = openAPIToJSONSchema(fd.Parameters)
			}
			c.Tools = append(c.Tools, adaptor.Tool{Name: fd.Name, Description: fd.Description, Parameters: params})
		}
	}
	if tc := g.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		f := tc.FunctionCallingConfig
		switch strings.ToUpper(f.Mode) {
		case "NONE":
			c.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolNone}
		case "ANY", "VALIDATED":
			if len(f.AllowedFunctionNames) == 1 {
				c.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolNamed, Name: f.AllowedFunctionNames[0]}
			} else {
				c.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolRequired}
			}
		case "AUTO":
			c.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolAuto}
		}
	}
	if gc := g.GenerationConfig; gc != nil {
		c.Temperature, c.TopP, c.Stop, c.MaxTokens = gc.Temperature, gc.TopP, gc.StopSequences, gc.MaxOutputTokens
		if gc.TopK != nil {
			k := int(*gc.TopK)
			c.TopK = &k
		}
		if gc.ResponseMimeType == "application/json" {
			schema := gc.ResponseJSONSchema
			if len(schema) == 0 && len(gc.ResponseSchema) > 0 {
				schema = openAPIToJSONSchema(gc.ResponseSchema)
			}
			if len(schema) > 0 {
				c.ResponseFormat, _ = json.Marshal(map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "response", "schema": schema}})
			} else {
				c.ResponseFormat = json.RawMessage(`{"type":"json_object"}`)
			}
		}
		if tc := gc.ThinkingConfig; tc != nil && tc.ThinkingBudget != nil && *tc.ThinkingBudget > 0 {
			c.ThinkingBudget = *tc.ThinkingBudget
		}
	}
	if len(c.Messages) == 0 {
		return nil, fmt.Errorf("contents: at least one turn with parts is required")
	}
	return c, nil
}

func fromPart(p Part) (adaptor.Part, bool) {
	switch {
	case p.Thought:
		return adaptor.Part{Type: adaptor.PartThinking, Text: p.Text, Signature: p.ThoughtSignature}, true
	case p.Text != "":
		return adaptor.Part{Type: adaptor.PartText, Text: p.Text}, true
	case p.InlineData != nil:
		return adaptor.Part{Type: adaptor.PartImage, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data}, true
	case p.FileData != nil:
		return adaptor.Part{Type: adaptor.PartImage, MediaType: p.FileData.MimeType, ImageURL: p.FileData.FileURI}, true
	}
	return adaptor.Part{}, false
}

// openAPIToJSONSchema turns Gemini's OpenAPI-subset schema (types in
// upper case, as the SDKs send "OBJECT" and "STRING") into JSON Schema for
// providers that validate it.
func openAPIToJSONSchema(raw json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	out, err := json.Marshal(lowerTypes(v))
	if err != nil {
		return raw
	}
	return out
}

func lowerTypes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "type":
				if s, ok := val.(string); ok {
					x[k] = strings.ToLower(s)
				}
			case "propertyOrdering":
				delete(x, k)
			case "nullable":
				// JSON Schema says it with a type list; dropping it only
				// loosens nothing the model relies on.
				delete(x, k)
			default:
				x[k] = lowerTypes(val)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = lowerTypes(x[i])
		}
		return x
	}
	return v
}

// GeminiFinish maps a neutral finish reason back onto Gemini's.
func GeminiFinish(r string) string {
	switch r {
	case adaptor.FinishLength:
		return "MAX_TOKENS"
	case adaptor.FinishContentFilter:
		return "SAFETY"
	case "":
		return "STOP"
	}
	return "STOP"
}

// FromUsage writes the neutral usage as usageMetadata.
func FromUsage(u *adaptor.Usage) *UsageMetadata {
	if u == nil {
		return nil
	}
	m := &UsageMetadata{
		PromptTokenCount:        u.PromptTokens,
		CandidatesTokenCount:    u.CompletionTokens - u.ReasoningTokens,
		ThoughtsTokenCount:      u.ReasoningTokens,
		CachedContentTokenCount: u.CachedTokens,
		TotalTokenCount:         u.TotalTokens,
	}
	if m.CandidatesTokenCount < 0 {
		m.CandidatesTokenCount = 0
	}
	if m.TotalTokenCount == 0 {
		m.TotalTokenCount = u.PromptTokens + u.CompletionTokens
	}
	return m
}

// ToolCallPart is a neutral tool call as a functionCall part, its
// signature restored.
func ToolCallPart(tc adaptor.ToolCall) Part {
	plain, sig := splitToolCallID(tc.ID)
	fc := &FunctionCall{Name: tc.Name, Args: argsObject(tc.Args)}
	if !strings.HasPrefix(plain, "call_") {
		fc.ID = plain
	}
	return Part{FunctionCall: fc, ThoughtSignature: sig}
}

// ToResponse writes a neutral whole answer in Gemini's shape.
func ToResponse(r *adaptor.Response, model string) *GenerateResponse {
	ct := &Content{Role: "model", Parts: []Part{}}
	for _, p := range r.Parts {
		switch p.Type {
		case adaptor.PartThinking:
			ct.Parts = append(ct.Parts, Part{Text: p.Text, Thought: true, ThoughtSignature: p.Signature})
		case adaptor.PartText:
			ct.Parts = append(ct.Parts, Part{Text: p.Text})
		case adaptor.PartImage:
			if p.Data != "" {
				ct.Parts = append(ct.Parts, Part{InlineData: &Blob{MimeType: p.MediaType, Data: p.Data}})
			}
		}
	}
	for _, tc := range r.ToolCalls {
		ct.Parts = append(ct.Parts, ToolCallPart(tc))
	}
	return &GenerateResponse{
		Candidates:    []Candidate{{Content: ct, FinishReason: GeminiFinish(r.FinishReason), Index: 0}},
		UsageMetadata: FromUsage(r.Usage),
		ModelVersion:  model,
		ResponseID:    r.ID,
	}
}
