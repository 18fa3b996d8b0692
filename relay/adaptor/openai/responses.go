package openai

// The OpenAI Responses API's wire format (POST /v1/responses): the
// Response object, its output items and usage, the stream's events, and
// the decoders that read them into the neutral vocabulary. The Responses
// front writes these types; this adaptor reads them when it passes a
// Responses call through.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// ResponsesPath is the Responses API's path.
const ResponsesPath = "/v1/responses"

// ResponsesObject is the Response object, as the API sends it and as this
// package reads it back from a Responses upstream.
type ResponsesObject struct {
	ID                 string               `json:"id"`
	Object             string               `json:"object"`
	CreatedAt          int64                `json:"created_at"`
	Status             string               `json:"status"`
	Error              *ResponsesError      `json:"error"`
	IncompleteDetails  *ResponsesIncomplete `json:"incomplete_details"`
	Instructions       *string              `json:"instructions"`
	MaxOutputTokens    *int                 `json:"max_output_tokens"`
	Model              string               `json:"model"`
	Output             []ResponsesItem      `json:"output"`
	ParallelToolCalls  bool                 `json:"parallel_tool_calls"`
	PreviousResponseID *string              `json:"previous_response_id"`
	Reasoning          json.RawMessage      `json:"reasoning"`
	Store              bool                 `json:"store"`
	Temperature        float64              `json:"temperature"`
	Text               json.RawMessage      `json:"text"`
	ToolChoice         json.RawMessage      `json:"tool_choice"`
	Tools              []json.RawMessage    `json:"tools"`
	TopP               float64              `json:"top_p"`
	Truncation         string               `json:"truncation"`
	Usage              *ResponsesUsage      `json:"usage"`
	User               *string              `json:"user"`
	Metadata           json.RawMessage      `json:"metadata"`
}

type ResponsesError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type ResponsesIncomplete struct {
	Reason string `json:"reason"`
}

// ResponsesItem is one output item: a message, a function_call or a
// reasoning item. Pointers keep the fields a type requires present even
// when empty (content [], arguments "", summary []).
type ResponsesItem struct {
	ID        string              `json:"id"`
	Type      string              `json:"type"`
	Status    string              `json:"status,omitempty"`
	Role      string              `json:"role,omitempty"`
	Content   *[]ResponsesContent `json:"content,omitempty"`
	Summary   *[]ResponsesContent `json:"summary,omitempty"`
	CallID    string              `json:"call_id,omitempty"`
	Name      string              `json:"name,omitempty"`
	Arguments *string             `json:"arguments,omitempty"`
}

// ResponsesContent is an output_text or refusal part, or a summary_text.
type ResponsesContent struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Refusal     string `json:"refusal,omitempty"`
	Annotations *[]any `json:"annotations,omitempty"`
}

