package openai

import (
	"switchyard/internal/raceflag"
	"testing"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

var meterChunks = []string{
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hel\u00e9lo \"w\"\n"},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get","arguments":""}}]}}]}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"put","arguments":"{}"}}]}}]}`,
	`{"id":"cmpl-1","choices":[{"index":0,"text":"legacy","finish_reason":null}]}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
	`not json`,
	`{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}}}`,
	`{"error":{"message":"overloaded","type":"server_error"}}`,
}

// Meter reads every chunk as Decode does: the same text for a local
// count, the same usage, end and answer id, the same usage-only verdict,
// the same error.
func TestMeterMatchesDecode(t *testing.T) {
	meter, decoder := &Decoder{}, &Decoder{}
	var text, want []byte
	for _, s := range append(meterChunks, "[DONE]") {
		ev := sse.Event{Data: []byte(s), Done: s == "[DONE]"}
		var m adaptor.Metered
		var merr error
		text, m, merr = meter.Meter(ev, text)
		evs, derr := decoder.Decode(ev, nil)
		want = adaptor.AppendEventText(want, evs)
		dm := meteredOf(evs)
		if (merr == nil) != (derr == nil) || m != dm {
			t.Fatalf("%s: meter %+v %v, decode %+v %v", s, m, merr, dm, derr)
		}
		if string(text) != string(want) {
			t.Fatalf("%s: meter text %q, decode %q", s, text, want)
		}
		if meter.Done() != decoder.Done() || (meter.Usage() == nil) != (decoder.Usage() == nil) {
			t.Fatalf("%s: state differs", s)
		}
	}
	if u := meter.Usage(); u == nil || *u != *decoder.Usage() || !meter.Done() {
		t.Fatalf("usage %+v, want %+v", u, decoder.Usage())
	}
}

// A content chunk passed through costs no allocation once the text
// buffer has room.
func TestMeterAllocatesNothingPerChunk(t *testing.T) {
	d := &Decoder{}
	text := make([]byte, 0, 1<<16)
	first := sse.Event{Data: []byte(meterChunks[0])}
	text, _, _ = d.Meter(first, text)
	ev := sse.Event{Data: []byte(meterChunks[1])}
	n := testing.AllocsPerRun(1000, func() {
		text, _, _ = d.Meter(ev, text[:0])
	})
	if n != 0 && !raceflag.Enabled {
		t.Fatalf("%v allocations per chunk", n)
	}
}

// FuzzMeter: no chunk makes Meter panic, and where Decode reads a chunk
// without error, so does Meter.
func FuzzMeter(f *testing.F) {
	for _, s := range meterChunks {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev := sse.Event{Data: data}
		_, _, merr := (&Decoder{}).Meter(ev, nil)
		if _, derr := (&Decoder{}).Decode(ev, nil); derr == nil && merr != nil {
			t.Fatalf("%q: meter fails (%v) where decode does not", data, merr)
		}
	})
}
