package vertex

import (
	"encoding/json"
	"testing"

	"switchyard/relay/adaptor"
)

func TestEmbeddingsBothWays(t *testing.T) {
	req := &adaptor.Request{Mode: adaptor.ModeEmbeddings, Model: "text-embedding-005", Input: []string{"a b", "c"},
		Fields: map[string]json.RawMessage{"dimensions": json.RawMessage(`256`)}}
	body, err := embedBody(req)
	if err != nil || string(body) != `{"instances":[{"content":"a b"},{"content":"c"}],"parameters":{"outputDimensionality":256}}` {
		t.Fatalf("body %s %v", body, err)
	}
	for _, bad := range []string{`"256"`, `-1`, `1.5`} {
		req.Fields["dimensions"] = json.RawMessage(bad)
		if _, err := embedBody(req); err == nil {
			t.Errorf("dimensions %s accepted", bad)
		}
	}
	ok := `{"predictions":[{"embeddings":{"values":[0.1,0.2],"statistics":{"token_count":2,"truncated":false}}},{"embeddings":{"values":[0.3],"statistics":{"token_count":1}}}]}`
	resp, err := embedResponse(req, []byte(ok))
	if err != nil || len(resp.Embeddings) != 2 || resp.Embeddings[1][0] != 0.3 || resp.Usage == nil || resp.Usage.PromptTokens != 3 {
		t.Fatalf("answer %+v %v", resp, err)
	}
	for name, body := range map[string]string{
		"fewer vectors than inputs": `{"predictions":[{"embeddings":{"values":[0.1]}}]}`,
		"a vector without values":   `{"predictions":[{"embeddings":{"values":[0.1]}},{"embeddings":{}}]}`,
		"not JSON":                  `<html>`,
	} {
		if _, err := embedResponse(req, []byte(body)); err == nil {
			t.Errorf("%s: read as an answer", name)
		}
	}
	// No statistics: no usage, so the relay counts locally.
	if resp, err := embedResponse(req, []byte(`{"predictions":[{"embeddings":{"values":[1]}},{"embeddings":{"values":[2]}}]}`)); err != nil || resp.Usage != nil {
		t.Fatalf("without statistics: %+v %v", resp, err)
	}
}
