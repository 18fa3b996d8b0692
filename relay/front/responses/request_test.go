package responses

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
)

func TestParseConvertsToNeutralChat(t *testing.T) {
	f := 0.5
	for _, tc := range []struct {
		name string
		body string
		want adaptor.Chat
	}{
		{"string input is one user turn", `{"model":"gpt-4.1","input":"hi"}`,
			adaptor.Chat{Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "hi"}}}}}},
		{"instructions and system items go to the system prompt", `{"model":"m","instructions":"be brief","input":[
			{"role":"developer","content":"no jokes"},{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]}`,
			adaptor.Chat{System: []adaptor.Part{{Type: "text", Text: "be brief"}, {Type: "text", Text: "no jokes"}},
				Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "hi"}}}}}},
		{"images by URL and by data URL", `{"model":"m","input":[{"role":"user","content":[
			{"type":"input_text","text":"what is this"},
			{"type":"input_image","image_url":"https://example.com/cat.png","detail":"low"},
			{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]}`,
			adaptor.Chat{Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "what is this"},
				{Type: "image", ImageURL: "https://example.com/cat.png"}, {Type: "image", MediaType: "image/png", Data: "iVBORw0KGgo="}}}}}},
		{"a turn's text and calls share one assistant message; outputs are tool turns", `{"model":"m","input":[
			{"role":"user","content":"weather in Paris and Rome?"},
			{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"xx"},
			{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking.","annotations":[]}]},
			{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
			{"type":"function_call","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Rome\"}"},
			{"type":"function_call_output","call_id":"call_1","output":"sunny"},
			{"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"rain"}]}]}`,
			adaptor.Chat{Messages: []adaptor.Message{
				{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "weather in Paris and Rome?"}}},
				{Role: "assistant", Parts: []adaptor.Part{{Type: "text", Text: "Checking."}}, ToolCalls: []adaptor.ToolCall{
					{ID: "call_1", Name: "get_weather", Args: `{"city":"Paris"}`}, {ID: "call_2", Name: "get_weather", Args: `{"city":"Rome"}`}}},
				{Role: "tool", ToolCallID: "call_1", Parts: []adaptor.Part{{Type: "text", Text: "sunny"}}},
				{Role: "tool", ToolCallID: "call_2", Parts: []adaptor.Part{{Type: "text", Text: "rain"}}},
			}}},
		{"calls with no text open the assistant turn", `{"model":"m","input":[{"role":"user","content":"x"},
			{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}]}`,
			adaptor.Chat{Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "x"}}},
				{Role: "assistant", ToolCalls: []adaptor.ToolCall{{ID: "c", Name: "f", Args: "{}"}}}}}},
		{"tools, choice, budget, sampling, reasoning, schema, user", `{"model":"m","input":"x","stream":true,"max_output_tokens":300,
			"temperature":0.5,"user":"u-1","reasoning":{"effort":"high"},
			"tools":[{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object"},"strict":true},{"type":"function","name":"now"}],
			"tool_choice":{"type":"function","name":"get_weather"},
			"text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}}}`,
			adaptor.Chat{Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "x"}}}}, MaxTokens: 300, Stream: true, Temperature: &f, User: "u-1",
				ReasoningEffort: "high", ToolChoice: &adaptor.ToolChoice{Mode: "tool", Name: "get_weather"},
				Tools: []adaptor.Tool{{Name: "get_weather", Description: "Weather", Parameters: json.RawMessage(`{"type":"object"}`)},
					{Name: "now", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}},
				ResponseFormat: json.RawMessage(`{"json_schema":{"name":"w","schema":{"type":"object"},"strict":true},"type":"json_schema"}`)}},
		{"tool_choice strings", `{"model":"m","input":"x","tool_choice":"required","text":{"format":{"type":"text"}}}`,
			adaptor.Chat{Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "x"}}}}, ToolChoice: &adaptor.ToolChoice{Mode: "required"}}},
		{"unicode and SQL-ish text pass as text", `{"model":"m","input":"héllo 🌍'; DROP TABLE users; --"}`,
			adaptor.Chat{Messages: []adaptor.Message{{Role: "user", Parts: []adaptor.Part{{Type: "text", Text: "héllo 🌍'; DROP TABLE users; --"}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if p.Unconvertible != nil || p.Chat == nil {
				t.Fatalf("unconvertible: %v", p.Unconvertible)
			}
			if !reflect.DeepEqual(*p.Chat, tc.want) {
				t.Fatalf("chat\n got %+v\nwant %+v", *p.Chat, tc.want)
			}
			if p.PromptText == "" || p.PromptExtra < tokensPerReply+tokensPerItem {
				t.Fatalf("billing inputs %q %d", p.PromptText, p.PromptExtra)
			}
		})
	}
}

func TestParseNotesWhatOnlyAResponsesUpstreamServes(t *testing.T) {
	for _, body := range []string{
		`{"model":"m","input":"more","previous_response_id":"resp_1"}`,
		`{"model":"m","input":"news?","tools":[{"type":"web_search_preview"}]}`,
		`{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}`,
		`{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}`,
		`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]}`,
		`{"model":"m","input":"x","tool_choice":{"type":"file_search"}}`,
		`{"model":"m","prompt":{"id":"pmpt_1"}}`,
		`{"model":"m","input":[{"type":"web_search_call","id":"ws_1","status":"completed"}]}`,
	} {
		p, err := Parse([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if p.Chat != nil || !errors.Is(p.Unconvertible, ErrUnconvertible) {
			t.Fatalf("%s: chat %+v, unconvertible %v", body, p.Chat, p.Unconvertible)
		}
	}
}

func TestParseRefusesMalformedCalls(t *testing.T) {
	for _, tc := range []struct{ body, param string }{
		{`{"model":"m"`, ""},
		{`[1,2]`, ""},
		{`"just a string"`, ""},
		{`{"input":"hi"}`, "model"},
		{`{"model":42,"input":"hi"}`, "model"},
		{`{"model":"m","input":42}`, "input"},
		{`{"model":"m"}`, "input"},
		{`{"model":"m","input":[]}`, "input"},
		{`{"model":"m","stream":"yes","input":"hi"}`, "stream"},
		{`{"model":"m","max_output_tokens":-1,"input":"hi"}`, "max_output_tokens"},
		{`{"model":"m","max_output_tokens":"many","input":"hi"}`, "max_output_tokens"},
		{`{"model":"m","input":[{"role":"robot","content":"hi"}]}`, "input[0].role"},
		{`{"model":"m","input":[{"role":"user"}]}`, "input[0].content"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_video"}]}]}`, "input[0].content[0].type"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_image"}]}]}`, "input[0].content[0]"},
		{`{"model":"m","input":[{"type":"function_call","name":"f"}]}`, "input[0]"},
		{`{"model":"m","input":[{"type":"function_call_output","output":"x"}]}`, "input[0].call_id"},
		{`{"model":"m","input":[{"type":"nonsense"}]}`, "input[0].type"},
		{`{"model":"m","input":"x","tools":[{"name":"f"}]}`, "tools[0]"},
		{`{"model":"m","input":"x","tools":[{"type":"function"}]}`, "tools[0].name"},
		{`{"model":"m","input":"x","tool_choice":"sometimes"}`, "tool_choice"},
		{`{"model":"m","input":"x","tool_choice":{"type":"function"}}`, "tool_choice.name"},
		{`{"model":"m","input":"x","text":{"format":{"type":"yaml"}}}`, "text.format.type"},
		{`{"model":"m","input":"x","text":{"format":{"type":"json_schema"}}}`, "text.format"},
	} {
		_, err := Parse([]byte(tc.body))
		var e *errs.Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Fatalf("%s: want a 400, got %v", tc.body, err)
		}
		if tc.param != "" && e.Param != tc.param {
			t.Fatalf("%s: param %q, want %q (%s)", tc.body, e.Param, tc.param, e.Message)
		}
		if strings.Contains(e.Message, "json:") {
			t.Fatalf("%s: message leaks the decoder: %s", tc.body, e.Message)
		}
	}
}
