package gemini

import (
	"encoding/json"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/gemini"
	"switchyard/relay/sse"
)

// NewEncoder implements adaptor.Front.
func (Front) NewEncoder(req *adaptor.Request, w *sse.Writer) adaptor.StreamEncoder {
	return &encoder{req: req, w: w}
}

// encoder writes streamGenerateContent's SSE: one GenerateContentResponse
// per frame. Text and thoughts go out as they come; tool calls, which
// Gemini sends whole, are gathered and go out in the last frame with the
// finishReason and the usage. Gemini's stream has no end marker.
type encoder struct {
	req    *adaptor.Request
	w      *sse.Writer
	raw    bool
	id     string
	reason string
	calls  []*call
	usage  *adaptor.Usage
}

type call struct {
	id, name string
	args     strings.Builder
}

func (e *encoder) send(v *wire.GenerateResponse) error {
	if !e.w.Started() {
		e.w.Start()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.w.Data(b)
}

func (e *encoder) chunk(parts []wire.Part, finish string, u *adaptor.Usage) *wire.GenerateResponse {
	return &wire.GenerateResponse{
		Candidates:    []wire.Candidate{{Content: &wire.Content{Role: "model", Parts: parts}, FinishReason: finish}},
		UsageMetadata: wire.FromUsage(u),
		ModelVersion:  e.req.Model,
		ResponseID:    e.id,
	}
}

// Raw implements adaptor.StreamEncoder: a Gemini channel's frame as it came.
func (e *encoder) Raw(ev sse.Event, _ []adaptor.Event) error {
	e.raw = true
	if !e.w.Started() {
		e.w.Start()
	}
	return e.w.Data(ev.Data)
}

// Event implements adaptor.StreamEncoder.
func (e *encoder) Event(ev adaptor.Event) error {
	switch ev.Kind {
	case adaptor.EventStart:
		e.id = ev.ID
	case adaptor.EventText:
		if ev.Text != "" {
			return e.send(e.chunk([]wire.Part{{Text: ev.Text}}, "", nil))
		}
	case adaptor.EventThinking:
		if ev.Text != "" || ev.Signature != "" {
			return e.send(e.chunk([]wire.Part{{Text: ev.Text, Thought: true, ThoughtSignature: ev.Signature}}, "", nil))
		}
	case adaptor.EventToolCallStart:
		for len(e.calls) <= ev.Index {
			e.calls = append(e.calls, &call{})
		}
		e.calls[ev.Index].id, e.calls[ev.Index].name = ev.ID, ev.Name
	case adaptor.EventToolArgs:
		if ev.Index < len(e.calls) {
			e.calls[ev.Index].args.WriteString(ev.Args)
		}
	case adaptor.EventFinish:
		e.reason = ev.Reason
	case adaptor.EventUsage:
		e.usage = ev.Usage
	}
	return nil
}

// Finish implements adaptor.StreamEncoder: the last frame, with the tool
// calls, the finishReason and the usage. A passed-through stream already
// had its own.
func (e *encoder) Finish(u *adaptor.Usage) error {
	if e.raw {
		return nil
	}
	if u == nil {
		u = e.usage
	}
	parts := []wire.Part{}
	for _, c := range e.calls {
		parts = append(parts, wire.ToolCallPart(adaptor.ToolCall{ID: c.id, Name: c.name, Args: c.args.String()}))
	}
	return e.send(e.chunk(parts, wire.GeminiFinish(e.reason), u))
}

// Fail implements adaptor.StreamEncoder: Google's error object as a
// frame, which the Gemini SDKs raise as an APIError.
func (e *encoder) Fail(err error) error {
	x := errs.As(err)
	b, merr := json.Marshal(map[string]any{"error": map[string]any{"code": x.Status, "message": x.PublicMessage(), "status": errs.GeminiStatus(x)}})
	if merr != nil {
		return merr
	}
	if !e.w.Started() {
		e.w.Start()
	}
	return e.w.Data(b)
}
