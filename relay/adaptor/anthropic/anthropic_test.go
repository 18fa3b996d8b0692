package anthropic

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func TestParseErrorClassifies(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   adaptor.Class
	}{
		{"401 bad key", 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, adaptor.ClassDeadKey},
		{"400 spent credit", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}`, adaptor.ClassDeadKey},
		{"402 billing", 402, `{"type":"error","error":{"type":"billing_error","message":"billing"}}`, adaptor.ClassDeadKey},
		{"403 permission", 403, `{"type":"error","error":{"type":"permission_error","message":"no access to this model"}}`, adaptor.ClassAuth},
		{"404 model", 404, `{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`, adaptor.ClassNotFound},
		{"400 request", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`, adaptor.ClassRequest},
		{"413", 413, `{"type":"error","error":{"type":"request_too_large","message":"too big"}}`, adaptor.ClassRequest},
		{"429", 429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}`, adaptor.ClassRateLimited},
		{"500", 500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`, adaptor.ClassUpstream},
		{"529 overloaded", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, adaptor.ClassUpstream},
		{"502 html", 502, `<html>bad gateway</html>`, adaptor.ClassUpstream},
		{"401 html", 401, `denied`, adaptor.ClassDeadKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := Adaptor{}.ParseError(tt.status, nil, []byte(tt.body))
			if e.Class != tt.want || e.Message == "" {
				t.Fatalf("got %v (%+v), want %v", e.Class, e, tt.want)
			}
		})
	}
	if e := (Adaptor{}).ParseError(429, http.Header{"Retry-After": {"7"}}, []byte(`{}`)); e.RetryAfter != 7*time.Second {
		t.Fatalf("%+v", e)
	}
}

func TestRequestOfConvertsAChat(t *testing.T) {
	temp := 1.6
	req := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI, Model: "alias", UpstreamModel: "claude-3-haiku-20240307", Stream: true, Chat: &adaptor.Chat{
		System: []adaptor.Part{{Type: adaptor.PartText, Text: "Be brief."}, {Type: adaptor.PartText, Text: "Be kind."}},
		Messages: []adaptor.Message{
			{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Look"}, {Type: adaptor.PartImage, MediaType: "image/png", Data: "AAAA"}, {Type: adaptor.PartImage, ImageURL: "https://x/y.png"}}},
			{Role: adaptor.RoleAssistant, Parts: []adaptor.Part{{Type: adaptor.PartThinking, Text: "no signature"}}, ToolCalls: []adaptor.ToolCall{{ID: "c1", Name: "f", Args: `{"a":1}`}, {ID: "c2", Name: "g", Args: `not json`}}},
			{Role: adaptor.RoleTool, ToolCallID: "c1", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "one"}}},
			{Role: adaptor.RoleTool, ToolCallID: "c2", IsError: true},
			{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "so?"}}},
		},
		Tools:      []adaptor.Tool{{Name: "f", Description: "d", Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"}}}`)}, {Name: "g"}},
		ToolChoice: &adaptor.ToolChoice{Mode: adaptor.ToolRequired}, Temperature: &temp, Stop: []string{"END"}, User: "u-1",
	}}
	b, err := Body(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"claude-3-haiku-20240307","max_tokens":4096,` +
		`"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Be kind."}],` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},{"type":"tool_use","id":"c2","name":"g","input":{}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"one"}]},{"type":"tool_result","tool_use_id":"c2","content":"","is_error":true},{"type":"text","text":"so?"}]}],` +
		`"stop_sequences":["END"],"temperature":1,"stream":true,` +
		`"tools":[{"name":"f","description":"d","input_schema":{"type":"object","properties":{"a":{"type":"integer"}}}},{"name":"g","input_schema":{"type":"object"}}],` +
		`"tool_choice":{"type":"any"},"metadata":{"user_id":"u-1"}}`
	if string(b) != want {
		t.Fatalf("body\n%s\nwant\n%s", b, want)
	}
	// The client's own Anthropic bytes pass with only the model changed.
	raw := []byte(`{"model":"alias", "max_tokens":5, "thinking":{"type":"enabled","budget_tokens":1024}, "messages":[{"role":"user","content":"hi"}]}`)
	b, _ = Body(&adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatAnthropic, Model: "alias", UpstreamModel: "claude-x", Raw: raw})
	if string(b) != strings.Replace(string(raw), `"alias"`, `"claude-x"`, 1) {
		t.Fatalf("pass-through %s", b)
	}
}

