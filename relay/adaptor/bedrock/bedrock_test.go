package bedrock

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"switchyard/internal/fakebedrock"
	"switchyard/internal/fakeclaude"
	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func upstream(s *fakebedrock.Server, sk string) *adaptor.Upstream {
	return &adaptor.Upstream{ID: 1, Type: 33, BaseURL: s.URL, Config: map[string]string{"ak": s.AccessKey, "sk": sk, "region": s.Region}}
}

const nova = "amazon.nova-lite-v1:0"

func chatReq(stream, tools bool) *adaptor.Request { return modelReq(nova, stream, tools) }

func modelReq(model string, stream, tools bool) *adaptor.Request {
	c := &adaptor.Chat{
		System:   []adaptor.Part{{Type: adaptor.PartText, Text: "Be brief."}},
		Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}}}},
	}
	if tools {
		c.Tools = []adaptor.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)}}
	}
	return &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI, Model: model, UpstreamModel: model, Stream: stream, Chat: c}
}

func do(t *testing.T, a *Adaptor, up *adaptor.Upstream, req *adaptor.Request) *http.Response {
	t.Helper()
	hr, err := a.NewRequest(context.Background(), up, req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The fake recomputes the SigV4 signature with the SDK's signer: a
// request it accepts is one Bedrock accepts.
func TestConverseSignedAndParsed(t *testing.T) {
	s := fakebedrock.Start("AKIDTEST", "secret", "eu-west-1", fakebedrock.Behavior{Claude: fakeclaude.Behavior{CacheRead: 5, CacheCreation: 2}})
	defer s.Close()
	a := New()
	resp := do(t, a, upstream(s, "secret"), chatReq(false, true))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got := s.Last().Path; got != "/model/amazon.nova-lite-v1%3A0/converse" {
		t.Fatalf("path %s", got)
	}
	r, err := a.ParseResponse(chatReq(false, true), body)
	if err != nil {
		t.Fatal(err)
	}
	want := &adaptor.Response{Model: nova, ToolCalls: []adaptor.ToolCall{{ID: "tooluse_fake01", Name: "get_weather", Args: `{"city":"Paris"}`}}, FinishReason: adaptor.FinishToolCalls,
		Usage: &adaptor.Usage{PromptTokens: 16, CompletionTokens: 3, TotalTokens: 19, CachedTokens: 5, CacheCreationTokens: 2}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}

	resp = do(t, a, upstream(s, "wrong"), chatReq(false, false))
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if e := a.ParseError(resp.StatusCode, resp.Header, body); e.Class != adaptor.ClassDeadKey || e.Type != "InvalidSignatureException" {
		t.Fatalf("a wrong secret: %+v", e)
	}
}

func TestConverseStreamDecoded(t *testing.T) {
	s := fakebedrock.Start("AKIDTEST", "secret", "us-west-2", fakebedrock.Behavior{})
	defer s.Close()
	a := New()
	for _, tools := range []bool{false, true} {
		resp := do(t, a, upstream(s, "secret"), chatReq(true, tools))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		fr := a.NewFrameReader(resp.Body)
		dec := a.NewStream(chatReq(true, tools))
		var evs []adaptor.Event
		for {
			ev, err := fr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if evs, err = dec.Decode(ev, evs); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		var text, args strings.Builder
		var finish string
		for _, e := range evs {
			switch e.Kind {
			case adaptor.EventText:
				text.WriteString(e.Text)
			case adaptor.EventToolArgs:
				args.WriteString(e.Args)
			case adaptor.EventFinish:
				finish = e.Reason
			}
		}
		u := dec.Usage()
		if !dec.Done() || u == nil || u.PromptTokens != 9 || u.CompletionTokens != 3 {
			t.Fatalf("usage %+v done %v", u, dec.Done())
		}
		if tools && (args.String() != fakeclaude.ToolInput || finish != adaptor.FinishToolCalls || evs[1].Name != "get_weather") {
			t.Fatalf("tool stream: %q %s %+v", args.String(), finish, evs)
		}
		if !tools && (text.String() != "Hello from fake Bedrock" || finish != adaptor.FinishStop) {
			t.Fatalf("text stream: %q %s", text.String(), finish)
		}
	}

	s.Set(fakebedrock.Behavior{StreamException: "throttlingException"})
	resp := do(t, a, upstream(s, "secret"), chatReq(true, false))
	defer resp.Body.Close()
	fr, dec := a.NewFrameReader(resp.Body), a.NewStream(chatReq(true, false))
	var err error
	for err == nil {
		var ev sse.Event
		if ev, err = fr.Next(); err == nil {
			_, err = dec.Decode(ev, nil)
		}
	}
	var ue *adaptor.UpstreamError
	if !errors.As(err, &ue) || ue.Class != adaptor.ClassRateLimited {
		t.Fatalf("in-stream throttling: %v", err)
	}
}

func TestUnsupportedModesRefusedBeforeSending(t *testing.T) {
	a := New()
	for _, m := range []adaptor.Mode{adaptor.ModeEmbeddings, adaptor.ModeImages, adaptor.ModeSpeech, adaptor.ModeRerank} {
		_, err := a.NewRequest(context.Background(), &adaptor.Upstream{Config: map[string]string{"ak": "a", "sk": "b", "region": "us-east-1"}}, &adaptor.Request{Mode: m})
		var ue *adaptor.UpstreamError
		if !errors.As(err, &ue) || ue.Class != adaptor.ClassUnsupported {
			t.Errorf("%s: %v", m, err)
		}
	}
	_, err := a.NewRequest(context.Background(), &adaptor.Upstream{Config: map[string]string{"ak": "a"}}, chatReq(false, false))
	var ue *adaptor.UpstreamError
	if !errors.As(err, &ue) || ue.Class != adaptor.ClassAuth {
		t.Errorf("missing sk and region: %v", err)
	}
}

func TestParseError(t *testing.T) {
	cases := []struct {
		status int
		typ    string
		body   string
		class  adaptor.Class
	}{
		{403, "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/", `{"message":"The security token included in the request is invalid."}`, adaptor.ClassDeadKey},
		{403, "InvalidSignatureException", `{"message":"The request signature we calculated does not match the signature you provided."}`, adaptor.ClassDeadKey},
		{403, "AccessDeniedException", `{"message":"You don't have access to the model with the specified model ID."}`, adaptor.ClassAuth},
		{429, "ThrottlingException", `{"message":"Too many requests, please wait before trying again."}`, adaptor.ClassRateLimited},
		{400, "ValidationException", `{"message":"Malformed input request"}`, adaptor.ClassRequest},
		{404, "ResourceNotFoundException", `{"message":"Could not resolve the foundation model"}`, adaptor.ClassNotFound},
		{500, "InternalServerException", `{"message":"boom"}`, adaptor.ClassUpstream},
		{503, "", `{"__type":"com.amazon.bedrock#ServiceUnavailableException","Message":"try later"}`, adaptor.ClassUpstream},
		{502, "", `<html>bad gateway</html>`, adaptor.ClassUpstream},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.typ != "" {
			h.Set("X-Amzn-ErrorType", c.typ)
		}
		if e := ParseError(c.status, h, []byte(c.body)); e.Class != c.class || e.Message == "" {
			t.Errorf("%d %s: got %+v (%s), want %s", c.status, c.typ, e, e.Class, c.class)
		}
	}
}

func TestToConverse(t *testing.T) {
	k := 5
	c := &adaptor.Chat{
		Messages: []adaptor.Message{
			{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Look"}, {Type: adaptor.PartImage, MediaType: "image/png", Data: "AAAA"}}},
			{Role: adaptor.RoleAssistant, ToolCalls: []adaptor.ToolCall{{ID: "t1", Name: "f", Args: `{"a":1}`}, {ID: "t2", Name: "f", Args: ``}}},
			{Role: adaptor.RoleTool, ToolCallID: "t1", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: `{"ok":true}`}}},
			{Role: adaptor.RoleTool, ToolCallID: "t2", IsError: true, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "failed"}}},
		},
		Tools: []adaptor.Tool{{Name: "f", Description: "d"}}, ToolChoice: &adaptor.ToolChoice{Mode: adaptor.ToolNamed, Name: "f"},
		MaxTokens: 50, Stop: []string{"x"}, TopK: &k, ThinkingBudget: 1024,
	}
	q, err := ToConverse(c, true)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(q)
	want := `{"messages":[{"role":"user","content":[{"text":"Look"},{"image":{"format":"png","source":{"bytes":"AAAA"}}}]},
		{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"f","input":{"a":1}}},{"toolUse":{"toolUseId":"t2","name":"f","input":{}}}]},
		{"role":"user","content":[{"toolResult":{"toolUseId":"t1","content":[{"json":{"ok":true}}]}},{"toolResult":{"toolUseId":"t2","content":[{"text":"failed"}],"status":"error"}}]}],
		"inferenceConfig":{"maxTokens":50,"stopSequences":["x"]},
		"toolConfig":{"tools":[{"toolSpec":{"name":"f","description":"d","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"tool":{"name":"f"}}},
		"additionalModelRequestFields":{"thinking":{"budget_tokens":1024,"type":"enabled"},"top_k":5}}`
	var a, b any
	_ = json.Unmarshal(got, &a)
	_ = json.Unmarshal([]byte(want), &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := ToConverse(&adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartImage, ImageURL: "https://x/y.png"}}}}}, true); err == nil {
		t.Fatal("an image link was accepted")
	}
}

