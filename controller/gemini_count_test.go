package controller_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/genai"

	"switchyard/internal/fakegemini"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

// TestGeminiCountTokens: POST /v1beta/models/{model}:countTokens with the
// genai SDK answers totalTokens as Google does: a Gemini channel's own
// countTokens counts (the body passed through, the channel's key), an
// Anthropic channel's count_tokens counts a Claude model converted, and
// any other channel's model is counted locally without going upstream.
// Counting is never billed.
func TestGeminiCountTokens(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		g := fakegemini.Start(fakegemini.Behavior{Key: "AIza-count", PromptTokens: 17})
		defer g.Close()
		an := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-count"})
		defer an.Close()
		oa := fakeupstream.Start(fakeupstream.Behavior{})
		defer oa.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "gemini", "type": 24, "key": "AIza-count", "base_url": g.URL, "models": "gemini-2.5-flash,gemini-latest",
			"model_mapping": `{"gemini-latest":"gemini-2.5-pro"}`})
		f.channel(t, map[string]any{"name": "claude", "type": 14, "key": "sk-ant-count", "base_url": an.URL, "models": "claude-sonnet-4-5"})
		f.channel(t, map[string]any{"name": "openai", "base_url": oa.URL, "models": "gpt-4o-mini"})
		c := genaiClient(t, app, f.tok.Key)
		ctx := context.Background()

		n, err := c.Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("How many tokens is this?"), nil)
		if err != nil || n.TotalTokens != 17 {
			t.Fatalf("Gemini channel: %v %+v", err, n)
		}
		last := g.Last()
		if last.Path != "/v1beta/models/gemini-2.5-flash:countTokens" || last.Header.Get("x-goog-api-key") != "AIza-count" ||
			strings.TrimSpace(string(last.Body)) != `{"contents":[{"parts":[{"text":"How many tokens is this?"}],"role":"user"}]}` {
			t.Fatalf("upstream call %s %q %s", last.Path, last.Header.Get("x-goog-api-key"), last.Body)
		}
		// A mapped model: the path and a generateContentRequest's model
		// both name the upstream's model, the rest passes as sent.
		st, body := geminiPost(t, app, "/v1beta/models/gemini-latest:countTokens", f.tok.Key,
			`{"generateContentRequest":{"model":"models/gemini-latest","systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}}`)
		if st != 200 || body != `{"totalTokens":17}` {
			t.Fatalf("mapped model: %d %s", st, body)
		}
		if last := g.Last(); last.Path != "/v1beta/models/gemini-2.5-pro:countTokens" || !strings.Contains(string(last.Body), `"model":"models/gemini-2.5-pro"`) || !strings.Contains(string(last.Body), `"systemInstruction":{"parts":[{"text":"Be brief."}]}`) {
			t.Fatalf("mapped upstream call %s %s", last.Path, last.Body)
		}

		// Claude through an Anthropic channel: converted, counted there.
		n, err = c.Models.CountTokens(ctx, "claude-sonnet-4-5", genai.Text("How many tokens is this?"), nil)
		if want := fakeupstream.CountTokens(an.LastBody()); err != nil || want <= 0 || int(n.TotalTokens) != want || !strings.Contains(string(an.LastBody()), "How many tokens is this?") {
			t.Fatalf("Anthropic channel: %v %+v, upstream counted %d from %s", err, n, want, an.LastBody())
		}

		// An OpenAI channel cannot count: the relay does, locally.
		short, err := c.Models.CountTokens(ctx, "gpt-4o-mini", genai.Text("How many tokens is this?"), nil)
		if err != nil || short.TotalTokens < 5 || short.TotalTokens > 30 {
			t.Fatalf("local count: %v %+v", err, short)
		}
		long, err := c.Models.CountTokens(ctx, "gpt-4o-mini", genai.Text(strings.Repeat("many more words here ", 20)), nil)
		if err != nil || long.TotalTokens <= short.TotalTokens+60 {
			t.Fatalf("longer local count: %v %d vs %d", err, long.TotalTokens, short.TotalTokens)
		}
		if oa.Calls() != 0 {
			t.Fatalf("the OpenAI channel was asked %d times", oa.Calls())
		}

		// A Gemini channel that fails is not the client's problem: counted
		// locally.
		g.Set(fakegemini.Behavior{Key: "AIza-count", FailStatus: 500})
		n, err = c.Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("How many tokens is this?"), nil)
		if err != nil || n.TotalTokens == 0 || n.TotalTokens == 17 {
			t.Fatalf("after the channel failed: %v %+v", err, n)
		}
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 0 {
			t.Fatalf("counting was billed: %+v", logs)
		}
	})
}

