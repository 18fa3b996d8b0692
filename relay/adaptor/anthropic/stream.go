package anthropic

import (
	"encoding/json"
	"errors"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// NewStream implements adaptor.Adaptor.
func (Adaptor) NewStream(req *adaptor.Request) adaptor.StreamDecoder {
	return &Decoder{}
}

// errBadEvent means a stream event is not Anthropic JSON.
var errBadEvent = errors.New("the upstream sent a stream event that is not Anthropic JSON")

// Decoder reads a Messages stream: message_start (id, model, input
// usage), content blocks opened, filled by deltas and stopped,
// message_delta (stop reason, output usage), message_stop; ping and
// unknown events are skipped, an error event fails the stream.
type Decoder struct {
	usage    Usage
	sawUsage bool
	done     bool
	// tools maps a content block index to its tool call index.
	tools    map[int]int
	nextTool int
}

// Usage implements adaptor.StreamDecoder.
func (d *Decoder) Usage() *adaptor.Usage {
	if !d.sawUsage {
		return nil
	}
	return d.usage.Neutral()
}

// Done implements adaptor.StreamDecoder: message_stop arrived.
func (d *Decoder) Done() bool { return d.done }

// Decode implements adaptor.StreamDecoder.
func (d *Decoder) Decode(ev sse.Event, out []adaptor.Event) ([]adaptor.Event, error) {
	var se StreamEvent
	if err := json.Unmarshal(ev.Data, &se); err != nil {
		return out, errBadEvent
	}
	switch se.Type {
	case "message_start":
		if m := se.Message; m != nil {
			d.usage, d.sawUsage = m.Usage, true
			out = append(out, adaptor.Event{Kind: adaptor.EventStart, ID: m.ID, Model: m.Model})
		}
	case "content_block_start":
		b := se.ContentBlock
		if b == nil {
			break
		}
		switch b.Type {
		case "text":
			if t := b.TextOf(); t != "" {
				out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: t})
			}
		case "tool_use":
			if d.tools == nil {
				d.tools = map[int]int{}
			}
			d.tools[se.Index] = d.nextTool
			out = append(out, adaptor.Event{Kind: adaptor.EventToolCallStart, Index: d.nextTool, ID: b.ID, Name: b.Name})
			d.nextTool++
		case "thinking":
			if b.Thinking != nil && *b.Thinking != "" {
				out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Text: *b.Thinking})
			}
		}
	case "content_block_delta":
		dl := se.Delta
		if dl == nil {
			break
		}
		switch dl.Type {
		case "text_delta":
			out = append(out, adaptor.Event{Kind: adaptor.EventText, Text: dl.Text})
		case "input_json_delta":
			if i, ok := d.tools[se.Index]; ok && dl.PartialJSON != "" {
				out = append(out, adaptor.Event{Kind: adaptor.EventToolArgs, Index: i, Args: dl.PartialJSON})
			}
		case "thinking_delta":
			out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Text: dl.Thinking})
		case "signature_delta":
			out = append(out, adaptor.Event{Kind: adaptor.EventThinking, Signature: dl.Signature})
		}
	case "message_delta":
		if u := se.Usage; u != nil {
			d.usage.OutputTokens = u.OutputTokens
			if u.InputTokens != nil {
				d.usage.InputTokens = *u.InputTokens
			}
			if u.CacheCreationInputTokens != nil {
				d.usage.CacheCreationInputTokens = *u.CacheCreationInputTokens
			}
			if u.CacheReadInputTokens != nil {
				d.usage.CacheReadInputTokens = *u.CacheReadInputTokens
			}
			d.sawUsage = true
		}
		if dl := se.Delta; dl != nil && dl.StopReason != nil {
			ev := adaptor.Event{Kind: adaptor.EventFinish, Reason: FinishOf(*dl.StopReason)}
			if dl.StopSequence != nil {
				ev.StopSequence = *dl.StopSequence
			}
			out = append(out, ev)
		}
		if d.sawUsage {
			out = append(out, adaptor.Event{Kind: adaptor.EventUsage, Usage: d.usage.Neutral()})
		}
	case "message_stop":
		d.done = true
	case "error":
		e := &adaptor.UpstreamError{Status: 502, Message: "the upstream failed mid-stream"}
		if se.Error != nil {
			e.Type, e.Message = se.Error.Type, se.Error.Message
			e.Status = statusOf(se.Error.Type)
		}
		e.Class = Classify(e.Status, e.Type, e.Message)
		return out, e
	}
	return out, nil
}
