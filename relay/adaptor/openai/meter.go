package openai

import (
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/scan"
	"switchyard/relay/sse"
)

// Meter implements adaptor.Meter for chat and completion chunks: it
// scans the chunk instead of decoding it, appends its text for a local
// count and decodes only the usage object (once a stream, on the chunk
// that carries it). A chunk with an error object goes through Decode.
func (d *Decoder) Meter(ev sse.Event, text []byte) ([]byte, adaptor.Metered, error) {
	var m adaptor.Metered
	if ev.Done {
		d.done = true
		return text, m, nil
	}
	o, ok := scan.ObjectOf(ev.Data)
	if !ok || !scan.Valid(ev.Data) {
		// Decode ignores what does not parse; it decides for the rest.
		evs, err := d.Decode(ev, nil)
		return adaptor.AppendEventText(text, evs), meteredOf(evs), err
	}
	var id, choices, usage []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "id"):
			id = v
		case scan.Fold(k, "choices"):
			choices = v
		case scan.Fold(k, "usage"):
			usage = v
		case scan.Fold(k, "error"):
			if !scan.IsNull(v) {
				evs, err := d.Decode(ev, nil)
				return adaptor.AppendEventText(text, evs), meteredOf(evs), err
			}
		}
	}
	if !d.started {
		d.started = true
		m.Started = true
		m.ID, _ = scan.String(id)
	}
	content := false
	text, content = d.meterChoices(choices, text)
	if usage != nil && !scan.IsNull(usage) {
		if u, ok := usageOf(usage); ok {
			if n := u.Neutral(); n != nil {
				d.usage = n
				m.UsageOnly = !content
			}
		}
	}
	return text, m, nil
}

// usageOf reads an OpenAI usage object by a scan, as encoding/json would
// decode it into Usage: names matched without regard to case, the last of
// a name written twice wins, null leaves a field zero, and any value of a
// known field that is not an integer fails the whole (ok false). A
// decode cost more than the rest of metering a whole answer.
func usageOf(v []byte) (u Usage, ok bool) {
	if scan.IsNull(v) {
		return u, true
	}
	o, ok := scan.ObjectOf(v)
	if !ok {
		return u, false
	}
	for k, val, more := o.Next(); more; k, val, more = o.Next() {
		switch {
		case scan.Fold(k, "prompt_tokens"):
			ok = scan.IntInto(&u.PromptTokens, val)
		case scan.Fold(k, "completion_tokens"):
			ok = scan.IntInto(&u.CompletionTokens, val)
		case scan.Fold(k, "total_tokens"):
			ok = scan.IntInto(&u.TotalTokens, val)
		case scan.Fold(k, "prompt_cache_hit_tokens"):
			ok = scan.IntInto(&u.PromptCacheHitTokens, val)
		case scan.Fold(k, "prompt_tokens_details"):
			var cached int
			ok = scan.Ints(val, []string{"cached_tokens"}, &cached)
			if ok && !scan.IsNull(val) {
				u.PromptTokensDetails = &struct {
					CachedTokens int `json:"cached_tokens"`
				}{cached}
			}
		case scan.Fold(k, "completion_tokens_details"):
			var reasoning int
			ok = scan.Ints(val, []string{"reasoning_tokens"}, &reasoning)
			if ok && !scan.IsNull(val) {
				u.CompletionTokensDetails = &struct {
					ReasoningTokens int `json:"reasoning_tokens"`
				}{reasoning}
			}
		}
		if !ok {
			return Usage{}, false
		}
	}
	return u, true
}

// meterChoices appends the choices' text, thinking and tool calls to text
// and reports whether any carried content or a finish reason.
func (d *Decoder) meterChoices(v, text []byte) ([]byte, bool) {
	a, ok := scan.ArrayOf(v)
	if !ok {
		return text, false
	}
	content := false
	for ch, more := a.Next(); more; ch, more = a.Next() {
		o, ok := scan.ObjectOf(ch)
		if !ok {
			continue
		}
		for k, v, more := o.Next(); more; k, v, more = o.Next() {
			switch {
			case scan.Fold(k, "text"):
				if scan.Len(v) > 0 {
					text, content = scan.AppendString(text, v), true
				}
			case scan.Fold(k, "delta"):
				var c bool
				text, c = d.meterDelta(v, text)
				content = content || c
			case scan.Fold(k, "finish_reason"):
				if scan.Len(v) > 0 {
					d.finished, content = true, true
				}
			}
		}
	}
	return text, content
}

