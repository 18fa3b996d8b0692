package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

// TestEngineEmbeddingsTakeTheModelFromThePath: OpenAI's older path,
// POST /v1/engines/{model}/embeddings, as One API relays it. A body that
// names no model is sent upstream to /v1/embeddings with the path's, and
// billed and logged under it; a body that names one keeps it. Bad bodies
// and models the token may not use are refused in OpenAI's error shape,
// with nothing billed.
func TestEngineEmbeddingsTakeTheModelFromThePath(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "emb", "unlimited_quota": true, "models": "text-embedding-3-small,text-embedding-3-large"})
		f.channel(t, map[string]any{"name": "emb", "base_url": up.URL, "models": "text-embedding-3-small,text-embedding-3-large,text-embedding-ada-002"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		var out openai.CreateEmbeddingResponse
		if err := c.Post(ctx, "engines/text-embedding-3-small/embeddings", map[string]any{"input": "héllo ✓"}, &out); err != nil || len(out.Data) != 1 {
			t.Fatalf("engines embeddings: %v %+v", err, out)
		}
		if got := up.Last(); got.Path != "/v1/embeddings" || !strings.Contains(string(got.Body), `"model":"text-embedding-3-small"`) || !strings.Contains(string(got.Body), `"input":"héllo ✓"`) {
			t.Fatalf("upstream got %s %s", got.Path, got.Body)
		}
		// A body's own model wins over the path's, as in One API.
		if err := c.Post(ctx, "engines/text-embedding-3-small/embeddings", map[string]any{"model": "text-embedding-3-large", "input": []string{"a", "b"}}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(up.LastBody()), `"model":"text-embedding-3-large"`) {
			t.Fatalf("upstream body %s", up.LastBody())
		}
		// An empty or null model is no model: the path's stands in.
		for _, body := range []string{`{"model":"","input":"x"}`, `{"model":null,"input":"x"}`} {
			status, _ := postEngines(t, f.app.URL, f.tok.Key, "text-embedding-3-small", body)
			if status != 200 || !strings.Contains(string(up.LastBody()), `"model":"text-embedding-3-small"`) {
				t.Fatalf("%s: status %d, upstream body %s", body, status, up.LastBody())
			}
		}
		logs := f.consumeLogs(t)
		if len(logs) != 4 || logs[0].ModelName != "text-embedding-3-small" || logs[1].ModelName != "text-embedding-3-large" {
			t.Fatalf("consume logs %+v", logs)
		}

		// A second token of the same user, for any model.
		var open tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "open", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &open)
		bad := []struct {
			name, model, body string
			status            int
			want              string
			anyModel          bool
		}{
			{"malformed JSON", "text-embedding-3-small", `{"input":`, 400, "not a JSON object", false},
			{"not an object", "text-embedding-3-small", `["input"]`, 400, "not a JSON object", false},
			{"wrong model type", "text-embedding-3-small", `{"model":7,"input":"x"}`, 400, "model", false},
			{"no input", "text-embedding-3-small", `{}`, 400, "input is required", false},
			{"model the token may not use", "text-embedding-ada-002", `{"input":"x"}`, 403, "may not use model", false},
			{"model nobody serves", "no-such-model", `{"input":"x"}`, 404, "no channel serves", true},
			{"SQL-ish model", "x'%20OR%20'1'='1", `{"input":"x"}`, 403, "may not use model", false},
			{"unicode model", "模型", `{"input":"x"}`, 403, "may not use model", false},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				key := f.tok.Key
				if tc.anyModel {
					key = open.Key
				}
				status, e := postEngines(t, f.app.URL, key, tc.model, tc.body)
				if status != tc.status || !strings.Contains(e.Error.Message, tc.want) || !strings.Contains(e.Error.Message, "request id") {
					t.Fatalf("status %d, error %+v", status, e)
				}
			})
		}
		if n := len(f.consumeLogs(t)); n != 4 {
			t.Fatalf("%d consume logs after refused calls, want 4", n)
		}
		// No token, no call.
		req, _ := http.NewRequest("POST", app.URL+"/v1/engines/text-embedding-3-small/embeddings", strings.NewReader(`{"input":"x"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("anonymous: status %d", resp.StatusCode)
		}
	})
}

type openAIErrorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Param   string `json:"param"`
	} `json:"error"`
}

func postEngines(t *testing.T, base, key, model, body string) (int, openAIErrorBody) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/engines/"+model+"/embeddings", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e openAIErrorBody
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("status %d, body %s is not OpenAI's error shape", resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, e
}
