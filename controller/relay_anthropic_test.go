package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aopt "github.com/anthropics/anthropic-sdk-go/option"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

// anthropicError checks err is Anthropic's error shape with status and
// type.
func anthropicError(t *testing.T, err error, status int, typ string) {
	t.Helper()
	var e *anthropic.Error
	if !errors.As(err, &e) || e.StatusCode != status {
		t.Fatalf("want Anthropic error %d %s, got %v", status, typ, err)
	}
	raw := e.RawJSON()
	if !strings.Contains(raw, `"type":"error"`) || !strings.Contains(raw, `"type":"`+typ+`"`) {
		t.Fatalf("not Anthropic's error shape for %s: %s", typ, raw)
	}
}

// rawCall sends a request with headers and returns status and body.
func rawCall(t *testing.T, method, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

func TestAnthropicModelsList(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 1_000_000, nil)
		var names []string
		for i := range 25 {
			names = append(names, fmt.Sprintf("claude-test-%02d", i))
		}
		f.channel(t, map[string]any{"name": "many", "base_url": up.URL, "models": strings.Join(names, ",")})
		c := f.anthropic(f.tok.Key)
		ctx := context.Background()

		// Auto-paging walks the whole list by after_id, 20 a page.
		var got []string
		pager := c.Models.ListAutoPaging(ctx, anthropic.ModelListParams{})
		for pager.Next() {
			m := pager.Current()
			if m.Type != "model" || m.DisplayName != m.ID || m.CreatedAt.IsZero() {
				t.Fatalf("model %+v", m)
			}
			got = append(got, m.ID)
		}
		if pager.Err() != nil || strings.Join(got, ",") != strings.Join(names, ",") {
			t.Fatalf("auto paging: %v %v", pager.Err(), got)
		}
		page, err := c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(2), AfterID: anthropic.String("claude-test-03")})
		if err != nil || len(page.Data) != 2 || !page.HasMore || page.FirstID != "claude-test-04" || page.LastID != "claude-test-05" {
			t.Fatalf("after page: %v %+v", err, page)
		}
		page, err = c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(3), BeforeID: anthropic.String("claude-test-02")})
		if err != nil || len(page.Data) != 2 || page.HasMore || page.FirstID != "claude-test-00" || page.LastID != "claude-test-01" {
			t.Fatalf("before page: %v %+v", err, page)
		}
		page, err = c.Models.List(ctx, anthropic.ModelListParams{AfterID: anthropic.String("zzz'; DROP TABLE abilities; --")})
		if err != nil || len(page.Data) != 0 || page.HasMore || page.FirstID != "" {
			t.Fatalf("past the end: %v %+v", err, page)
		}
		m, err := c.Models.Get(ctx, "claude-test-07", anthropic.ModelGetParams{})
		if err != nil || m.ID != "claude-test-07" || m.Type != "model" {
			t.Fatalf("get: %v %+v", err, m)
		}
		_, err = c.Models.Get(ctx, "claude-nobody-serves", anthropic.ModelGetParams{})
		anthropicError(t, err, 404, "not_found_error")

		// A token's allow-list narrows the Anthropic list as the OpenAI one.
		var narrow tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "two", "unlimited_quota": true, "models": "claude-test-01,claude-test-09"}).Want(t, 200, true).Decode(t, &narrow)
		page, err = f.anthropic(narrow.Key).Models.List(ctx, anthropic.ModelListParams{})
		if err != nil || len(page.Data) != 2 || page.FirstID != "claude-test-01" || page.LastID != "claude-test-09" {
			t.Fatalf("narrowed: %v %+v", err, page)
		}

		// Authentication fails in Anthropic's shape for Anthropic callers.
		_, err = f.anthropic("sk-not-a-real-key").Models.List(ctx, anthropic.ModelListParams{})
		anthropicError(t, err, 401, "authentication_error")
		av := map[string]string{"anthropic-version": "2023-06-01"}
		status, body := rawCall(t, "GET", app.URL+"/v1/models", "", av)
		if status != 401 || !strings.Contains(body, `"authentication_error"`) || !strings.Contains(body, `"type":"error"`) {
			t.Fatalf("anonymous: %d %s", status, body)
		}
		// Bad paging input is a 400 in Anthropic's shape.
		av["x-api-key"] = f.tok.Key
		for _, q := range []string{"limit=0", "limit=1001", "limit=abc", "limit=%F0%9F%8C%8D", "after_id=a&before_id=b"} {
			status, body := rawCall(t, "GET", app.URL+"/v1/models?"+q, "", av)
			if status != 400 || !strings.Contains(body, `"invalid_request_error"`) || !strings.Contains(body, `"type":"error"`) {
				t.Fatalf("%s: %d %s", q, status, body)
			}
		}
		// Without anthropic-version the list keeps OpenAI's shape.
		models, err := f.client(f.tok.Key).Models.List(ctx)
		if err != nil || len(models.Data) != 25 || models.Data[0].Object != "model" {
			t.Fatalf("openai list: %v", err)
		}
		ids := make([]string, len(models.Data))
		for i, m := range models.Data {
			ids[i] = m.ID
		}
		if !sort.StringsAreSorted(ids) {
			t.Fatalf("openai list unsorted: %v", ids)
		}
		// Admins and root list through their own tokens the same way.
		var rootTok tokenReply
		f.root.Do("POST", "/api/token/", map[string]any{"name": "root", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &rootTok)
		if page, err := f.anthropic(rootTok.Key).Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(1000)}); err != nil || len(page.Data) != 25 {
			t.Fatalf("root: %v", err)
		}
	})
}

