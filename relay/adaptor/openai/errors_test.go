package openai

import (
	"net/http"
	"testing"
	"time"

	"switchyard/relay/adaptor"
)

func TestParseErrorClassifies(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   adaptor.Class
	}{
		{"401 invalid key", 401, `{"error":{"message":"Incorrect API key provided: sk-abc***xyz","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, adaptor.ClassDeadKey},
		{"401 without a body", 401, ``, adaptor.ClassDeadKey},
		{"429 insufficient quota", 429, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`, adaptor.ClassDeadKey},
		{"403 account deactivated", 403, `{"error":{"message":"Your account has been deactivated","code":"account_deactivated"}}`, adaptor.ClassDeadKey},
		{"403 region", 403, `{"error":{"message":"region not supported","type":"permission_error","code":"unsupported_country"}}`, adaptor.ClassAuth},
		{"400 key phrased in message", 400, `{"error":{"message":"API key not valid. Please pass a valid API key."}}`, adaptor.ClassDeadKey},
		{"400 billing not active", 400, `{"error":{"message":"billing","code":"billing_not_active"}}`, adaptor.ClassDeadKey},
		{"429 rate limit", 429, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, adaptor.ClassRateLimited},
		{"404 model", 404, `{"error":{"message":"The model does not exist","code":"model_not_found"}}`, adaptor.ClassNotFound},
		{"400 the request's", 400, `{"error":{"message":"messages is required","type":"invalid_request_error","param":"messages","code":null}}`, adaptor.ClassRequest},
		{"400 content policy", 400, `{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}`, adaptor.ClassContentFilter},
		{"413", 413, `{"error":{"message":"too large"}}`, adaptor.ClassRequest},
		{"422 plain", 422, `{"detail":"bad"}`, adaptor.ClassRequest},
		{"408", 408, `timeout`, adaptor.ClassUpstream},
		{"500", 500, `{"error":{"message":"server error","type":"server_error"}}`, adaptor.ClassUpstream},
		{"503 text", 503, `Service Unavailable`, adaptor.ClassUpstream},
		{"307 redirect", 307, ``, adaptor.ClassUpstream},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := Adaptor{}.ParseError(tt.status, nil, []byte(tt.body))
			if e.Class != tt.want || e.Status != tt.status || e.Message == "" {
				t.Fatalf("got %v (%+v), want %v", e.Class, e, tt.want)
			}
		})
	}
	e := Adaptor{}.ParseError(429, http.Header{"Retry-After": {"12"}}, []byte(`{"error":{"message":"slow down","code":42}}`))
	if e.RetryAfter != 12*time.Second || e.Code != "42" {
		t.Fatalf("%+v", e)
	}
}

