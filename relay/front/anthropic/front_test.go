package anthropic

import (
	"net/http/httptest"
	"strings"
	"testing"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func TestParseRequestTurnsMessagesIntoChat(t *testing.T) {
	body := `{
		"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "stream": true,
		"system": [{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
		"stop_sequences": ["END"], "temperature": 0.2,
		"tools": [{"name":"get_weather","description":"weather","input_schema":{"type":"object"}}],
		"tool_choice": {"type":"tool","name":"get_weather"},
		"messages": [
			{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
			{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}]},{"type":"text","text":"And tomorrow?"}]}
		]}`
	r, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := r.Chat
	if r.Model != "claude-3-5-haiku-20241022" || r.MaxTokens != 64 || !r.Stream || r.Format != adaptor.FormatAnthropic || string(r.Raw) != body {
		t.Fatalf("%+v", r)
	}
	if len(c.System) != 1 || c.System[0].Text != "Be brief." || string(c.System[0].CacheControl) != `{"type":"ephemeral"}` {
		t.Fatalf("system %+v", c.System)
	}
	if len(c.Messages) != 4 {
		t.Fatalf("messages %+v", c.Messages)
	}
	if img := c.Messages[0].Parts[1]; img.Type != adaptor.PartImage || img.MediaType != "image/png" || img.Data != "AAAA" {
		t.Fatalf("image %+v", img)
	}
	if a := c.Messages[1]; a.Parts[0].Text != "Checking." || a.ToolCalls[0].ID != "toolu_1" || a.ToolCalls[0].Args != `{"city":"Paris"}` {
		t.Fatalf("assistant %+v", a)
	}
	if tr := c.Messages[2]; tr.Role != adaptor.RoleTool || tr.ToolCallID != "toolu_1" || tr.Parts[0].Text != "sunny" {
		t.Fatalf("tool result %+v", tr)
	}
	if u := c.Messages[3]; u.Role != adaptor.RoleUser || u.Parts[0].Text != "And tomorrow?" {
		t.Fatalf("user after the result %+v", u)
	}
	if c.ToolChoice.Mode != adaptor.ToolNamed || c.ToolChoice.Name != "get_weather" || c.Stop[0] != "END" || *c.Temperature != 0.2 {
		t.Fatalf("options %+v", c)
	}
	if r.PromptText == "" || r.PromptExtra < tokensPerImage {
		t.Fatalf("billing inputs %q %d", r.PromptText, r.PromptExtra)
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
		{`{"model":"m","max_tokens":"5","messages":[{"role":"user","content":"hi"}]}`, "not a valid"},
		{`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}`, "source"},
		{`{"model":"m","max_tokens":5,"system":[{"type":"image"}],"messages":[{"role":"user","content":"hi"}]}`, "system"},
	} {
		_, err := ParseRequest([]byte(tt.body))
		e := errs.As(err)
		if err == nil || e.Status != 400 || !strings.Contains(e.Message, tt.want) {
			t.Fatalf("%s: %v", tt.body, err)
		}
	}
}

func TestStreamEventsAreWellFormed(t *testing.T) {
	rec := httptest.NewRecorder()
	enc := Front{}.NewEncoder(&adaptor.Request{Model: "claude"}, sse.NewWriter(rec))
	for _, ev := range []adaptor.Event{
		{Kind: adaptor.EventStart, ID: "chatcmpl-1"},
		{Kind: adaptor.EventText, Text: "Hi"},
		{Kind: adaptor.EventToolCallStart, Index: 0, ID: "call_1", Name: "f"},
		{Kind: adaptor.EventToolArgs, Index: 0, Args: "{}"},
		{Kind: adaptor.EventFinish, Reason: adaptor.FinishToolCalls},
	} {
		if err := enc.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Finish(&adaptor.Usage{PromptTokens: 3, CompletionTokens: 2}); err != nil {
		t.Fatal(err)
	}
	var names []string
	rd := sse.NewReader(rec.Body, 0)
	var last string
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		names = append(names, ev.Name)
		if ev.Name == "message_delta" {
			last = string(ev.Data)
		}
	}
	want := "message_start content_block_start content_block_delta content_block_stop content_block_start content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	if !strings.Contains(last, `"stop_reason":"tool_use"`) || !strings.Contains(last, `"output_tokens":2`) || !strings.Contains(last, `"input_tokens":3`) {
		t.Fatalf("message_delta %s", last)
	}
}