func TestResponseOfMapsContentAndUsage(t *testing.T) {
	body := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[
		{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Hi"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],
		"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":7,"cache_creation_input_tokens":300,"cache_read_input_tokens":2000}}`
	r, err := Adaptor{}.ParseResponse(&adaptor.Request{}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != "Hi" || r.Parts[0].Signature != "sig" || r.ToolCalls[0].Args != `{"a":1}` || r.FinishReason != adaptor.FinishToolCalls {
		t.Fatalf("%+v", r)
	}
	// input_tokens excludes the cache: the neutral prompt counts all.
	if u := r.Usage; u.PromptTokens != 2310 || u.CachedTokens != 2000 || u.CacheCreationTokens != 300 || u.CompletionTokens != 7 || u.TotalTokens != 2317 {
		t.Fatalf("usage %+v", u)
	}
	if back := UsageOf(r.Usage); back != (Usage{InputTokens: 10, OutputTokens: 7, CacheCreationInputTokens: 300, CacheReadInputTokens: 2000}) {
		t.Fatalf("usage back %+v", back)
	}
	for _, bad := range []string{`{"type":"error","error":{}}`, `<html>`, `{}`} {
		if _, err := (Adaptor{}).ParseResponse(&adaptor.Request{}, []byte(bad)); err == nil {
			t.Fatalf("%q read as a message", bad)
		}
	}
	for reason, want := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls", "refusal": "content_filter", "pause_turn": "stop"} {
		if got := FinishOf(reason); got != want {
			t.Fatalf("FinishOf(%s) = %s", reason, got)
		}
	}
}

// A stream with thinking, text and a tool call whose arguments are split
// across events decodes into neutral events with the call's usage.
func TestDecoderReadsAStream(t *testing.T) {
	frames := []string{
		`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000,"output_tokens":1}}}`,
		`{"type":"ping"}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me"}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay"}}`,
		`{"type":"content_block_stop","index":1}`,
		`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}`,
		`{"type":"content_block_stop","index":2}`,
		`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}`,
		`{"type":"message_stop"}`,
	}
	d := Adaptor{}.NewStream(&adaptor.Request{})
	var all []adaptor.Event
	for _, f := range frames {
		evs, err := d.Decode(sse.Event{Data: []byte(f)}, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, evs...)
	}
	var kinds []string
	args := ""
	for _, e := range all {
		kinds = append(kinds, map[adaptor.EventKind]string{adaptor.EventStart: "start", adaptor.EventText: "text", adaptor.EventThinking: "thinking",
			adaptor.EventToolCallStart: "tool", adaptor.EventToolArgs: "args", adaptor.EventFinish: "finish", adaptor.EventUsage: "usage"}[e.Kind])
		args += e.Args
	}
	if got := strings.Join(kinds, " "); got != "start thinking thinking text tool args args finish usage" {
		t.Fatalf("events %s", got)
	}
	if args != `{"city": "Paris"}` || all[4].ID != "toolu_1" || all[4].Index != 0 || all[2].Signature != "sig" {
		t.Fatalf("events %+v", all)
	}
	if !d.Done() {
		t.Fatal("message_stop did not end the stream")
	}
	if u := d.Usage(); u.PromptTokens != 1025 || u.CachedTokens != 1000 || u.CompletionTokens != 89 {
		t.Fatalf("usage %+v", u)
	}
	// An error event fails the stream with its class.
	_, err := Adaptor{}.NewStream(nil).Decode(sse.Event{Name: "error", Data: []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)}, nil)
	if ue, ok := err.(*adaptor.UpstreamError); !ok || ue.Class != adaptor.ClassUpstream || ue.Status != 529 {
		t.Fatalf("error event: %v", err)
	}
	if _, err := (Adaptor{}).NewStream(nil).Decode(sse.Event{Data: []byte(`not json`)}, nil); err == nil {
		t.Fatal("a frame that is not JSON was accepted")
	}
}