func TestConvertChatToOpenAI(t *testing.T) {
	temp := 0.5
	req := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatAnthropic, Model: "m", UpstreamModel: "up", Stream: true, Chat: &adaptor.Chat{
		System: []adaptor.Part{{Type: adaptor.PartText, Text: "Be brief."}},
		Messages: []adaptor.Message{
			{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Look"}, {Type: adaptor.PartImage, MediaType: "image/png", Data: "AAAA"}, {Type: adaptor.PartImage, ImageURL: "https://x/y.png"}}},
			{Role: adaptor.RoleAssistant, Parts: []adaptor.Part{{Type: adaptor.PartThinking, Text: "hmm", Signature: "s"}, {Type: adaptor.PartText, Text: "Checking."}}, ToolCalls: []adaptor.ToolCall{{ID: "t1", Name: "f", Args: `{"a":1}`}}},
			{Role: adaptor.RoleTool, ToolCallID: "t1", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "sunny"}}},
			{Role: adaptor.RoleTool, ToolCallID: "t2", IsError: true, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "boom"}}},
		},
		Tools:      []adaptor.Tool{{Name: "f", Parameters: []byte(`{"type":"object"}`)}, {Name: "g"}},
		ToolChoice: &adaptor.ToolChoice{Mode: adaptor.ToolNamed, Name: "f"}, Temperature: &temp, Stop: []string{"END"}, MaxTokens: 9,
	}}
	got := ChatRequestOf(req)
	if got.Model != "up" || !got.Stream || !got.StreamOptions.IncludeUsage || got.MaxTokens != 9 || *got.Temperature != 0.5 || got.Stop[0] != "END" {
		t.Fatalf("%+v", got)
	}
	if len(got.Messages) != 5 || got.Messages[0].Role != "system" || string(got.Messages[0].Content) != `"Be brief."` {
		t.Fatalf("messages %+v", got.Messages)
	}
	if c := string(got.Messages[1].Content); c != `[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]` {
		t.Fatalf("user content %s", c)
	}
	if a := got.Messages[2]; string(a.Content) != `"Checking."` || a.ToolCalls[0].ID != "t1" || a.ToolCalls[0].Function.Arguments != `{"a":1}` {
		t.Fatalf("assistant %+v", a)
	}
	if r := got.Messages[3]; r.Role != "tool" || r.ToolCallID != "t1" || string(r.Content) != `"sunny"` {
		t.Fatalf("tool %+v", r)
	}
	if r := got.Messages[4]; string(r.Content) != `"Error: boom"` {
		t.Fatalf("failed tool %s", r.Content)
	}
	if string(got.Tools[1].Function.Parameters) != `{"type":"object","properties":{}}` {
		t.Fatalf("tool without schema %s", got.Tools[1].Function.Parameters)
	}
	if tc := got.ToolChoice.(map[string]any); tc["type"] != "function" {
		t.Fatalf("tool choice %v", tc)
	}
	// A mode the conversion cannot carry is refused before any call.
	_, err := Adaptor{}.NewRequest(t.Context(), &adaptor.Upstream{BaseURL: "http://up"}, &adaptor.Request{Mode: adaptor.ModeImages, Format: adaptor.FormatAnthropic})
	if ue, ok := err.(*adaptor.UpstreamError); !ok || ue.Class != adaptor.ClassUnsupported {
		t.Fatalf("images from another format: %v", err)
	}
}

func TestParseResponseReadsUsageDetail(t *testing.T) {
	body := `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","reasoning_content":"think","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
		"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920},"completion_tokens_details":{"reasoning_tokens":192}}}`
	r, err := Adaptor{}.ParseResponse(&adaptor.Request{Mode: adaptor.ModeChat}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != "Hi" || r.ToolCalls[0].Name != "f" || r.FinishReason != adaptor.FinishToolCalls || r.Parts[0].Type != adaptor.PartThinking {
		t.Fatalf("%+v", r)
	}
	if u := r.Usage; u.PromptTokens != 2006 || u.CachedTokens != 1920 || u.ReasoningTokens != 192 || u.CompletionTokens != 300 {
		t.Fatalf("usage %+v", u)
	}
	ds := `{"id":"x","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}`
	if r, _ := (Adaptor{}).ParseResponse(&adaptor.Request{Mode: adaptor.ModeChat}, []byte(ds)); r.Usage.CachedTokens != 64 {
		t.Fatalf("DeepSeek cache hits %+v", r.Usage)
	}
	for _, bad := range []string{`<html>`, `[]`, `{"object":"list"}`, ``} {
		if _, err := (Adaptor{}).ParseResponse(&adaptor.Request{Mode: adaptor.ModeChat}, []byte(bad)); err == nil {
			t.Fatalf("%q read as an answer", bad)
		}
	}
	if r, err := (Adaptor{}).ParseResponse(&adaptor.Request{Mode: adaptor.ModeTranscription}, []byte("1\n00:00 hello")); err != nil || r.Text() != "1\n00:00 hello" {
		t.Fatal("a text transcription is an answer")
	}
}
