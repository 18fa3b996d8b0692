package anthropic

import (
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/scan"
	"switchyard/relay/sse"
)

// Meter implements adaptor.Meter. content_block_delta, all but a handful
// of a stream's events, is scanned: its text, thinking or tool arguments
// are appended for a local count without decoding the event. Every other
// event (message_start and message_delta with usage, block starts, the
// end, errors) goes through Decode, a few times a stream.
func (d *Decoder) Meter(ev sse.Event, text []byte) ([]byte, adaptor.Metered, error) {
	if ev.Name == "content_block_delta" {
		if t, ok := d.meterDelta(ev.Data, text); ok {
			return t, adaptor.Metered{}, nil
		}
	}
	evs, err := d.Decode(ev, nil)
	var m adaptor.Metered
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case adaptor.EventStart:
			m.Started, m.ID = true, e.ID
		case adaptor.EventText, adaptor.EventThinking:
			text = append(text, e.Text...)
		case adaptor.EventToolCallStart:
			text = append(text, e.Name...)
		case adaptor.EventToolArgs:
			text = append(text, e.Args...)
		}
	}
	return text, m, err
}

// meterDelta scans a content_block_delta; ok is false when the event is
// not one (its type says otherwise, or it does not parse), for Decode to
// judge.
func (d *Decoder) meterDelta(data, text []byte) ([]byte, bool) {
	o, ok := scan.ObjectOf(data)
	if !ok || !scan.Valid(data) {
		return text, false
	}
	var typ, index, delta []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "type"):
			typ = v
		case scan.Fold(k, "index"):
			index = v
		case scan.Fold(k, "delta"):
			delta = v
		}
	}
	if !scan.StringIs(typ, "content_block_delta") {
		return text, false
	}
	do, ok := scan.ObjectOf(delta)
	if !ok {
		return text, scan.IsNull(delta) || delta == nil
	}
	var dtype, txt, thinking, partial []byte
	for k, v, more := do.Next(); more; k, v, more = do.Next() {
		switch {
		case scan.Fold(k, "type"):
			dtype = v
		case scan.Fold(k, "text"):
			txt = v
		case scan.Fold(k, "thinking"):
			thinking = v
		case scan.Fold(k, "partial_json"):
			partial = v
		}
	}
	switch {
	case scan.StringIs(dtype, "text_delta"):
		return scan.AppendString(text, txt), true
	case scan.StringIs(dtype, "thinking_delta"):
		return scan.AppendString(text, thinking), true
	case scan.StringIs(dtype, "input_json_delta"):
		i, _ := scan.Int(index) // absent is block 0, as Decode reads it
		if _, ok := d.tools[i]; ok {
			text = scan.AppendString(text, partial)
		}
		return text, true
	}
	// signature_delta and types this relay does not know carry no text.
	return text, true
}

// usageNames are Usage's JSON names in the order MeterResponse reads them.
var usageNames = []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}

// MeterResponse implements adaptor.ResponseMeter for Messages answers:
// the usage object and the id of a "message", read by a scan.
func (Adaptor) MeterResponse(req *adaptor.Request, body []byte) (*adaptor.Usage, string, bool) {
	if req.Format != adaptor.FormatAnthropic || req.Mode != adaptor.ModeChat {
		return nil, "", false
	}
	// No json.Valid over the whole answer: see openai's MeterResponse.
	o, ok := scan.ObjectOf(body)
	if !ok || !scan.EndsObject(body) {
		return nil, "", false
	}
	var typ, id, usage []byte
	for k, v, more := o.Next(); more; k, v, more = o.Next() {
		switch {
		case scan.Fold(k, "type"):
			typ = v
		case scan.Fold(k, "id"):
			id = v
		case scan.Fold(k, "usage"):
			usage = v
		}
	}
	if !scan.StringIs(typ, "message") || usage == nil || scan.IsNull(usage) {
		return nil, "", false
	}
	var u Usage
	if !scan.Ints(usage, usageNames, &u.InputTokens, &u.OutputTokens, &u.CacheCreationInputTokens, &u.CacheReadInputTokens) {
		return nil, "", false
	}
	s, _ := scan.String(id)
	return u.Neutral(), s, true
}
