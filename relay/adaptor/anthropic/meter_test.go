package anthropic

import (
	"switchyard/internal/raceflag"
	"testing"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

var meterEvents = [][2]string{
	{"message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}`},
	{"ping", `{"type":"ping"}`},
	{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm \u00e9"}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}`},
	{"content_block_stop", `{"type":"content_block_stop","index":0}`},
	{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello \"there\"\n"}}`},
	{"content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"get","input":{}}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"ignored"}}`},
	{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`},
	{"message_stop", `{"type":"message_stop"}`},
}

// Meter reads every event as Decode does: the same text for a local
// count, usage, end and answer id.
func TestMeterMatchesDecode(t *testing.T) {
	meter, decoder := &Decoder{}, &Decoder{}
	var text, want []byte
	for _, e := range meterEvents {
		ev := sse.Event{Name: e[0], Data: []byte(e[1])}
		var m adaptor.Metered
		var merr error
		text, m, merr = meter.Meter(ev, text)
		evs, derr := decoder.Decode(ev, nil)
		for _, d := range evs {
			switch d.Kind {
			case adaptor.EventText, adaptor.EventThinking:
				want = append(want, d.Text...)
			case adaptor.EventToolCallStart:
				want = append(want, d.Name...)
			case adaptor.EventToolArgs:
				want = append(want, d.Args...)
			case adaptor.EventStart:
				if !m.Started || m.ID != d.ID {
					t.Fatalf("%s: start %+v", e[1], m)
				}
			}
		}
		if (merr == nil) != (derr == nil) || string(text) != string(want) {
			t.Fatalf("%s: meter %q %v, decode %q %v", e[1], text, merr, want, derr)
		}
	}
	if !meter.Done() || *meter.Usage() != *decoder.Usage() {
		t.Fatalf("usage %+v, want %+v", meter.Usage(), decoder.Usage())
	}
}

// A text delta passed through costs no allocation once the text buffer
// has room.
func TestMeterAllocatesNothingPerDelta(t *testing.T) {
	d := &Decoder{}
	text := make([]byte, 0, 1<<16)
	ev := sse.Event{Name: "content_block_delta", Data: []byte(meterEvents[7][1])}
	n := testing.AllocsPerRun(1000, func() {
		text, _, _ = d.Meter(ev, text[:0])
	})
	if n != 0 && !raceflag.Enabled {
		t.Fatalf("%v allocations per delta", n)
	}
}
