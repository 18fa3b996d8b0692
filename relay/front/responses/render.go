package responses

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"switchyard/relay/adaptor"
	"time"
)

// wireResponse is the Response object, as the API sends it and as this
// package reads it back from a Responses upstream.
type wireResponse struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	Error              *wireError        `json:"error"`
	IncompleteDetails  *wireIncomplete   `json:"incomplete_details"`
	Instructions       *string           `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []wireOutput      `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Reasoning          json.RawMessage   `json:"reasoning"`
	Store              bool              `json:"store"`
	Temperature        float64           `json:"temperature"`
	Text               json.RawMessage   `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              []json.RawMessage `json:"tools"`
	TopP               float64           `json:"top_p"`
	Truncation         string            `json:"truncation"`
	Usage              *wireUsage        `json:"usage"`
	User               *string           `json:"user"`
	Metadata           json.RawMessage   `json:"metadata"`
}

type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type wireIncomplete struct {
	Reason string `json:"reason"`
}

// wireOutput is one output item: a message, a function_call or a
// reasoning item. Pointers keep the fields a type requires present even
// when empty (content [], arguments "", summary []).
type wireOutput struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Status    string         `json:"status,omitempty"`
	Role      string         `json:"role,omitempty"`
	Content   *[]wireContent `json:"content,omitempty"`
	Summary   *[]wireContent `json:"summary,omitempty"`
	CallID    string         `json:"call_id,omitempty"`
	Name      string         `json:"name,omitempty"`
	Arguments *string        `json:"arguments,omitempty"`
}

// wireContent is an output_text or refusal part, or a summary_text.
type wireContent struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Refusal     string `json:"refusal,omitempty"`
	Annotations *[]any `json:"annotations,omitempty"`
}

type wireUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

func toWireUsage(u *adaptor.Usage) *wireUsage {
	if u == nil {
		return nil
	}
	w := &wireUsage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	w.InputTokensDetails.CachedTokens = u.CachedTokens
	w.OutputTokensDetails.ReasoningTokens = u.ReasoningTokens
	if w.TotalTokens == 0 {
		w.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return w
}

// neutralUsage reads Responses usage: input_tokens already holds the
// cached ones and output_tokens the reasoning ones, as the neutral Usage
// counts them.
func (w *wireUsage) neutral() *adaptor.Usage {
	if w == nil {
		return nil
	}
	total := w.TotalTokens
	if total == 0 {
		total = w.InputTokens + w.OutputTokens
	}
	return &adaptor.Usage{
		PromptTokens: w.InputTokens, CompletionTokens: w.OutputTokens, TotalTokens: total,
		CachedTokens: w.InputTokensDetails.CachedTokens, ReasoningTokens: w.OutputTokensDetails.ReasoningTokens,
	}
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

var (
	emptyArray     = []any{}
	noReasoning    = json.RawMessage(`{"effort":null,"summary":null}`)
	plainText      = json.RawMessage(`{"format":{"type":"text"}}`)
	autoToolChoice = json.RawMessage(`"auto"`)
	noMetadata     = json.RawMessage(`{}`)
)

func rawOr(v, def json.RawMessage) json.RawMessage {
	if len(v) == 0 || string(v) == "null" {
		return def
	}
	return v
}

// shell is the Response object for a converted call before its output:
// the request's settings echoed as the API echoes them. store is false:
// the relay keeps no state, so a converted answer cannot be fetched later.
func shell(raw []byte, model string) wireResponse {
	var in wireRequest
	_ = json.Unmarshal(raw, &in)
	var reasoning json.RawMessage
	if in.Reasoning != nil {
		reasoning, _ = json.Marshal(in.Reasoning)
	}
	var text json.RawMessage
	if in.Text != nil {
		text, _ = json.Marshal(in.Text)
	}
	r := wireResponse{
		ID: newID("resp_"), Object: "response", CreatedAt: time.Now().Unix(), Status: "in_progress",
		Instructions: in.Instructions, MaxOutputTokens: in.MaxOutputTokens, Model: model, Output: []wireOutput{},
		ParallelToolCalls: in.ParallelToolCalls == nil || *in.ParallelToolCalls, PreviousResponseID: in.PreviousResponseID,
		Reasoning: rawOr(reasoning, noReasoning), Text: rawOr(text, plainText), ToolChoice: rawOr(in.ToolChoice, autoToolChoice),
		Tools: in.Tools, Temperature: 1, TopP: 1, Truncation: "disabled", User: in.User, Metadata: rawOr(in.Metadata, noMetadata),
	}
	if r.Tools == nil {
		r.Tools = []json.RawMessage{}
	}
	if in.Temperature != nil {
		r.Temperature = *in.Temperature
	}
	if in.TopP != nil {
		r.TopP = *in.TopP
	}
	return r
}

// finish sets the terminal status a finish reason means: cut by the
// budget or by a content filter is "incomplete", anything else
// "completed".
func (r *wireResponse) finish(reason string) {
	switch reason {
	case "length":
		r.Status, r.IncompleteDetails = "incomplete", &wireIncomplete{Reason: "max_output_tokens"}
	case "content_filter":
		r.Status, r.IncompleteDetails = "incomplete", &wireIncomplete{Reason: "content_filter"}
	default:
		r.Status = "completed"
	}
}

func messageItem(id, status string, text string) wireOutput {
	content := []wireContent{{Type: "output_text", Text: text, Annotations: &[]any{}}}
	return wireOutput{ID: id, Type: "message", Status: status, Role: "assistant", Content: &content}
}

func reasoningItem(id, text string) wireOutput {
	summary := []wireContent{}
	if text != "" {
		summary = append(summary, wireContent{Type: "summary_text", Text: text})
	}
	return wireOutput{ID: id, Type: "reasoning", Summary: &summary}
}

func callItem(id, status string, c adaptor.ToolCall) wireOutput {
	args := c.Args
	return wireOutput{ID: id, Type: "function_call", Status: status, CallID: c.ID, Name: c.Name, Arguments: &args}
}

// Render writes a neutral whole answer as a Response object for a client
// whose call (raw) went to a channel that does not speak Responses.
// model is the name the client asked for.
func Render(raw []byte, model string, resp *adaptor.Response) ([]byte, error) {
	r := shell(raw, model)
	var thinking, text string
	for _, p := range resp.Parts {
		switch p.Type {
		case "thinking":
			thinking += p.Text
		case "text":
			text += p.Text
		}
	}
	if thinking != "" {
		r.Output = append(r.Output, reasoningItem(newID("rs_"), thinking))
	}
	r.finish(resp.FinishReason)
	if text != "" || len(resp.ToolCalls) == 0 {
		status := "completed"
		if r.Status == "incomplete" {
			status = "incomplete"
		}
		r.Output = append(r.Output, messageItem(newID("msg_"), status, text))
	}
	for _, c := range resp.ToolCalls {
		r.Output = append(r.Output, callItem(newID("fc_"), "completed", c))
	}
	r.Usage = toWireUsage(resp.Usage)
	return json.Marshal(r)
}

// ParseAnswer reads a whole Response object from an upstream that speaks
// Responses into the neutral answer (for metering a passed-through call).
func ParseAnswer(body []byte) (*adaptor.Response, error) {
	var r wireResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.Object != "response" && r.ID == "" {
		return nil, errNotResponse
	}
	out := &adaptor.Response{ID: r.ID, Model: r.Model, Usage: r.Usage.neutral(), FinishReason: "stop"}
	for _, it := range r.Output {
		switch it.Type {
		case "message":
			if it.Content == nil {
				continue
			}
			for _, c := range *it.Content {
				switch c.Type {
				case "output_text":
					out.Parts = append(out.Parts, adaptor.Part{Type: "text", Text: c.Text})
				case "refusal":
					out.Parts = append(out.Parts, adaptor.Part{Type: "text", Text: c.Refusal})
				}
			}
		case "reasoning":
			if it.Summary == nil {
				continue
			}
			for _, c := range *it.Summary {
				out.Parts = append(out.Parts, adaptor.Part{Type: "thinking", Text: c.Text})
			}
		case "function_call":
			call := adaptor.ToolCall{ID: it.CallID, Name: it.Name}
			if it.Arguments != nil {
				call.Args = *it.Arguments
			}
			out.ToolCalls = append(out.ToolCalls, call)
		}
	}
	switch {
	case r.IncompleteDetails != nil && r.IncompleteDetails.Reason == "content_filter":
		out.FinishReason = "content_filter"
	case r.IncompleteDetails != nil:
		out.FinishReason = "length"
	case len(out.ToolCalls) > 0:
		out.FinishReason = "tool_calls"
	}
	return out, nil
}
