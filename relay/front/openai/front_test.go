package openai

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func parse(t *testing.T, mode adaptor.Mode, body string) (*adaptor.Request, error) {
	t.Helper()
	req := &adaptor.Request{Mode: mode, Format: adaptor.FormatOpenAI}
	return req, ParseJSON([]byte(body), req)
}

func TestParseChatIntoNeutral(t *testing.T) {
	req, err := parse(t, adaptor.ModeChat, `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":50,
		"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
		{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],
		"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"required","stop":"END","temperature":0.3,"user":"u"}`)
	if err != nil {
		t.Fatal(err)
	}
	c := req.Chat
	if req.Model != "gpt-4o" || !req.Stream || !req.IncludeUsage || req.MaxTokens != 50 || c.MaxTokens != 50 {
		t.Fatalf("%+v", req)
	}
	if len(c.System) != 1 || c.System[0].Text != "Be brief." || len(c.Messages) != 3 {
		t.Fatalf("system %+v messages %+v", c.System, c.Messages)
	}
	if img := c.Messages[0].Parts[1]; img.MediaType != "image/png" || img.Data != "AAAA" {
		t.Fatalf("image %+v", img)
	}
	if c.Messages[1].ToolCalls[0].ID != "c1" || c.Messages[2].Role != adaptor.RoleTool || c.Messages[2].ToolCallID != "c1" {
		t.Fatalf("tool turns %+v", c.Messages[1:])
	}
	if c.ToolChoice.Mode != adaptor.ToolRequired || c.Stop[0] != "END" || *c.Temperature != 0.3 || c.User != "u" || c.Tools[0].Name != "f" {
		t.Fatalf("options %+v", c)
	}
	if req.PromptExtra != tokensPerReply+4*tokensPerMessage+tokensPerImage {
		t.Fatalf("extra %d", req.PromptExtra)
	}
}

func TestParseRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		mode       adaptor.Mode
		body, want string
	}{
		{adaptor.ModeChat, `{"model":"m"`, "not a JSON object"},
		{adaptor.ModeChat, `[]`, "not a JSON object"},
		{adaptor.ModeChat, `{"model":5,"messages":[]}`, "model"},
		{adaptor.ModeChat, `{"model":"m","messages":[{"role":"user","content":5}]}`, "content"},
		{adaptor.ModeChat, `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"maybe"}`, "tool_choice"},
		{adaptor.ModeChat, `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":{"a":1}}`, "tools"},
		{adaptor.ModeChat, `{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]}`, "stop"},
		{adaptor.ModeChat, `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, "temperature"},
		{adaptor.ModeChat, `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1e99}`, "max_tokens"},
		{adaptor.ModeChat, `{"model":"' OR 1=1 --","messages":"🙂"}`, "messages"},
		{adaptor.ModeEmbeddings, `{"model":"m","input":{"a":1}}`, "input"},
		{adaptor.ModeImages, `{"model":"m","prompt":"x","n":11}`, "n must be"},
		{adaptor.ModeSpeech, `{"model":"m"}`, "input"},
	} {
		_, err := parse(t, tt.mode, tt.body)
		if e := errs.As(err); err == nil || e.Status != 400 || !strings.Contains(e.Message, tt.want) {
			t.Fatalf("%s: %v", tt.body, err)
		}
	}
}

func TestRenderWholeAnswer(t *testing.T) {
	req := &adaptor.Request{Mode: adaptor.ModeChat, Model: "claude-x"}
	b, err := Front{}.Render(req, &adaptor.Response{ID: "msg_1", Model: "claude-sonnet-4-5", FinishReason: adaptor.FinishToolCalls,
		Parts:     []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}},
		ToolCalls: []adaptor.ToolCall{{ID: "toolu_1", Name: "f", Args: `{"a":1}`}},
		Usage:     &adaptor.Usage{PromptTokens: 2010, CompletionTokens: 5, CachedTokens: 2000}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	ch := got["choices"].([]any)[0].(map[string]any)
	msg := ch["message"].(map[string]any)
	if got["object"] != "chat.completion" || ch["finish_reason"] != "tool_calls" || msg["content"] != "Hi" || msg["tool_calls"].([]any)[0].(map[string]any)["id"] != "toolu_1" {
		t.Fatalf("%s", b)
	}
	u := got["usage"].(map[string]any)
	if u["total_tokens"] != 2015.0 || u["prompt_tokens_details"].(map[string]any)["cached_tokens"] != 2000.0 {
		t.Fatalf("usage %s", b)
	}
}

func events(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	rd := sse.NewReader(strings.NewReader(body), 0)
	for {
		ev, err := rd.Next()
		if err != nil {
			return out
		}
		if ev.Done {
			out = append(out, "[DONE]")
			continue
		}
		out = append(out, string(ev.Data))
	}
}

// Converted events make chunks the OpenAI SDK accumulates: a tool call's
// arguments split across events stay one call.
func TestEncoderWritesChunks(t *testing.T) {
	rec := httptest.NewRecorder()
	enc := Front{}.NewEncoder(&adaptor.Request{Model: "m", IncludeUsage: true}, sse.NewWriter(rec))
	for _, ev := range []adaptor.Event{
		{Kind: adaptor.EventStart, ID: "msg_1"},
		{Kind: adaptor.EventText, Text: "Hi"},
		{Kind: adaptor.EventToolCallStart, Index: 0, ID: "toolu_1", Name: "f"},
		{Kind: adaptor.EventToolArgs, Index: 0, Args: `{"a":`},
		{Kind: adaptor.EventToolArgs, Index: 0, Args: `1}`},
		{Kind: adaptor.EventFinish, Reason: adaptor.FinishToolCalls},
	} {
		if err := enc.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Finish(&adaptor.Usage{PromptTokens: 3, CompletionTokens: 4}); err != nil {
		t.Fatal(err)
	}
	evs := events(t, rec.Body.String())
	if len(evs) != 8 || evs[7] != "[DONE]" || !strings.Contains(evs[0], `"role":"assistant"`) || !strings.Contains(evs[3], `"arguments":"{\"a\":"`) ||
		!strings.Contains(evs[5], `"finish_reason":"tool_calls"`) || !strings.Contains(evs[6], `"total_tokens":7`) || !strings.Contains(evs[6], `"choices":[]`) {
		t.Fatalf("chunks\n%s", strings.Join(evs, "\n"))
	}
}

// Passing through, the usage chunk the relay asked for reaches only a
// client that asked for it; every other frame goes byte for byte.
func TestEncoderPassesFramesAndDropsUnaskedUsage(t *testing.T) {
	usage := []adaptor.Event{{Kind: adaptor.EventUsage, Usage: &adaptor.Usage{PromptTokens: 1}}}
	text := []adaptor.Event{{Kind: adaptor.EventText, Text: "x"}}
	for _, asked := range []bool{true, false} {
		rec := httptest.NewRecorder()
		enc := Front{}.NewEncoder(&adaptor.Request{IncludeUsage: asked}, sse.NewWriter(rec))
		_ = enc.Raw(sse.Event{Data: []byte(`{"odd" :  "spacing"}`)}, text)
		_ = enc.Raw(sse.Event{Data: []byte(`{"choices":[],"usage":{}}`)}, usage)
		_ = enc.Finish(nil)
		want := "data: {\"odd\" :  \"spacing\"}\n\n"
		if asked {
			want += "data: {\"choices\":[],\"usage\":{}}\n\n"
		}
		want += "data: [DONE]\n\n"
		if rec.Body.String() != want {
			t.Fatalf("asked %v:\n%q\nwant\n%q", asked, rec.Body.String(), want)
		}
	}
}
