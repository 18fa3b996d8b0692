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
	req := &adaptor.Request{Mode: adaptor.ModeChat, Model: "alias", UpstreamModel: "real", Stream: true,
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
	if req.Fields["model"] == nil || string(req.Fields["model"]) != `"alias"` {
		t.Fatal("NewRequest changed the client's fields, which a retry reuses")
	}
}

func TestParseChunk(t *testing.T) {
	a := Adaptor{}
	usageOnly := sse.Event{Data: []byte(`{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`)}
	asked := &adaptor.Request{IncludeUsage: true}
	notAsked := &adaptor.Request{}
	if ch, _ := a.ParseChunk(asked, usageOnly); ch.Forward == nil || ch.Usage.CompletionTokens != 5 {
		t.Fatalf("asked: %+v", ch)
	}
	if ch, _ := a.ParseChunk(notAsked, usageOnly); ch.Forward != nil || ch.Usage == nil {
		t.Fatalf("not asked: the usage chunk must be dropped but still read: %+v", ch)
	}
	tool := sse.Event{Data: []byte(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}],"usage":null}`)}
	if ch, _ := a.ParseChunk(notAsked, tool); ch.Text != `{"a":` || ch.Usage != nil || string(ch.Forward) != string(tool.Data) {
		t.Fatalf("tool delta: %+v", ch)
	}
	odd := sse.Event{Data: []byte(`not json`)}
	if ch, _ := a.ParseChunk(notAsked, odd); string(ch.Forward) != "not json" {
		t.Fatal("an unknown event was not passed on as it came")
	}
}

func TestNewRequestSendsUnchangedBodiesAsTheyCame(t *testing.T) {
	raw := []byte(`{"model":"m",  "messages":[{"role":"user","content":"hi"}], "n": 1}`)
	req := &adaptor.Request{Mode: adaptor.ModeChat, Model: "m", UpstreamModel: "m", Raw: raw,
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
