package openai

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzUsageOf: the scanned usage equals what encoding/json decodes into
// Usage for any valid JSON, and fails exactly where the decode fails.
func FuzzUsageOf(f *testing.F) {
	for _, s := range []string{
		`{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}`,
		`{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":3}}`,
		`{"PROMPT_TOKENS":1,"prompt_tokens":2}`,
		`{"prompt_tokens":null,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":null}}`,
		`{"prompt_cache_hit_tokens":7,"prompt_tokens":10}`,
		`{"prompt_tokens":1.5}`,
		`{"prompt_tokens":"12"}`,
		`{"prompt_tokens_details":[]}`,
		`{"prompt_tokens_details":{"cached_tokens":1e2}}`,
		`{"prompt_tokens":-3,"other":{"prompt_tokens":99}}`,
		`{"prompt_tok\u0065ns":5}`,
		`null`,
		`[]`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var want Usage
		werr := json.Unmarshal(b, &want)
		got, ok := usageOf(b)
		if ok != (werr == nil) {
			t.Fatalf("%s: scan ok %v, decode error %v", b, ok, werr)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: scan %+v, decode %+v", b, got, want)
		}
	})
}
