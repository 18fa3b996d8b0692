package responses

import (
	"bytes"
	"encoding/json"

	"switchyard/relay/adaptor"
	oa "switchyard/relay/adaptor/openai"
	"switchyard/relay/sse"
)

func intp(i int) *int { return &i }

func strp(s string) *string { return &s }

// Encoder writes the Responses stream to a client: converted neutral
// events, or an upstream's own Responses frames passed through. Its end
// of stream is response.completed (response.incomplete when the budget or
// a filter cut the answer); its in-stream error is an "error" event
// followed by response.failed, both of which openai-go surfaces as
// events and Codex reads as the end.
type Encoder struct {
	w   *sse.Writer
	r   oa.ResponsesObject
	seq int
	// raw is set once an upstream frame went through untouched: the
	// upstream then owns the events, including the end.
	raw     bool
	started bool
	// open is the index in r.Output of the open message or reasoning
	// item, -1 when none; text is what it holds so far.
	open int
	text string
	// calls maps a neutral tool index to its item in r.Output; pending
	// lists the function items not yet done, in order.
	calls   map[int]int
	pending []int
	reason  string
	usage   *adaptor.Usage
}

// NewEncoder writes a stream for a call whose body was raw, answering
// under model (the name the client asked for).
func NewEncoder(raw []byte, model string, w *sse.Writer) *Encoder {
	return &Encoder{w: w, r: shell(raw, model), open: -1, calls: map[int]int{}}
}

func (e *Encoder) send(typ string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.seq++
	if !e.w.Started() {
		e.w.Start()
	}
	return e.w.Named(typ, data)
}

func (e *Encoder) event(ev oa.ResponsesEvent) error {
	ev.SequenceNumber = e.seq
	return e.send(ev.Type, ev)
}

// start sends response.created and response.in_progress once.
func (e *Encoder) start() error {
	if e.started {
		return nil
	}
	e.started = true
	snap := e.r
	if err := e.event(oa.ResponsesEvent{Type: "response.created", Response: &snap}); err != nil {
		return err
	}
	return e.event(oa.ResponsesEvent{Type: "response.in_progress", Response: &snap})
}

// Raw passes one upstream Responses frame through untouched.
func (e *Encoder) Raw(ev sse.Event, _ []adaptor.Event) error {
	e.raw, e.started = true, true
	e.seq++
	if !e.w.Started() {
		e.w.Start()
	}
	data := ev.Data
	if bytes.IndexByte(data, '\n') >= 0 {
		// Data sent over several data: lines joins with newlines; JSON
		// compacts back onto the one line an event writes.
		var buf bytes.Buffer
		if json.Compact(&buf, data) == nil {
			data = buf.Bytes()
		} else {
			data = bytes.ReplaceAll(data, []byte("\n"), []byte(" "))
		}
	}
	if ev.Name == "" {
		return e.w.Data(data)
	}
	return e.w.Named(ev.Name, data)
}

// Event writes one converted neutral event.
func (e *Encoder) Event(ev adaptor.Event) error {
	switch ev.Kind {
	case adaptor.EventStart:
		return e.start()
	case adaptor.EventText:
		return e.delta("message", ev.Text)
	case adaptor.EventThinking:
		return e.delta("reasoning", ev.Text)
	case adaptor.EventToolCallStart:
		return e.toolStart(ev.Index, ev.ID, ev.Name)
	case adaptor.EventToolArgs:
		return e.toolArgs(ev.Index, ev.Args)
	case adaptor.EventFinish:
		e.reason = ev.Reason
	case adaptor.EventUsage:
		e.usage = ev.Usage
	}
	return nil
}

// delta adds text to the open item of kind, opening one (and closing the
// open item of the other kind) when needed.
func (e *Encoder) delta(kind, text string) error {
	if err := e.start(); err != nil {
		return err
	}
	if e.open < 0 || e.r.Output[e.open].Type != kind {
		if err := e.closeOpen(); err != nil {
			return err
		}
		if err := e.closeCalls(); err != nil {
			return err
		}
		if err := e.openItem(kind); err != nil {
			return err
		}
	}
	if text == "" {
		return nil
	}
	e.text += text
	it := e.r.Output[e.open]
	if kind == "reasoning" {
		return e.event(oa.ResponsesEvent{Type: "response.reasoning_summary_text.delta", ItemID: it.ID, OutputIndex: intp(e.open), SummaryIndex: intp(0), Delta: &text})
	}
	return e.event(oa.ResponsesEvent{Type: "response.output_text.delta", ItemID: it.ID, OutputIndex: intp(e.open), ContentIndex: intp(0), Delta: &text, Logprobs: &[]any{}})
}

func (e *Encoder) openItem(kind string) error {
	idx := len(e.r.Output)
	var it oa.ResponsesItem
	if kind == "reasoning" {
		it = reasoningItem(newID("rs_"), "")
	} else {
		content := []oa.ResponsesContent{}
		it = oa.ResponsesItem{ID: newID("msg_"), Type: "message", Status: "in_progress", Role: "assistant", Content: &content}
	}
	e.r.Output = append(e.r.Output, it)
	e.open, e.text = idx, ""
	added := it
	if err := e.event(oa.ResponsesEvent{Type: "response.output_item.added", OutputIndex: intp(idx), Item: &added}); err != nil {
		return err
	}
	if kind == "reasoning" {
		return e.event(oa.ResponsesEvent{Type: "response.reasoning_summary_part.added", ItemID: it.ID, OutputIndex: intp(idx), SummaryIndex: intp(0), Part: &oa.ResponsesContent{Type: "summary_text"}})
	}
	return e.event(oa.ResponsesEvent{Type: "response.content_part.added", ItemID: it.ID, OutputIndex: intp(idx), ContentIndex: intp(0), Part: &oa.ResponsesContent{Type: "output_text", Annotations: &[]any{}}})
}

