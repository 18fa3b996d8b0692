package openai

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"switchyard/internal/raceflag"

	"switchyard/relay/adaptor"
)

// FuzzScanChat: the scan never panics, accepts every chat body the whole
// read accepts, reads the same model, stream, usage option and budget,
// and its prompt measure bounds the whole read's from above. Complete
// then gives the whole read's request.
func FuzzScanChat(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"max_tokens":9223372036854775807,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]}]}`,
		`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"model":"m","messages":[{"Role":"user","name":"n","CONTENT":[{"type":"text","text":"a\u00e9\n"},null,{"type":"input_text","text":"b"}]}],"stream":null,"max_completion_tokens":7,"max_tokens":null}`,
		`{"model":"m\u00e9","stream":true,"stream_options":{"include_usage":false,"include_usage":true},"messages":[null]}`,
		`{"model":"m","messages":[]}`,
		`{"model":"m","stream":"yes","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","max_tokens":1.0,"messages":[{"role":"user","content":"hi"}]}`,
		` {"model" : "m" , "messages" : [ { "role" : "user" , "content" : "hi" } ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI}
		werr := ParseJSON(body, whole)
		scanned := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI}
		serr := ScanChat(body, scanned)
		if werr != nil {
			return
		}
		if serr != nil {
			t.Fatalf("the whole read accepts %q, the scan refuses it: %v", body, serr)
		}
		if scanned.Model != whole.Model || scanned.Stream != whole.Stream || scanned.IncludeUsage != whole.IncludeUsage || scanned.MaxTokens != whole.MaxTokens {
			t.Fatalf("%q: scan %+v, whole %+v", body, scanned, whole)
		}
		if utf8.Valid(body) && (scanned.PromptBytes < len(whole.PromptText) || scanned.PromptExtra < whole.PromptExtra) {
			t.Fatalf("%q: scan measures %d bytes +%d, whole %d +%d", body, scanned.PromptBytes, scanned.PromptExtra, len(whole.PromptText), whole.PromptExtra)
		}
		if err := scanned.Complete(); err != nil {
			t.Fatalf("%q: complete: %v", body, err)
		}
		if scanned.PromptText != whole.PromptText || scanned.PromptExtra != whole.PromptExtra || scanned.Chat == nil || scanned.PromptBytes != 0 {
			t.Fatalf("%q: completed %+v, whole %+v", body, scanned, whole)
		}
	})
}

// The scan of a plain chat body allocates nothing beyond the model name.
func TestScanChatAllocations(t *testing.T) {
	body := []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"max_tokens":64,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`)
	req := &adaptor.Request{}
	n := testing.AllocsPerRun(100, func() {
		*req = adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI}
		if err := ScanChat(body, req); err != nil {
			t.Fatal(err)
		}
	})
	if n > 1 && !raceflag.Enabled {
		t.Fatalf("%v allocations per scan", n)
	}
	if req.Model != "gpt-4o-mini" || !req.Stream || !req.IncludeUsage || req.MaxTokens != 64 || req.PromptExtra != 3+3+3+85 {
		t.Fatalf("%+v", req)
	}
}

// BenchmarkScanChatLongPrompt reads a 100 KB prompt, the size where the
// body's passes show: json.Valid alone took 0.26 ms of it before scan.Valid.
func BenchmarkScanChatLongPrompt(b *testing.B) {
	msg := strings.Repeat("The quick brown fox jumps over the lazy dog while the relay reads the prompt of a long conversation once more.\n", 100<<10/110)
	body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{{"role": "user", "content": msg}}, "max_tokens": 100})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var r adaptor.Request
		if err := ScanChat(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}
