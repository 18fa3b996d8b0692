package anthropic

import "testing"

// FuzzParseRequest: no body makes the front panic, and what it accepts
// is a whole Messages call: a model, max_tokens of at least 1, messages.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"claude","max_tokens":9223372036854775807,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x"}},{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"r"}]}]}]}`,
		`{"model":"claude","max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any"},"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"t","name":"f","input":{}}]}]}`,
		`{"model":"claude","max_tokens":0,"messages":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseRequest(body)
		if err != nil {
			return
		}
		if req.Model == "" || req.MaxTokens < 1 || req.Chat == nil || req.PromptExtra < 0 || string(req.Raw) != string(body) {
			t.Fatalf("accepted %q as %+v", body, req)
		}
	})
}
