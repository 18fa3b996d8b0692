package openai

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func TestURLDoesNotDoubleV1(t *testing.T) {
	for _, tt := range []struct{ base, want string }{
		{"https://api.openai.com", "https://api.openai.com/v1/chat/completions"},
		{"https://api.openai.com/", "https://api.openai.com/v1/chat/completions"},
		{"https://proxy.example/v1", "https://proxy.example/v1/chat/completions"},
		{"https://api.groq.com/openai", "https://api.groq.com/openai/v1/chat/completions"},
	} {
		if got := URL(tt.base, "/v1/chat/completions"); got != tt.want {
			t.Fatalf("URL(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

func TestNewRequestMapsModelAndAsksForUsage(t *testing.T) {
	raw := []byte(`{"model":"alias","stream":true,"x_vendor":{"a":1}}`)
	req := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI, Model: "alias", UpstreamModel: "real", Stream: true, Raw: raw,
		Fields: map[string]json.RawMessage{"model": json.RawMessage(`"alias"`), "stream": json.RawMessage(`true`), "x_vendor": json.RawMessage(`{"a":1}`)}}
	hr, err := Adaptor{}.NewRequest(context.Background(), &adaptor.Upstream{BaseURL: "http://up", Key: "sk-k"}, req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hr.Body)
	var got map[string]any
	_ = json.Unmarshal(body, &got)
	if got["model"] != "real" || got["x_vendor"] == nil || got["stream_options"].(map[string]any)["include_usage"] != true {
		t.Fatalf("body %s", body)
	}
	if hr.Header.Get("Authorization") != "Bearer sk-k" || hr.URL.String() != "http://up/v1/chat/completions" {
		t.Fatalf("request %v %v", hr.URL, hr.Header)
	}
	if string(body) != `{"model":"real","stream":true,"x_vendor":{"a":1},"stream_options":{"include_usage":true}}` {
		t.Fatalf("pass-through changed more than the model and stream_options: %s", body)
	}
	if req.Fields["model"] == nil || string(req.Fields["model"]) != `"alias"` || string(req.Raw) != string(raw) {
		t.Fatal("NewRequest changed the client's fields, which a retry reuses")
	}
}

func TestDecoderReadsChunks(t *testing.T) {
	d := Adaptor{}.NewStream(&adaptor.Request{})
	usageOnly := sse.Event{Data: []byte(`{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":4}}}`)}
	evs, err := d.Decode(usageOnly, nil)
	if err != nil || len(evs) != 2 || evs[0].Kind != adaptor.EventStart || evs[1].Kind != adaptor.EventUsage {
		t.Fatalf("usage chunk: %+v %v", evs, err)
	}
	if u := d.Usage(); u.CompletionTokens != 5 || u.CachedTokens != 2 || u.ReasoningTokens != 4 {
		t.Fatalf("usage %+v", u)
	}
	tool := sse.Event{Data: []byte(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{\"a\":"}}]}}],"usage":null}`)}
	evs, _ = d.Decode(tool, nil)
	if len(evs) != 2 || evs[0].Kind != adaptor.EventToolCallStart || evs[0].ID != "call_1" || evs[1].Args != `{"a":` {
		t.Fatalf("tool delta: %+v", evs)
	}
	more := sse.Event{Data: []byte(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}`)}
	evs, _ = d.Decode(more, nil)
	if len(evs) != 2 || evs[0].Kind != adaptor.EventToolArgs || evs[1].Reason != adaptor.FinishToolCalls {
		t.Fatalf("second delta: %+v", evs)
	}
	if evs, err := d.Decode(sse.Event{Data: []byte(`not json`)}, nil); err != nil || len(evs) != 0 {
		t.Fatal("an unknown event must convert to nothing and pass through")
	}
	if _, err := d.Decode(sse.Event{Data: []byte(`{"error":{"message":"overloaded","type":"server_error"}}`)}, nil); err == nil {
		t.Fatal("an error inside the stream was not reported")
	}
	if _, _ = d.Decode(sse.Event{Done: true}, nil); !d.Done() {
		t.Fatal("[DONE] did not end the stream")
	}
}

func TestNewRequestSendsUnchangedBodiesAsTheyCame(t *testing.T) {
	raw := []byte(`{"model":"m",  "messages":[{"role":"user","content":"hi"}], "n": 1}`)
	req := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI, Model: "m", UpstreamModel: "m", Raw: raw,
		Fields: map[string]json.RawMessage{"model": json.RawMessage(`"m"`)}}
	hr, err := Adaptor{}.NewRequest(context.Background(), &adaptor.Upstream{BaseURL: "http://up", Key: "k"}, req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hr.Body)
	if string(body) != string(raw) {
		t.Fatalf("body %s", body)
	}
}
