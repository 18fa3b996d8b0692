package openai

import (
	"testing"

	"switchyard/relay/adaptor"
)

// FuzzParseJSON: no body makes the front panic, and what it accepts is a
// request the engine can bill: a model, a budget that is not negative,
// the body kept as it came.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"max_tokens":9223372036854775807,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]}]}`,
		`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"model":"m","input":[[1,2],[3]]}`,
		`{"model":"m","prompt":"x","n":3,"size":"1024x1792"}`,
		`{"model":"m","input":"héllo ✓"}`,
	} {
		for mode := adaptor.ModeChat; mode <= adaptor.ModeSpeech; mode++ {
			f.Add([]byte(s), int(mode))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, mode int) {
		m := adaptor.Mode(mode%int(adaptor.ModeSpeech) + 1)
		if m < adaptor.ModeChat {
			m = adaptor.ModeChat
		}
		req := &adaptor.Request{Mode: m, Format: adaptor.FormatOpenAI}
		if ParseJSON(body, req) != nil {
			return
		}
		if req.Model == "" || req.MaxTokens < 0 || req.PromptExtra < 0 || string(req.Raw) != string(body) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
		if m == adaptor.ModeChat && (req.Chat == nil || req.Chat.MaxTokens != req.MaxTokens) {
			t.Fatalf("chat %q without its neutral form", body)
		}
		if m == adaptor.ModeImages && (req.Image.N < 1 || req.Image.N > 10) {
			t.Fatalf("images n %d accepted", req.Image.N)
		}
	})
}
