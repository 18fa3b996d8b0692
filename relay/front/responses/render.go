package responses

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"switchyard/relay/adaptor"
	oa "switchyard/relay/adaptor/openai"
	"time"
)

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
func shell(raw []byte, model string) oa.ResponsesObject {
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
	r := oa.ResponsesObject{
		ID: newID("resp_"), Object: "response", CreatedAt: time.Now().Unix(), Status: "in_progress",
		Instructions: in.Instructions, MaxOutputTokens: in.MaxOutputTokens, Model: model, Output: []oa.ResponsesItem{},
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
func finish(r *oa.ResponsesObject, reason string) {
	switch reason {
	case "length":
		r.Status, r.IncompleteDetails = "incomplete", &oa.ResponsesIncomplete{Reason: "max_output_tokens"}
	case "content_filter":
		r.Status, r.IncompleteDetails = "incomplete", &oa.ResponsesIncomplete{Reason: "content_filter"}
	default:
		r.Status = "completed"
	}
}

func messageItem(id, status string, text string) oa.ResponsesItem {
	content := []oa.ResponsesContent{{Type: "output_text", Text: text, Annotations: &[]any{}}}
	return oa.ResponsesItem{ID: id, Type: "message", Status: status, Role: "assistant", Content: &content}
}

func reasoningItem(id, text string) oa.ResponsesItem {
	summary := []oa.ResponsesContent{}
	if text != "" {
		summary = append(summary, oa.ResponsesContent{Type: "summary_text", Text: text})
	}
	return oa.ResponsesItem{ID: id, Type: "reasoning", Summary: &summary}
}

func callItem(id, status string, c adaptor.ToolCall) oa.ResponsesItem {
	args := c.Args
	return oa.ResponsesItem{ID: id, Type: "function_call", Status: status, CallID: c.ID, Name: c.Name, Arguments: &args}
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
	finish(&r, resp.FinishReason)
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
	r.Usage = oa.ResponsesUsageOf(resp.Usage)
	return json.Marshal(r)
}
