package openai

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// The decoder reads a real Responses stream (the fake upstream's, which
// openai-go reads as the API) into the neutral events and usage.
func TestDecoderReadsAnUpstreamStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    fakeupstream.Behavior
		body string
		text string
		args string
		fin  string
		err  bool
	}{
		{"text with cache and reasoning", fakeupstream.Behavior{CachedTokens: 5, ReasoningTokens: 4},
			`{"model":"m","input":"hi","stream":true}`, "Hello from the fake upstream", "", adaptor.FinishStop, false},
		{"tool call", fakeupstream.Behavior{}, `{"model":"m","input":"hi","stream":true,"tools":[{"type":"function","name":"get_weather"}]}`,
			"", `{"city": "Paris"}`, adaptor.FinishToolCalls, false},
		{"cut by the budget", fakeupstream.Behavior{}, `{"model":"m","input":"hi","stream":true,"max_output_tokens":2}`,
			"Hello from the fak", "", adaptor.FinishLength, false},
		{"failed mid-stream", fakeupstream.Behavior{Responses: fakeupstream.ResponsesBehavior{FailMidStream: true}},
			`{"model":"m","input":"hi","stream":true}`, "Hello fro", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := fakeupstream.Start(tc.b)
			defer up.Close()
			resp, err := http.Post(up.URL+"/v1/responses", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			rd := sse.NewReader(resp.Body, 0)
			defer rd.Close()
			d := NewResponsesDecoder()
			var evs []adaptor.Event
			var derr error
			for derr == nil {
				ev, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				evs, derr = d.Decode(ev, evs)
			}
			var text, args, fin string
			for _, ev := range evs {
				switch ev.Kind {
				case adaptor.EventText:
					text += ev.Text
				case adaptor.EventToolArgs:
					args += ev.Args
				case adaptor.EventFinish:
					fin = ev.Reason
				}
			}
			if text != tc.text || args != tc.args || fin != tc.fin || (derr != nil) != tc.err {
				t.Fatalf("text %q args %q finish %q err %v", text, args, fin, derr)
			}
			if tc.err {
				return
			}
			u := d.Usage()
			if !d.Done() || u == nil || u.PromptTokens != 9 || u.CachedTokens != tc.b.CachedTokens || u.ReasoningTokens != tc.b.ReasoningTokens || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Fatalf("done %v usage %+v", d.Done(), u)
			}
		})
	}
}