func countParams(model string) anthropic.MessageCountTokensParams {
	return anthropic.MessageCountTokensParams{
		Model:    anthropic.Model(model),
		System:   anthropic.MessageCountTokensParamsSystemUnion{OfString: anthropic.String("You are terse.")},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How many tokens are in this short question?"))},
	}
}

// Without an Anthropic channel the relay counts locally; nothing is billed
// and nothing goes upstream.
func TestCountTokensLocally(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 1_000_000, map[string]any{"name": "narrow", "unlimited_quota": true, "models": "claude-sonnet-4-5"})
		f.channel(t, map[string]any{"name": "openai", "type": 1, "base_url": up.URL, "models": "claude-sonnet-4-5,gpt-4.1"})
		c := f.anthropic(f.tok.Key)
		ctx := context.Background()
		n, err := c.Messages.CountTokens(ctx, countParams("claude-sonnet-4-5"))
		if err != nil || n.InputTokens < 10 || n.InputTokens > 40 {
			t.Fatalf("local count: %v %+v", err, n)
		}
		longer := countParams("claude-sonnet-4-5")
		longer.Messages = append(longer.Messages, anthropic.NewAssistantMessage(anthropic.NewTextBlock(strings.Repeat("many more words here ", 20))))
		m, err := c.Messages.CountTokens(ctx, longer)
		if err != nil || m.InputTokens <= n.InputTokens+60 {
			t.Fatalf("longer count: %v %d vs %d", err, m.InputTokens, n.InputTokens)
		}
		if up.Calls() != 0 {
			t.Fatalf("an OpenAI channel was asked %d times", up.Calls())
		}
		if n := countLogs(t, app, f.tok.ID); n != 0 {
			t.Fatalf("%d consume logs for counting", n)
		}

		// Errors in Anthropic's shape: the model, the token, the body.
		_, err = c.Messages.CountTokens(ctx, countParams("gpt-4.1"))
		anthropicError(t, err, 403, "permission_error")
		var all tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "all", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &all)
		_, err = f.anthropic(all.Key).Messages.CountTokens(ctx, countParams("claude-nobody-serves"))
		anthropicError(t, err, 404, "not_found_error")
		_, err = f.anthropic("sk-wrong").Messages.CountTokens(ctx, countParams("claude-sonnet-4-5"))
		anthropicError(t, err, 401, "authentication_error")
		h := map[string]string{"x-api-key": f.tok.Key, "anthropic-version": "2023-06-01"}
		for _, body := range []string{
			`{"model":"claude-sonnet-4-5"`,
			`[]`,
			`{"messages":[{"role":"user","content":"hi"}]}`,
			`{"model":"claude-sonnet-4-5"}`,
			`{"model":"claude-sonnet-4-5","messages":[]}`,
			`{"model":"claude-sonnet-4-5","messages":[{"role":"robot","content":"hi"}]}`,
			`{"model":"claude-sonnet-4-5","messages":"hi"}`,
			`{"model":["x"],"messages":[{"role":"user","content":"hi"}]}`,
			`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"sometimes"}}`,
		} {
			status, got := rawCall(t, "POST", app.URL+"/v1/messages/count_tokens", body, h)
			if status != 400 || !strings.Contains(got, `"type":"error"`) || !strings.Contains(got, `"invalid_request_error"`) {
				t.Fatalf("%s: %d %s", body, status, got)
			}
		}
		status, got := rawCall(t, "POST", app.URL+"/v1/messages/count_tokens", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"héllo 🌍'; DROP TABLE tokens; --"}]}`, h)
		if status != 200 || !strings.Contains(got, `"input_tokens":`) {
			t.Fatalf("unicode: %d %s", status, got)
		}
		status, got = rawCall(t, "POST", app.URL+"/v1/messages/count_tokens", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"anthropic-version": "2023-06-01"})
		if status != 401 || !strings.Contains(got, `"authentication_error"`) {
			t.Fatalf("anonymous: %d %s", status, got)
		}
		big := `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"` + strings.Repeat("a", int(app.Cfg.MaxRequestBodyMB)<<20) + `"}]}`
		if status, got := rawCall(t, "POST", app.URL+"/v1/messages/count_tokens", big, h); status != 413 || !strings.Contains(got, `"request_too_large"`) {
			t.Fatalf("oversized: %d %.200s", status, got)
		}
	})
}

// An Anthropic channel serving the model counts exactly with its own
// count_tokens; the client's body goes there as it came, model aside.
func TestCountTokensExactFromAnAnthropicChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		openaiUp := fakeupstream.Start(fakeupstream.Behavior{})
		defer openaiUp.Close()
		up := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-count"})
		defer up.Close()
		f := newRelayFixture(t, app, 1_000_000, nil)
		// The OpenAI channel ranks first but cannot count; the Anthropic one
		// serves the model under another name.
		f.channel(t, map[string]any{"name": "openai", "type": 1, "base_url": openaiUp.URL, "models": "claude-sonnet-4-5", "priority": 10})
		f.channel(t, map[string]any{"name": "claude", "type": 14, "key": "sk-ant-count", "base_url": up.URL, "models": "claude-sonnet-4-5",
			"model_mapping": `{"claude-sonnet-4-5":"claude-sonnet-4-5-20250929"}`})
		c := f.anthropic(f.tok.Key)
		ctx := context.Background()

		p := countParams("claude-sonnet-4-5")
		p.Tools = []anthropic.MessageCountTokensToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather",
			InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}}}}
		n, err := c.Messages.CountTokens(ctx, p, aopt.WithHeader("anthropic-beta", "token-counting-2024-11-01"))
		if err != nil {
			t.Fatal(err)
		}
		sent := up.LastBody()
		if want := fakeupstream.CountTokens(sent); n.InputTokens != int64(want) || want <= 0 {
			t.Fatalf("count %d, the channel counted %d", n.InputTokens, want)
		}
		if !strings.Contains(string(sent), `"model":"claude-sonnet-4-5-20250929"`) || strings.Contains(string(sent), "max_tokens") ||
			up.CallsTo("/v1/messages/count_tokens") != 1 || up.LastHeader().Get("x-api-key") != "sk-ant-count" ||
			up.LastHeader().Get("anthropic-beta") != "token-counting-2024-11-01" || openaiUp.Calls() != 0 {
			t.Fatalf("sent %s headers %v", sent, up.LastHeader())
		}

		// A channel that fails to count leaves the count to the tokenizer;
		// the caller still gets an answer.
		up.Set(fakeupstream.Behavior{Key: "sk-ant-count", FailStatus: 529})
		m, err := c.Messages.CountTokens(ctx, countParams("claude-sonnet-4-5"))
		if err != nil || m.InputTokens <= 0 || up.CallsTo("/v1/messages/count_tokens") != 2 {
			t.Fatalf("fallback: %v %+v", err, m)
		}
		if n := countLogs(t, app, f.tok.ID); n != 0 {
			t.Fatalf("%d consume logs for counting", n)
		}
	})
}