type ResponsesUsage struct {
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

func ResponsesUsageOf(u *adaptor.Usage) *ResponsesUsage {
	if u == nil {
		return nil
	}
	w := &ResponsesUsage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	w.InputTokensDetails.CachedTokens = u.CachedTokens
	w.OutputTokensDetails.ReasoningTokens = u.ReasoningTokens
	if w.TotalTokens == 0 {
		w.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return w
}

// Neutral reads Responses usage: input_tokens already holds the
// cached ones and output_tokens the reasoning ones, as the neutral Usage
// counts them.
func (w *ResponsesUsage) Neutral() *adaptor.Usage {
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

// ResponsesEvent is one Responses stream event, written by Encoder and read by
// ResponsesDecoder. Pointers keep a field out of the events that do not carry it.
type ResponsesEvent struct {
	Type           string            `json:"type"`
	SequenceNumber int               `json:"sequence_number"`
	Response       *ResponsesObject  `json:"response,omitempty"`
	OutputIndex    *int              `json:"output_index,omitempty"`
	Item           *ResponsesItem    `json:"item,omitempty"`
	ItemID         string            `json:"item_id,omitempty"`
	ContentIndex   *int              `json:"content_index,omitempty"`
	SummaryIndex   *int              `json:"summary_index,omitempty"`
	Part           *ResponsesContent `json:"part,omitempty"`
	Delta          *string           `json:"delta,omitempty"`
	Text           *string           `json:"text,omitempty"`
	Arguments      *string           `json:"arguments,omitempty"`
	Logprobs       *[]any            `json:"logprobs,omitempty"`
	// The "error" event's own fields.
	Code    *string `json:"code,omitempty"`
	Message *string `json:"message,omitempty"`
}

// ResponsesErrorEvent is the "error" event; param is present and null, as sent.
type ResponsesErrorEvent struct {
	Type           string  `json:"type"`
	SequenceNumber int     `json:"sequence_number"`
	Code           string  `json:"code"`
	Message        string  `json:"message"`
	Param          *string `json:"param"`
}

var errNotResponses = errors.New("the answer is not a Response object")

// ParseResponses reads a whole Response object from an upstream that speaks
// Responses into the neutral answer (for metering a passed-through call).
func ParseResponses(body []byte) (*adaptor.Response, error) {
	var r ResponsesObject
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.Object != "response" && r.ID == "" {
		return nil, errNotResponses
	}
	out := &adaptor.Response{ID: r.ID, Model: r.Model, Usage: r.Usage.Neutral(), FinishReason: "stop"}
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

// ResponsesDecoder reads a Responses stream from an upstream that speaks it into
// neutral events, for metering a passed-through call (text for counting,
// usage from response.completed) and for converting it to another format.
type ResponsesDecoder struct {
	tools map[string]int // function item id → neutral tool index
	usage *adaptor.Usage
	done  bool
}

var _ adaptor.StreamDecoder = (*ResponsesDecoder)(nil)

// NewResponsesDecoder returns a decoder for one call's stream.
func NewResponsesDecoder() *ResponsesDecoder { return &ResponsesDecoder{tools: map[string]int{}} }

// Usage is the usage response.completed reported, nil before it.
func (d *ResponsesDecoder) Usage() *adaptor.Usage { return d.usage }

// Done reports that the stream's terminal event arrived.
func (d *ResponsesDecoder) Done() bool { return d.done }

// responsesStreamError is an upstream's in-stream failure ("error" or
// response.failed) as the engine reads it: a server fault of the channel.
func responsesStreamError(code, msg string) *adaptor.UpstreamError {
	if msg == "" {
		msg = "the response failed"
	}
	return &adaptor.UpstreamError{Status: http.StatusBadGateway, Class: adaptor.ClassUpstream, Type: "server_error", Code: code, Message: msg}
}

// Decode turns one upstream frame into neutral events appended to out.
func (d *ResponsesDecoder) Decode(ev sse.Event, out []adaptor.Event) ([]adaptor.Event, error) {
	var w ResponsesEvent
	if err := json.Unmarshal(ev.Data, &w); err != nil {
		return out, fmt.Errorf("responses stream: %w", err)
	}
	typ := w.Type
	if typ == "" {
		typ = ev.Name
	}
	delta := ""
	if w.Delta != nil {
		delta = *w.Delta
	}
	switch typ {
	case "response.created":
		start := adaptor.Event{Kind: adaptor.EventStart}
		if w.Response != nil {
			start.ID, start.Model = w.Response.ID, w.Response.Model
		}
		out = append(out, start)
	case "response.output_text.delta", "response.refusal.delta":
		out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: delta})
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Text: delta})
	case "response.output_item.added":
		if w.Item != nil && w.Item.Type == "function_call" {
			i := len(d.tools)
			d.tools[w.Item.ID] = i
			out = append(out, adaptor.Event{Kind: adaptor.EventToolCallStart, Index: i, ID: w.Item.CallID, Name: w.Item.Name})
		}
	case "response.function_call_arguments.delta":
		if i, ok := d.tools[w.ItemID]; ok {
			out = append(out, adaptor.Event{Kind: adaptor.EventToolArgs, Index: i, Args: delta})
		}
	case "response.completed", "response.incomplete":
		d.done = true
		if w.Response == nil {
			return out, nil
		}
		d.usage = w.Response.Usage.Neutral()
		reason := "stop"
		switch {
		case w.Response.IncompleteDetails != nil && w.Response.IncompleteDetails.Reason == "content_filter":
			reason = "content_filter"
		case w.Response.IncompleteDetails != nil || typ == "response.incomplete":
			reason = "length"
		case len(d.tools) > 0:
			reason = "tool_calls"
		}
		out = append(out, adaptor.Event{Kind: adaptor.EventFinish, Reason: reason})
		if d.usage != nil {
			out = append(out, adaptor.Event{Kind: adaptor.EventUsage, Usage: d.usage})
		}
	case "response.failed":
		d.done = true
		code, msg := "", ""
		if w.Response != nil {
			d.usage = w.Response.Usage.Neutral()
			if w.Response.Error != nil {
				code, msg = w.Response.Error.Code, w.Response.Error.Message
			}
		}
		return out, responsesStreamError(code, msg)
	case "error":
		code, msg := "", ""
		if w.Code != nil {
			code = *w.Code
		}
		if w.Message != nil {
			msg = *w.Message
		}
		return out, responsesStreamError(code, msg)
	}
	return out, nil
}

var _ adaptor.StoredResponder = Adaptor{}

// NewStoredRequest implements adaptor.StoredResponder: /v1/responses/{id}
// and its sub-resources on the channel.
func (Adaptor) NewStoredRequest(ctx context.Context, up *adaptor.Upstream, method, id, sub, query string) (*http.Request, error) {
	u := VendorURL(up, ResponsesPath+adaptor.StoredPath(id, sub))
	if query != "" {
		u += "?" + query
	}
	r, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	Authorize(r, up.Vendor, up.Key)
	return r, nil
}

// Speaks implements adaptor.Speaker: OpenAI and every OpenAI-compatible
// vendor get Responses calls as they came, on /v1/responses. A vendor
// that lacks the endpoint answers 404, which the engine judges as
// ClassUnsupported for a format spoken beside the adaptor's own: the call
// moves to the next channel and the vendor keeps serving chat.
func (Adaptor) Speaks(f adaptor.Format) bool { return f == adaptor.FormatResponses }

// newResponsesRequest is the pass-through of a Responses call: the
// client's bytes with only the model replaced, on /v1/responses.
func newResponsesRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	body, err := ResponsesBody(req, req.UpstreamModel)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, VendorURL(up, ResponsesPath), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	Authorize(r, up.Vendor, up.Key)
	if req.Stream {
		r.Header.Set("Accept", "text/event-stream")
	}
	return r, nil
}

// ResponsesBody is a Responses call's body for an upstream that speaks
// Responses: the client's bytes, with model set to model when it differs.
// Nothing else is touched: unlike chat, a Responses stream reports its
// usage in response.completed without being asked.
func ResponsesBody(req *adaptor.Request, model string) ([]byte, error) {
	if req.Raw == nil {
		return nil, adaptor.Unsupported("this", req.Mode)
	}
	if model == req.Model {
		return req.Raw, nil
	}
	m, _ := json.Marshal(model)
	return adaptor.SetField(req.Raw, "model", m)
}
