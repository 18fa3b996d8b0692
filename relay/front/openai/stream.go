package openai

import (
	"encoding/json"
	"time"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/openai"
	"switchyard/relay/sse"
)

// NewEncoder implements adaptor.Front.
func (Front) NewEncoder(req *adaptor.Request, w *sse.Writer) adaptor.StreamEncoder {
	return &encoder{req: req, w: w, created: time.Now().Unix(), model: req.Model}
}

// encoder writes OpenAI's chunk stream: upstream chunks as they came, or
// chunks built from neutral events, then the usage chunk when the client
// asked for it, then "data: [DONE]".
type encoder struct {
	req     *adaptor.Request
	w       *sse.Writer
	id      string
	created int64
	model   string
	// raw is set once an upstream frame went through untouched: the
	// upstream then sent its own usage chunk.
	raw   bool
	roled bool
}

type chunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint *string       `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             *wire.Usage   `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int     `json:"index"`
	Delta        delta   `json:"delta"`
	Logprobs     *string `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

type delta struct {
	Role             string          `json:"role,omitempty"`
	Content          *string         `json:"content,omitempty"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`
	ToolCalls        []wire.ToolCall `json:"tool_calls,omitempty"`
}

func (e *encoder) start() {
	if !e.w.Started() {
		e.w.Start()
	}
}

// usageOnly reports whether a frame decoded to nothing but usage: the
// chunk the adaptor asked for on the client's behalf.
func usageOnly(decoded []adaptor.Event) bool {
	sawUsage := false
	for _, ev := range decoded {
		switch ev.Kind {
		case adaptor.EventUsage:
			sawUsage = true
		case adaptor.EventStart:
		default:
			return false
		}
	}
	return sawUsage
}

// Raw implements adaptor.StreamEncoder.
func (e *encoder) Raw(ev sse.Event, decoded []adaptor.Event) error {
	e.raw = true
	if !e.req.IncludeUsage && usageOnly(decoded) {
		return nil
	}
	e.start()
	return e.w.Data(ev.Data)
}

func (e *encoder) write(d delta, finish *string, u *wire.Usage) error {
	e.start()
	c := chunk{ID: chatID(e.id), Object: "chat.completion.chunk", Created: e.created, Model: e.model, Usage: u}
	if u == nil {
		c.Choices = []chunkChoice{{Delta: d, FinishReason: finish}}
	} else {
		c.Choices = []chunkChoice{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return e.w.Data(b)
}

// Event implements adaptor.StreamEncoder.
func (e *encoder) Event(ev adaptor.Event) error {
	d := delta{}
	if !e.roled && ev.Kind != adaptor.EventUsage {
		e.roled = true
		d.Role = "assistant"
	}
	switch ev.Kind {
	case adaptor.EventStart:
		e.id = ev.ID
		if ev.Model != "" {
			e.model = ev.Model
		}
		empty := ""
		d.Content = &empty
	case adaptor.EventText:
		text := ev.Text
		d.Content = &text
	case adaptor.EventThinking:
		if ev.Text == "" {
			return nil
		}
		d.ReasoningContent = ev.Text
	case adaptor.EventToolCallStart:
		i := ev.Index
		d.ToolCalls = []wire.ToolCall{{Index: &i, ID: ev.ID, Type: "function", Function: wire.Function{Name: ev.Name}}}
	case adaptor.EventToolArgs:
		i := ev.Index
		d.ToolCalls = []wire.ToolCall{{Index: &i, Function: wire.Function{Arguments: ev.Args}}}
	case adaptor.EventFinish:
		r := ev.Reason
		if r == "" {
			r = adaptor.FinishStop
		}
		return e.write(d, &r, nil)
	default:
		return nil
	}
	return e.write(d, nil, nil)
}

// Finish implements adaptor.StreamEncoder.
func (e *encoder) Finish(u *adaptor.Usage) error {
	e.start()
	if !e.raw && e.req.IncludeUsage && u != nil {
		if err := e.write(delta{}, nil, wire.FromNeutral(u)); err != nil {
			return err
		}
	}
	return e.w.Done()
}

// Fail implements adaptor.StreamEncoder: OpenAI's SDKs read an "error"
// object in a stream event as the stream's failure.
func (e *encoder) Fail(err error) error {
	e.start()
	ee := errs.As(err)
	var code any
	if ee.Code != "" {
		code = ee.Code
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": ee.PublicMessage(), "type": string(ee.Kind), "param": nil, "code": code}})
	return e.w.Data(b)
}
