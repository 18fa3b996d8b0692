package gemini

import (
	"net/http/httptest"
	"strings"
	"testing"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func TestCall(t *testing.T) {
	cases := []struct {
		path, model, method string
		ok                  bool
	}{
		{"/v1beta/models/gemini-2.5-flash:generateContent", "gemini-2.5-flash", "generateContent", true},
		{"/v1beta/models/gemini-2.5-flash:streamGenerateContent", "gemini-2.5-flash", "streamGenerateContent", true},
		{"/v1beta/models/gemini-2.5-flash", "", "", false},
		{"/v1beta/models/:generateContent", "", "", false},
		{"/v1beta/models/a/b:generateContent", "", "", false},
	}
	for _, c := range cases {
		m, meth, ok := Call(c.path)
		if m != c.model || meth != c.method || ok != c.ok {
			t.Errorf("%s: %q %q %v", c.path, m, meth, ok)
		}
	}
}

func TestParseRequestFillsBillingInputs(t *testing.T) {
	req, err := ParseRequest([]byte(`{"contents":[{"role":"user","parts":[{"text":"Hello"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}],
		"systemInstruction":{"parts":[{"text":"Be brief"}]},"generationConfig":{"maxOutputTokens":77}}`), "models/gemini-2.5-pro", true)
	if err != nil {
		t.Fatal(err)
	}
	if req.Model != "gemini-2.5-pro" || !req.Stream || !req.Chat.Stream || req.MaxTokens != 77 || req.Format != adaptor.FormatGemini {
		t.Fatalf("%+v", req)
	}
	if !strings.Contains(req.PromptText, "Hello") || !strings.Contains(req.PromptText, "Be brief") || req.PromptExtra != tokensPerTurn+tokensPerImage {
		t.Fatalf("billing inputs %q %d", req.PromptText, req.PromptExtra)
	}
	for _, bad := range []string{`{"contents":`, `{"contents":[]}`, `{"contents":[{"role":"system","parts":[{"text":"x"}]}]}`, `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":-3}}`} {
		if _, err := ParseRequest([]byte(bad), "m", false); err == nil || errs.As(err).Status != 400 {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestEncoderWritesGeminiChunks(t *testing.T) {
	rec := httptest.NewRecorder()
	req := &adaptor.Request{Model: "gpt-4o"}
	enc := Front{}.NewEncoder(req, sse.NewWriter(rec))
	for _, ev := range []adaptor.Event{
		{Kind: adaptor.EventStart, ID: "chatcmpl-1"},
		{Kind: adaptor.EventText, Text: "Hel"},
		{Kind: adaptor.EventText, Text: "lo"},
		{Kind: adaptor.EventToolCallStart, Index: 0, ID: "call_1", Name: "f"},
		{Kind: adaptor.EventToolArgs, Index: 0, Args: `{"a":`},
		{Kind: adaptor.EventToolArgs, Index: 0, Args: `1}`},
		{Kind: adaptor.EventFinish, Reason: adaptor.FinishToolCalls},
	} {
		if err := enc.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Finish(&adaptor.Usage{PromptTokens: 5, CompletionTokens: 3, TotalTokens: 8}); err != nil {
		t.Fatal(err)
	}
	frames := strings.Split(strings.TrimSpace(rec.Body.String()), "\n\n")
	if len(frames) != 3 {
		t.Fatalf("%d frames: %s", len(frames), rec.Body.String())
	}
	if !strings.Contains(frames[0], `"parts":[{"text":"Hel"}]`) || !strings.Contains(frames[0], `"responseId":"chatcmpl-1"`) {
		t.Fatalf("first frame %s", frames[0])
	}
	last := frames[2]
	for _, want := range []string{`"functionCall":{"name":"f","args":{"a":1}}`, `"finishReason":"STOP"`, `"promptTokenCount":5`, `"candidatesTokenCount":3`} {
		if !strings.Contains(last, want) {
			t.Fatalf("last frame lacks %s: %s", want, last)
		}
	}

	// Passed through: frames as they came, and no frame of our own after.
	rec = httptest.NewRecorder()
	enc = Front{}.NewEncoder(req, sse.NewWriter(rec))
	_ = enc.Raw(sse.Event{Data: []byte(`{"candidates":[]}`)}, nil)
	_ = enc.Finish(nil)
	if rec.Body.String() != "data: {\"candidates\":[]}\n\n" {
		t.Fatalf("pass-through %q", rec.Body.String())
	}

	// A failure mid-stream is Google's error object as a frame.
	rec = httptest.NewRecorder()
	enc = Front{}.NewEncoder(req, sse.NewWriter(rec))
	_ = enc.Fail(errs.New(429, errs.KindRateLimit, "slow down"))
	if !strings.Contains(rec.Body.String(), `"status":"RESOURCE_EXHAUSTED"`) || !strings.Contains(rec.Body.String(), `"code":429`) {
		t.Fatalf("fail %s", rec.Body.String())
	}
}