func (d *Decoder) meterDelta(v, text []byte) ([]byte, bool) {
	o, ok := scan.ObjectOf(v)
	if !ok {
		return text, false
	}
	content := false
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "content"), scan.Fold(k, "reasoning_content"):
			if scan.Len(v) > 0 {
				text, content = scan.AppendString(text, v), true
			}
		case scan.Fold(k, "tool_calls"):
			a, ok := scan.ArrayOf(v)
			if !ok {
				continue
			}
			for i, tc, more := 0, []byte(nil), true; more; i++ {
				if tc, more = a.Next(); !more {
					break
				}
				text = d.meterToolCall(i, tc, text)
				content = true
			}
		}
	}
	return text, content
}

// meterToolCall appends tool call tc's name (when its index first shows)
// and its arguments, as Decode's events carry them.
func (d *Decoder) meterToolCall(pos int, tc, text []byte) []byte {
	o, ok := scan.ObjectOf(tc)
	if !ok {
		return text
	}
	idx := pos
	var fn []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "index"):
			if n, ok := scan.Int(v); ok {
				idx = n
			}
		case scan.Fold(k, "function"):
			fn = v
		}
	}
	if idx < 0 || idx > 1024 {
		return text
	}
	for len(d.tools) <= idx {
		d.tools = append(d.tools, false)
	}
	first := !d.tools[idx]
	d.tools[idx] = true
	fo, ok := scan.ObjectOf(fn)
	if !ok {
		return text
	}
	for k, v, more := fo.Next(); more; k, v, more = fo.Next() {
		switch {
		case scan.Fold(k, "name"):
			if first {
				text = scan.AppendString(text, v)
			}
		case scan.Fold(k, "arguments"):
			text = scan.AppendString(text, v)
		}
	}
	return text
}

// meteredOf is what Meter reports for decoded events.
func meteredOf(evs []adaptor.Event) adaptor.Metered {
	var m adaptor.Metered
	usage, other := false, false
	for _, e := range evs {
		switch e.Kind {
		case adaptor.EventStart:
			m.Started, m.ID = true, e.ID
		case adaptor.EventUsage:
			usage = true
		default:
			other = true
		}
	}
	m.UsageOnly = usage && !other
	return m
}

// MeterResponse implements adaptor.ResponseMeter for chat and completion
// answers: the usage object and the id, read by a scan.
func (Adaptor) MeterResponse(req *adaptor.Request, body []byte) (*adaptor.Usage, string, bool) {
	if req.Format != adaptor.FormatOpenAI || (req.Mode != adaptor.ModeChat && req.Mode != adaptor.ModeCompletions) {
		return nil, "", false
	}
	// No json.Valid over the whole answer (it cost more than all the
	// rest): the answer goes to the client as the upstream wrote it, as a
	// bare proxy sends it, and the scan reads a broken one safely. The
	// answer must at least end its object, and its usage is read exactly.
	o, ok := scan.ObjectOf(body)
	if !ok || !scan.EndsObject(body) {
		return nil, "", false
	}
	var id, choices, usage []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "id"):
			id = v
		case scan.Fold(k, "choices"):
			choices = v
		case scan.Fold(k, "usage"):
			usage = v
		}
	}
	if _, ok := scan.ArrayOf(choices); !ok || usage == nil {
		return nil, "", false
	}
	u, ok := usageOf(usage)
	if !ok {
		return nil, "", false
	}
	n := u.Neutral()
	if n == nil {
		return nil, "", false
	}
	s, _ := scan.String(id)
	return n, s, true
}
