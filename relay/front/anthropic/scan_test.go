package anthropic

import (
	"switchyard/internal/raceflag"
	"testing"
	"unicode/utf8"
)

// FuzzScanRequest: the scan never panics, accepts every body the whole
// read accepts with the same model, budget and stream, and its prompt
// measure bounds the whole read's from above; Complete then gives the
// whole read's chat and count.
func FuzzScanRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"claude","max_tokens":9223372036854775807,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x"}},{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"r"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}}]}]}]}`,
		`{"model":"claude","max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any"},"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"t","name":"f","input":{}},{"type":"tool_use","id":"u","name":"g"}]}]}`,
		`{"MODEL":"claude","Max_Tokens":3,"stream":true,"system":"be \u00e9 brief","messages":[{"ROLE":"user","Content":[{"TYPE":"text","Text":"x"}]}]}`,
		`{"model":"claude","max_tokens":0,"messages":[]}`,
		`{"model":"claude","max_tokens":5,"messages":[null]}`,
		`{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":[{"type":"bogus","type":"text","text":"a"}]}]}`,
		`{"model":"claude","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":null}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole, werr := ParseRequest(body)
		scanned, serr := ScanRequest(body)
		if werr != nil {
			return
		}
		if serr != nil {
			t.Fatalf("the whole read accepts %q, the scan refuses it: %v", body, serr)
		}
		if scanned.Model != whole.Model || scanned.Stream != whole.Stream || scanned.MaxTokens != whole.MaxTokens || string(scanned.Raw) != string(body) {
			t.Fatalf("%q: scan %+v, whole %+v", body, scanned, whole)
		}
		if utf8.Valid(body) && (scanned.PromptBytes < len(whole.PromptText) || scanned.PromptExtra < whole.PromptExtra) {
			t.Fatalf("%q: scan measures %d bytes +%d, whole %d +%d", body, scanned.PromptBytes, scanned.PromptExtra, len(whole.PromptText), whole.PromptExtra)
		}
		if err := scanned.Complete(); err != nil {
			t.Fatalf("%q: complete: %v", body, err)
		}
		if scanned.PromptText != whole.PromptText || scanned.PromptExtra != whole.PromptExtra || scanned.Chat == nil {
			t.Fatalf("%q: completed %+v, whole %+v", body, scanned, whole)
		}
	})
}

// The scan of a plain Messages body allocates only the request and the
// model name.
func TestScanRequestAllocations(t *testing.T) {
	body := []byte(`{"model":"claude-x","max_tokens":256,"stream":true,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"url","url":"https://x"}}]}]}`)
	n := testing.AllocsPerRun(100, func() {
		if _, err := ScanRequest(body); err != nil {
			t.Fatal(err)
		}
	})
	if n > 2 && !raceflag.Enabled {
		t.Fatalf("%v allocations per scan", n)
	}
	req, _ := ScanRequest(body)
	if req.Model != "claude-x" || !req.Stream || req.MaxTokens != 256 || req.PromptExtra != 3+3+85 {
		t.Fatalf("%+v", req)
	}
}