// TestGeminiCountTokensRefusals: bad bodies, keys and models are refused
// in Google's error shape, before anything goes upstream.
func TestGeminiCountTokensRefusals(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		g := fakegemini.Start(fakegemini.Behavior{Key: "AIza-count"})
		defer g.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "narrow", "unlimited_quota": true, "models": "gemini-2.5-flash"})
		f.channel(t, map[string]any{"name": "gemini", "type": 24, "key": "AIza-count", "base_url": g.URL, "models": "gemini-2.5-flash,gemini-2.5-pro"})
		ctx := context.Background()

		var apiErr genai.APIError
		_, err := genaiClient(t, app, "sk-wrong").Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("Hi"), nil)
		if !errors.As(err, &apiErr) || apiErr.Code != 401 || apiErr.Status != "UNAUTHENTICATED" {
			t.Fatalf("bad key: %v", err)
		}
		_, err = genaiClient(t, app, f.tok.Key).Models.CountTokens(ctx, "gemini-2.5-pro", genai.Text("Hi"), nil)
		if !errors.As(err, &apiErr) || apiErr.Code != 403 || apiErr.Status != "PERMISSION_DENIED" {
			t.Fatalf("a model the token may not use: %v", err)
		}
		ok := `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`
		for _, tc := range []struct {
			name, path, key, body, status string
		}{
			{"anonymous", "/v1beta/models/gemini-2.5-flash:countTokens", "", ok, "UNAUTHENTICATED"},
			{"a model outside the token's list", "/v1beta/models/nobody-serves-this:countTokens", f.tok.Key, ok, "PERMISSION_DENIED"},
			{"malformed JSON", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"contents":`, "INVALID_ARGUMENT"},
			{"not an object", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `[]`, "INVALID_ARGUMENT"},
			{"contents of the wrong type", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"contents":"hi"}`, "INVALID_ARGUMENT"},
			{"no contents", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{}`, "INVALID_ARGUMENT"},
			{"empty contents", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"contents":[]}`, "INVALID_ARGUMENT"},
			{"both forms", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generateContentRequest":{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}}`, "INVALID_ARGUMENT"},
			{"a request of the wrong type", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"generateContentRequest":"hi"}`, "INVALID_ARGUMENT"},
			{"a bad role", "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, "INVALID_ARGUMENT"},
			{"no model in the URL", "/v1beta/models/:countTokens", f.tok.Key, ok, "NOT_FOUND"},
		} {
			st, body := geminiPost(t, app, tc.path, tc.key, tc.body)
			if st < 400 || !strings.Contains(body, `"status":"`+tc.status+`"`) || !strings.Contains(body, `"code":`+strconv.Itoa(st)) {
				t.Fatalf("%s: %d %s", tc.name, st, body)
			}
		}
		if g.Calls() != 0 {
			t.Fatalf("refused counts went upstream %d times", g.Calls())
		}
		// Unicode and SQL-looking text are only text.
		st, body := geminiPost(t, app, "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, `{"contents":[{"role":"user","parts":[{"text":"héllo 世界 🚀'; DROP TABLE tokens; --"}]}]}`)
		if st != 200 || body != `{"totalTokens":9}` || !strings.Contains(string(g.Last().Body), "héllo 世界 🚀'; DROP TABLE tokens; --") {
			t.Fatalf("unicode: %d %s %s", st, body, g.Last().Body)
		}
		big := `{"contents":[{"role":"user","parts":[{"text":"` + strings.Repeat("a", int(app.Cfg.MaxRequestBodyMB)<<20) + `"}]}]}`
		if st, body := geminiPost(t, app, "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key, big); st != 413 {
			t.Fatalf("oversized: %d %.200s", st, body)
		}
	})
}

func geminiPost(t *testing.T, app *testkit.App, path, key, body string) (int, string) {
	t.Helper()
	h := map[string]string{}
	if key != "" {
		h["x-goog-api-key"] = key
	}
	return rawCall(t, "POST", app.URL+path, body, h)
}