// closeOpen finishes the open message or reasoning item.
func (e *Encoder) closeOpen() error {
	if e.open < 0 {
		return nil
	}
	idx, text := e.open, e.text
	e.open, e.text = -1, ""
	it := &e.r.Output[idx]
	if it.Type == "reasoning" {
		*it = reasoningItem(it.ID, text)
		part := oa.ResponsesContent{Type: "summary_text", Text: text}
		if err := e.event(oa.ResponsesEvent{Type: "response.reasoning_summary_text.done", ItemID: it.ID, OutputIndex: intp(idx), SummaryIndex: intp(0), Text: &text}); err != nil {
			return err
		}
		if err := e.event(oa.ResponsesEvent{Type: "response.reasoning_summary_part.done", ItemID: it.ID, OutputIndex: intp(idx), SummaryIndex: intp(0), Part: &part}); err != nil {
			return err
		}
	} else {
		*it = messageItem(it.ID, "completed", text)
		if err := e.event(oa.ResponsesEvent{Type: "response.output_text.done", ItemID: it.ID, OutputIndex: intp(idx), ContentIndex: intp(0), Text: &text, Logprobs: &[]any{}}); err != nil {
			return err
		}
		part := (*it.Content)[0]
		if err := e.event(oa.ResponsesEvent{Type: "response.content_part.done", ItemID: it.ID, OutputIndex: intp(idx), ContentIndex: intp(0), Part: &part}); err != nil {
			return err
		}
	}
	done := *it
	return e.event(oa.ResponsesEvent{Type: "response.output_item.done", OutputIndex: intp(idx), Item: &done})
}

func (e *Encoder) toolStart(index int, id, name string) error {
	if err := e.start(); err != nil {
		return err
	}
	if err := e.closeOpen(); err != nil {
		return err
	}
	if id == "" {
		id = newID("call_")
	}
	idx := len(e.r.Output)
	e.r.Output = append(e.r.Output, callItem(newID("fc_"), "in_progress", adaptor.ToolCall{ID: id, Name: name}))
	e.calls[index] = idx
	e.pending = append(e.pending, idx)
	added := e.r.Output[idx]
	return e.event(oa.ResponsesEvent{Type: "response.output_item.added", OutputIndex: intp(idx), Item: &added})
}

func (e *Encoder) toolArgs(index int, args string) error {
	idx, ok := e.calls[index]
	if !ok {
		// Arguments before the call's start: open it unnamed.
		if err := e.toolStart(index, "", ""); err != nil {
			return err
		}
		idx = e.calls[index]
	}
	if args == "" {
		return nil
	}
	it := &e.r.Output[idx]
	*it.Arguments += args
	return e.event(oa.ResponsesEvent{Type: "response.function_call_arguments.delta", ItemID: it.ID, OutputIndex: intp(idx), Delta: &args})
}

// closeCalls finishes the function items still open, in order. They stay
// open until the turn moves on, since chat streams may interleave the
// arguments of parallel calls.
func (e *Encoder) closeCalls() error {
	for _, idx := range e.pending {
		it := &e.r.Output[idx]
		it.Status = "completed"
		args := *it.Arguments
		if err := e.event(oa.ResponsesEvent{Type: "response.function_call_arguments.done", ItemID: it.ID, OutputIndex: intp(idx), Arguments: &args}); err != nil {
			return err
		}
		done := *it
		done.Arguments = &args
		if err := e.event(oa.ResponsesEvent{Type: "response.output_item.done", OutputIndex: intp(idx), Item: &done}); err != nil {
			return err
		}
	}
	e.pending = e.pending[:0]
	return nil
}

// Finish ends a converted stream with response.completed (or
// response.incomplete) carrying the whole output and u, the usage billed.
// A passed-through stream already ended with the upstream's own event.
func (e *Encoder) Finish(u *adaptor.Usage) error {
	if e.raw {
		return nil
	}
	if err := e.start(); err != nil {
		return err
	}
	if err := e.closeOpen(); err != nil {
		return err
	}
	if err := e.closeCalls(); err != nil {
		return err
	}
	if u == nil {
		u = e.usage
	}
	final := e.r
	finish(&final, e.reason)
	final.Usage = oa.ResponsesUsageOf(u)
	typ := "response.completed"
	if final.Status == "incomplete" {
		typ = "response.incomplete"
	}
	return e.event(oa.ResponsesEvent{Type: typ, Response: &final})
}

// Fail ends the stream after an error: an "error" event, then
// response.failed with the error on the response.
func (e *Encoder) Fail(err error) error {
	msg := "the upstream stream failed"
	if err != nil {
		msg = err.Error()
	}
	if !e.raw {
		if serr := e.start(); serr != nil {
			return serr
		}
	}
	if serr := e.send("error", oa.ResponsesErrorEvent{Type: "error", SequenceNumber: e.seq, Code: "server_error", Message: msg}); serr != nil {
		return serr
	}
	failed := e.r
	failed.Status, failed.Error = "failed", &oa.ResponsesError{Code: "server_error", Message: msg}
	return e.event(oa.ResponsesEvent{Type: "response.failed", Response: &failed})
}
