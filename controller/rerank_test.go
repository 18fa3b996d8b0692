package controller_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"switchyard/internal/fakererank"
	"switchyard/internal/testkit"
)

// TestRerankAcrossVendors: POST /v1/rerank in the Cohere/Jina shape goes
// to Jina, SiliconFlow and Cohere channels unchanged, comes back as the
// vendor sent it, and is billed per token: the vendor's count, or the
// relay's own when Cohere reports search units.
func TestRerankAcrossVendors(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		jina := fakererank.Start(fakererank.Jina, "jina_key")
		defer jina.Close()
		sf := fakererank.Start(fakererank.SiliconFlow, "sk-sf")
		defer sf.Close()
		cohere := fakererank.Start(fakererank.Cohere, "co-key")
		defer cohere.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "jina", "type": 38, "key": "jina_key", "base_url": jina.URL, "models": "jina-reranker-v2-base-multilingual"})
		f.channel(t, map[string]any{"name": "siliconflow", "type": 44, "key": "sk-sf", "base_url": sf.URL, "models": "BAAI/bge-reranker-v2-m3"})
		f.channel(t, map[string]any{"name": "cohere", "type": 35, "key": "co-key", "base_url": cohere.URL, "models": "rerank-v3.5"})
		f.option(t, "ModelRatio", `{"BAAI/bge-reranker-v2-m3":0.01,"jina-reranker-v2-base-multilingual":0.025,"rerank-v3.5":0.5}`)

		post := func(key, body string) (int, map[string]json.RawMessage, string) {
			req, _ := http.NewRequest("POST", app.URL+"/v1/rerank", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			raw, _ := io.ReadAll(r.Body)
			var m map[string]json.RawMessage
			_ = json.Unmarshal(raw, &m)
			return r.StatusCode, m, string(raw)
		}
		q := func(model string) string {
			return `{"model":"` + model + `","query":"apple pie","documents":["banana bread","apple pie recipe",{"text":"pie charts"}],"top_n":2}`
		}
		for _, m := range []string{"jina-reranker-v2-base-multilingual", "BAAI/bge-reranker-v2-m3", "rerank-v3.5"} {
			st, out, raw := post(f.tok.Key, q(m))
			var results []struct {
				Index int     `json:"index"`
				Score float64 `json:"relevance_score"`
			}
			if st != 200 || json.Unmarshal(out["results"], &results) != nil || len(results) != 2 || results[0].Index != 1 {
				t.Fatalf("%s: %d %s", m, st, raw)
			}
		}
		if !strings.Contains(string(cohere.LastBody()), `"documents":["banana bread","apple pie recipe",{"text":"pie charts"}]`) {
			t.Fatalf("the body was not passed through: %s", cohere.LastBody())
		}
		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 3 {
			t.Fatalf("%d logs", len(logs))
		}
		// Jina and SiliconFlow count 2 + 2 + 3 + 2 = 9 words as tokens; the
		// relay counts Cohere's call itself.
		if logs[0].PromptTokens != 9 || logs[1].PromptTokens != 9 || logs[2].PromptTokens == 0 || logs[2].CompletionTokens != 0 {
			t.Fatalf("rerank usage: %d %d %d", logs[0].PromptTokens, logs[1].PromptTokens, logs[2].PromptTokens)
		}
		for _, l := range logs {
			if l.Quota <= 0 {
				t.Fatalf("an unbilled rerank: %+v", l)
			}
		}

		if st, _, raw := post("", q("rerank-v3.5")); st != 401 || !strings.Contains(raw, `"error":{`) {
			t.Fatalf("anonymous: %d %s", st, raw)
		}
		for _, bad := range []string{
			`{"model":"rerank-v3.5","query":"x","documents":[]}`,
			`{"model":"rerank-v3.5","documents":["a"]}`,
			`{"query":"x","documents":["a"]}`,
			`{"model":"rerank-v3.5","query":"x","documents":[1,2]}`,
			`{"model":"rerank-v3.5","query":"x","documents":["a"],"top_n":-1}`,
			`{"model":"rerank-v3.5","query":"x","documents":"a"}`,
			`{"model":"rerank-v3.5"`,
		} {
			if st, _, raw := post(f.tok.Key, bad); st != 400 || !strings.Contains(raw, `"error":{`) {
				t.Fatalf("%s: %d %s", bad, st, raw)
			}
		}
		if st, _, raw := post(f.tok.Key, `{"model":"rerank-v3.5","query":"' OR 1=1 --","documents":["café ☕","日本語"]}`); st != 200 {
			t.Fatalf("unicode and SQL-ish text: %d %s", st, raw)
		}
	})
}
