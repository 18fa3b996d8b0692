package anthropic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseRequestTurnsMessagesIntoChat(t *testing.T) {
	body := `{
		"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "stream": true,
		"system": [{"type":"text","text":"Be brief."}],
		"stop_sequences": ["END"], "temperature": 0.2,
		"tools": [{"name":"get_weather","description":"weather","input_schema":{"type":"object"}}],
		"tool_choice": {"type":"tool","name":"get_weather"},
		"messages": [
			{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
			{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}]}]}
		]}`
	r, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "claude-3-5-haiku-20241022" || r.MaxTokens != 64 || !r.Stream {
		t.Fatalf("%+v", r)
	}
	var msgs []map[string]any
	_ = json.Unmarshal(r.Fields["messages"], &msgs)
	if len(msgs) != 4 {
		t.Fatalf("messages %s", r.Fields["messages"])
	}
	if msgs[0]["role"] != "system" || msgs[0]["content"] != "Be brief." {
		t.Fatalf("system %v", msgs[0])
	}
	parts := msgs[1]["content"].([]any)
	if parts[1].(map[string]any)["image_url"].(map[string]any)["url"] != "data:image/png;base64,AAAA" {
		t.Fatalf("image %v", parts)
	}
	call := msgs[2]["tool_calls"].([]any)[0].(map[string]any)
	if msgs[2]["content"] != "Checking." || call["id"] != "toolu_1" || call["function"].(map[string]any)["arguments"] != `{"city":"Paris"}` {
		t.Fatalf("assistant %v", msgs[2])
	}
	if msgs[3]["role"] != "tool" || msgs[3]["tool_call_id"] != "toolu_1" || msgs[3]["content"] != "sunny" {
		t.Fatalf("tool result %v", msgs[3])
	}
	if string(r.Fields["tool_choice"]) != `{"function":{"name":"get_weather"},"type":"function"}` || string(r.Fields["stop"]) != `["END"]` {
		t.Fatalf("tool_choice %s stop %s", r.Fields["tool_choice"], r.Fields["stop"])
	}
}

func TestParseRequestRefusesBadInput(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{`, "not a valid"},
		{`{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "model"},
		{`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{`{"model":"m","max_tokens":5,"messages":[]}`, "messages"},
		{`{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"hi"}]}`, "role"},
		{`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"video"}]}]}`, "video"},
		{`{"model":"m","max_tokens":5,"tool_choice":{"type":"maybe"},"messages":[{"role":"user","content":"hi"}]}`, "tool_choice"},
	} {
		_, err := ParseRequest([]byte(tt.body))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: %v", tt.body, err)
		}
	}
}

func TestStreamEventsAreWellFormed(t *testing.T) {
	s := NewStream("claude")
	var names []string
	for _, chunk := range []string{
		`{"id":"chatcmpl-1","choices":[{"delta":{"role":"assistant","content":""}}]}`,
		`{"id":"chatcmpl-1","choices":[{"delta":{"content":"Hi"}}]}`,
		`{"id":"chatcmpl-1","choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":""}}]}}]}`,
		`{"id":"chatcmpl-1","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`,
		`{"id":"chatcmpl-1","choices":[{"delta":{},"finish_reason":"tool_calls"}]}`,
	} {
		for _, e := range s.Chunk([]byte(chunk)) {
			names = append(names, e.Name)
		}
	}
	fin := s.Finish(Usage{InputTokens: 3, OutputTokens: 2})
	for _, e := range fin {
		names = append(names, e.Name)
	}
	want := "message_start content_block_start content_block_delta content_block_stop content_block_start content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	if !strings.Contains(string(fin[1].Data), `"stop_reason":"tool_use"`) || !strings.Contains(string(fin[1].Data), `"output_tokens":2`) {
		t.Fatalf("message_delta %s", fin[1].Data)
	}
}
