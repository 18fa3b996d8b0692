package anthropic

import (
	"encoding/json"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/anthropic"
	"switchyard/relay/sse"
)

// NewEncoder implements adaptor.Front.
func (Front) NewEncoder(req *adaptor.Request, w *sse.Writer) adaptor.StreamEncoder {
	return &encoder{req: req, w: w, open: -1}
}

// encoder writes Anthropic's stream: message_start, content blocks opened,
// filled by deltas and stopped, message_delta with the stop reason and
// usage, message_stop. Frames from an Anthropic channel go through as
// they came, message_stop included.
type encoder struct {
	req     *adaptor.Request
	w       *sse.Writer
	raw     bool
	started bool
	// open is the index of the open content block, -1 when none; next is
	// the index the next block gets.
	open     int
	openKind string
	openTool int
	next     int
	// tools maps a neutral tool call index to its block index.
	tools        map[int]int
	reason, seq  string
	startedUsage *adaptor.Usage
}

func (e *encoder) send(name string, v any) error {
	if !e.w.Started() {
		e.w.Start()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.w.Named(name, b)
}

// Raw implements adaptor.StreamEncoder.
func (e *encoder) Raw(ev sse.Event, _ []adaptor.Event) error {
	e.raw = true
	if !e.w.Started() {
		e.w.Start()
	}
	if ev.Name == "" {
		return e.w.Data(ev.Data)
	}
	return e.w.Named(ev.Name, ev.Data)
}

func (e *encoder) start(id string) error {
	if e.started {
		return nil
	}
	e.started = true
	return e.send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": MessageID(id), "type": "message", "role": "assistant", "model": e.req.Model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": wire.UsageOf(e.startedUsage),
	}})
}

func (e *encoder) stopBlock() error {
	if e.open < 0 {
		return nil
	}
	i := e.open
	e.open = -1
	return e.send("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
}

// openBlock opens a block of kind unless one of that kind is open.
func (e *encoder) openBlock(kind string, block map[string]any) error {
	if err := e.stopBlock(); err != nil {
		return err
	}
	e.open, e.openKind = e.next, kind
	e.next++
	return e.send("content_block_start", map[string]any{"type": "content_block_start", "index": e.open, "content_block": block})
}

func (e *encoder) delta(d map[string]any) error {
	return e.send("content_block_delta", map[string]any{"type": "content_block_delta", "index": e.open, "delta": d})
}

// Event implements adaptor.StreamEncoder.
func (e *encoder) Event(ev adaptor.Event) error {
	if ev.Kind == adaptor.EventUsage {
		e.startedUsage = ev.Usage
		return nil
	}
	if err := e.start(ev.ID); err != nil {
		return err
	}
	switch ev.Kind {
	case adaptor.EventText:
		if ev.Text == "" {
			return nil
		}
		if e.open < 0 || e.openKind != "text" {
			if err := e.openBlock("text", map[string]any{"type": "text", "text": ""}); err != nil {
				return err
			}
		}
		return e.delta(map[string]any{"type": "text_delta", "text": ev.Text})
	case adaptor.EventThinking:
		// Another provider's reasoning has no signature; Anthropic
		// clients get it only with one (see Render).
		if ev.Signature == "" && (e.open < 0 || e.openKind != "thinking") {
			return nil
		}
		if ev.Signature != "" {
			if e.open < 0 || e.openKind != "thinking" {
				return nil
			}
			return e.delta(map[string]any{"type": "signature_delta", "signature": ev.Signature})
		}
		return e.delta(map[string]any{"type": "thinking_delta", "thinking": ev.Text})
	case adaptor.EventToolCallStart:
		if e.tools == nil {
			e.tools = map[int]int{}
		}
		if err := e.openBlock("tool", map[string]any{"type": "tool_use", "id": ev.ID, "name": ev.Name, "input": map[string]any{}}); err != nil {
			return err
		}
		e.tools[ev.Index] = e.open
		e.openTool = ev.Index
	case adaptor.EventToolArgs:
		if ev.Args == "" {
			return nil
		}
		if e.open < 0 || e.openKind != "tool" || e.openTool != ev.Index {
			// Arguments for a call whose block is closed: Anthropic's
			// blocks do not interleave, and OpenAI upstreams send each
			// call's arguments before the next call starts.
			return nil
		}
		return e.delta(map[string]any{"type": "input_json_delta", "partial_json": ev.Args})
	case adaptor.EventFinish:
		e.reason, e.seq = ev.Reason, ev.StopSequence
	}
	return nil
}

// Finish implements adaptor.StreamEncoder.
func (e *encoder) Finish(u *adaptor.Usage) error {
	if e.raw {
		// The upstream's own message_stop already went out.
		return nil
	}
	if err := e.start(""); err != nil {
		return err
	}
	if err := e.stopBlock(); err != nil {
		return err
	}
	var seq any
	if e.seq != "" {
		seq = e.seq
	}
	if err := e.send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": wire.StopReasonOf(e.reason, e.seq), "stop_sequence": seq},
		"usage": wire.UsageOf(u)}); err != nil {
		return err
	}
	return e.send("message_stop", map[string]any{"type": "message_stop"})
}

// Fail implements adaptor.StreamEncoder with Anthropic's error event.
func (e *encoder) Fail(err error) error {
	ee := errs.As(err)
	return e.send("error", map[string]any{"type": "error", "error": map[string]any{"type": errs.AnthropicType(ee), "message": ee.PublicMessage()}})
}