// Claude goes through InvokeModel with Anthropic's body, its stream
// through InvokeModelWithResponseStream's base64 chunks.
func TestInvokeClaude(t *testing.T) {
	s := fakebedrock.Start("AKIDTEST", "secret", "us-east-1", fakebedrock.Behavior{Claude: fakeclaude.Behavior{CacheRead: 4}})
	defer s.Close()
	a := New()
	const claude = "claude-3-5-haiku-20241022"
	req := modelReq(claude, false, true)
	resp := do(t, a, upstream(s, "secret"), req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || s.Last().Path != "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke" {
		t.Fatalf("%d %s %s", resp.StatusCode, body, s.Last().Path)
	}
	var sent map[string]json.RawMessage
	_ = json.Unmarshal(s.Last().Body, &sent)
	if _, ok := sent["model"]; ok || string(sent["anthropic_version"]) != `"bedrock-2023-05-31"` {
		t.Fatalf("body %s", s.Last().Body)
	}
	r, err := a.ParseResponse(req, body)
	if err != nil || r.FinishReason != adaptor.FinishToolCalls || r.ToolCalls[0].Name != "get_weather" || r.Usage.PromptTokens != 13 || r.Usage.CachedTokens != 4 {
		t.Fatalf("%v %+v", err, r)
	}

	for _, tools := range []bool{false, true} {
		req := modelReq(claude, true, tools)
		resp := do(t, a, upstream(s, "secret"), req)
		fr, dec := a.NewFrameReader(resp.Body), a.NewStream(req)
		var evs []adaptor.Event
		for {
			ev, err := fr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if evs, err = dec.Decode(ev, evs); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		var text, args strings.Builder
		for _, e := range evs {
			text.WriteString(e.Text)
			args.WriteString(e.Args)
		}
		if !dec.Done() || dec.Usage() == nil || dec.Usage().CompletionTokens != 3 {
			t.Fatalf("stream usage %+v done %v", dec.Usage(), dec.Done())
		}
		if tools && args.String() != fakeclaude.ToolInput || !tools && text.String() != "Hello from fake Claude" {
			t.Fatalf("stream %q %q", text.String(), args.String())
		}
	}
}

func TestEndpointFollowsRegion(t *testing.T) {
	cases := []struct{ base, region, want string }{
		{"", "eu-west-1", "https://bedrock-runtime.eu-west-1.amazonaws.com"},
		{"https://bedrock-runtime.us-east-1.amazonaws.com", "ap-northeast-1", "https://bedrock-runtime.ap-northeast-1.amazonaws.com"},
		{"https://bedrock-proxy.example.com/", "us-east-1", "https://bedrock-proxy.example.com"},
	}
	for _, c := range cases {
		if got := endpoint(c.base, c.region); got != c.want {
			t.Errorf("%q in %s: %s, want %s", c.base, c.region, got, c.want)
		}
	}
}

// CountTokens goes to the bare model id with the InvokeModel body as its
// blob; models Bedrock cannot count are refused before anything is sent.
func TestCountRequestAndAnswer(t *testing.T) {
	a := New()
	up := &adaptor.Upstream{BaseURL: "https://bedrock-runtime.us-east-1.amazonaws.com", Config: map[string]string{"ak": "AKID", "sk": "secret", "region": "us-east-1"}}
	chat := &adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "hi"}}}}}
	hr, err := a.NewCountRequest(context.Background(), up, &adaptor.Request{Mode: adaptor.ModeCountTokens, UpstreamModel: "us.anthropic.claude-sonnet-4-20250514-v1:0", Chat: chat})
	if err != nil {
		t.Fatal(err)
	}
	if hr.URL.EscapedPath() != "/model/anthropic.claude-sonnet-4-20250514-v1%3A0/count-tokens" || !strings.HasPrefix(hr.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		t.Fatalf("count request %s %q", hr.URL.EscapedPath(), hr.Header.Get("Authorization"))
	}
	raw, _ := io.ReadAll(hr.Body)
	if !strings.Contains(string(fakebedrock.CountedBody(raw)), `"anthropic_version":"bedrock-2023-05-31"`) {
		t.Fatalf("count body %s", raw)
	}
	_, err = a.NewCountRequest(context.Background(), up, &adaptor.Request{Mode: adaptor.ModeCountTokens, UpstreamModel: "amazon.nova-lite-v1:0", Chat: chat})
	var ue *adaptor.UpstreamError
	if !errors.As(err, &ue) || ue.Class != adaptor.ClassUnsupported {
		t.Fatalf("a Nova model: %v", err)
	}
	for body, want := range map[string]int{`{"inputTokens":42}`: 42, `{"inputTokens":-1}`: -1, `{}`: -1, `[]`: -1} {
		n, err := a.ParseCount([]byte(body))
		if (want < 0) != (err != nil) || (want >= 0 && n != want) {
			t.Errorf("ParseCount(%s) = %d, %v", body, n, err)
		}
	}
}
