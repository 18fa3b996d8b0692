package openai

import (
	"encoding/json"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// NewStream implements adaptor.Adaptor.
func (Adaptor) NewStream(req *adaptor.Request) adaptor.StreamDecoder {
	return &Decoder{}
}

// Decoder reads OpenAI chat and completion stream chunks.
type Decoder struct {
	started bool
	done    bool
	// finished is set by a finish_reason; with usage after it the
	// answer is whole even if [DONE] never comes (vendors that omit it).
	finished bool
	usage    *adaptor.Usage
	// tools marks the tool call indices already started.
	tools []bool
}

// Usage implements adaptor.StreamDecoder.
func (d *Decoder) Usage() *adaptor.Usage { return d.usage }

// Done implements adaptor.StreamDecoder: OpenAI's [DONE] arrived, or a
// finish reason and the usage did (upstreams that send no [DONE]).
func (d *Decoder) Done() bool { return d.done || (d.finished && d.usage != nil) }

// Decode implements adaptor.StreamDecoder.
func (d *Decoder) Decode(ev sse.Event, out []adaptor.Event) ([]adaptor.Event, error) {
	if ev.Done {
		d.done = true
		return out, nil
	}
	var c ChatResponse
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		// Not ours to judge (a vendor's comment-like event): it passes
		// through untouched and converts to nothing.
		return out, nil
	}
	if c.Error != nil && c.Error.Message != "" {
		e := &adaptor.UpstreamError{Status: 502, Message: c.Error.Message, Type: c.Error.Type, Code: stringOf(c.Error.Code)}
		e.Class = Classify(500, e.Type, e.Code, e.Message)
		return out, e
	}
	if !d.started {
		d.started = true
		out = append(out, adaptor.Event{Kind: adaptor.EventStart, ID: c.ID, Model: c.Model})
	}
	for _, ch := range c.Choices {
		if ch.Text != "" {
			out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: ch.Text})
		}
		if dl := ch.Delta; dl != nil {
			if dl.ReasoningContent != "" {
				out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Text: dl.ReasoningContent})
			}
			if s := StringContent(dl.Content); s != "" {
				out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: s})
			}
			for i, tc := range dl.ToolCalls {
				idx := i
				if tc.Index != nil {
					idx = *tc.Index
				}
				if idx < 0 || idx > 1024 {
					continue
				}
				for len(d.tools) <= idx {
					d.tools = append(d.tools, false)
				}
				if !d.tools[idx] {
					d.tools[idx] = true
					out = append(out, adaptor.Event{Kind: adaptor.EventToolCallStart, Index: idx, ID: tc.ID, Name: tc.Function.Name})
				}
				if tc.Function.Arguments != "" {
					out = append(out, adaptor.Event{Kind: adaptor.EventToolArgs, Index: idx, Args: tc.Function.Arguments})
				}
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			d.finished = true
			out = append(out, adaptor.Event{Kind: adaptor.EventFinish, Reason: finishOf(*ch.FinishReason)})
		}
	}
	if u := c.Usage.Neutral(); u != nil {
		d.usage = u
		out = append(out, adaptor.Event{Kind: adaptor.EventUsage, Usage: u})
	}
	return out, nil
}
