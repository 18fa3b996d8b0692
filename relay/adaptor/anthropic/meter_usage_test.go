package anthropic

import (
	"encoding/json"
	"testing"

	"switchyard/relay/adaptor/scan"
)

// FuzzUsageScan: MeterResponse's scan of a usage object equals what
// encoding/json decodes into Usage for any valid JSON, and fails exactly
// where the decode fails.
func FuzzUsageScan(f *testing.F) {
	for _, s := range []string{
		`{"input_tokens":25,"output_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":100}`,
		`{"input_tokens":25,"output_tokens":12,"server_tool_use":{"web_search_requests":1},"service_tier":"standard"}`,
		`{"INPUT_TOKENS":1,"input_tokens":2,"output_tokens":null}`,
		`{"input_tokens":2.0}`,
		`{"input_tokens":"2"}`,
		`null`, `{}`, `[]`, `7`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var want, got Usage
		werr := json.Unmarshal(b, &want)
		ok := scan.Ints(b, usageNames, &got.InputTokens, &got.OutputTokens, &got.CacheCreationInputTokens, &got.CacheReadInputTokens)
		if ok != (werr == nil) {
			t.Fatalf("%s: scan ok %v, decode error %v", b, ok, werr)
		}
		if ok && got != want {
			t.Fatalf("%s: scan %+v, decode %+v", b, got, want)
		}
	})
}
