package gemini

import (
	"encoding/json"
	"fmt"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// Decoder reads streamGenerateContent?alt=sse. Every frame is a whole
// GenerateResponse holding the new parts and the usage so far (cumulative:
// the last figure is the call's, never the sum). Gemini sends function
// calls whole, one part each, and ends without a marker: the chunk with a
// finishReason is the last.
type Decoder struct {
	started  bool
	finished bool
	calls    int
	usage    *adaptor.Usage
}

// NewDecoder returns a decoder for one call's stream.
func NewDecoder() *Decoder { return &Decoder{} }

// Decode appends one frame's events to out.
func (d *Decoder) Decode(ev sse.Event, out []adaptor.Event) ([]adaptor.Event, error) {
	if len(ev.Data) == 0 {
		return out, nil
	}
	var g GenerateResponse
	if err := json.Unmarshal(ev.Data, &g); err != nil {
		return out, fmt.Errorf("gemini stream frame: %w", err)
	}
	if g.Error != nil {
		return out, fromErrorBody(g.Error.Code, nil, g.Error)
	}
	if !d.started {
		d.started = true
		out = append(out, adaptor.Event{Kind: adaptor.EventStart, ID: g.ResponseID, Model: g.ModelVersion})
	}
	if len(g.Candidates) == 0 && g.PromptFeedback != nil && g.PromptFeedback.BlockReason != "" {
		return out, blockedError(g.PromptFeedback)
	}
	if g.UsageMetadata != nil {
		d.usage = ToUsage(g.UsageMetadata)
	}
	if len(g.Candidates) > 0 {
		c := &g.Candidates[0]
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					i := d.calls
					d.calls++
					out = append(out,
						adaptor.Event{Kind: adaptor.EventToolCallStart, Index: i, ID: ToolCallID(p.FunctionCall, p.ThoughtSignature, i), Name: p.FunctionCall.Name},
						adaptor.Event{Kind: adaptor.EventToolArgs, Index: i, Args: argsText(p.FunctionCall.Args)})
				case p.Thought:
					out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Text: p.Text, Signature: p.ThoughtSignature})
				case p.Text != "":
					out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: p.Text})
				}
			}
		}
		if c.FinishReason != "" && !d.finished {
			d.finished = true
			out = append(out, adaptor.Event{Kind: adaptor.EventFinish, Reason: FinishReason(c.FinishReason, d.calls > 0)})
		}
	}
	if g.UsageMetadata != nil {
		u := *d.usage
		out = append(out, adaptor.Event{Kind: adaptor.EventUsage, Usage: &u})
	}
	return out, nil
}

// Usage is the last usage reported.
func (d *Decoder) Usage() *adaptor.Usage { return d.usage }

// Done reports that a chunk with a finishReason arrived.
func (d *Decoder) Done() bool { return d.finished }
