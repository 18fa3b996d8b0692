package controller_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/genai"

	"switchyard/internal/fakegemini"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

func genaiClient(t *testing.T, app *testkit.App, key string) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{APIKey: key, Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: app.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var genaiTools = []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{{
	Name: "get_weather", Description: "Current weather",
	Parameters: &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString}}, Required: []string{"city"}},
}}}}

// TestGeminiFrontPassesThroughToGemini: google.golang.org/genai against a
// Gemini channel; the body reaches the upstream byte for byte and the
// answer comes back as the upstream sent it.
func TestGeminiFrontPassesThroughToGemini(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		g := fakegemini.Start(fakegemini.Behavior{Key: "AIza-up", ThoughtsTokens: 2})
		defer g.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "gemini", "type": 24, "key": "AIza-up", "base_url": g.URL, "models": "gemini-2.5-flash"})
		c := genaiClient(t, app, f.tok.Key)
		ctx := context.Background()
		cfg := &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser), SafetySettings: []*genai.SafetySetting{{Category: genai.HarmCategoryHarassment, Threshold: genai.HarmBlockThresholdBlockOnlyHigh}}}

		resp, err := c.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("Hi"), cfg)
		if err != nil || resp.Text() != "Hello from fake Gemini" || resp.UsageMetadata.ThoughtsTokenCount != 2 {
			t.Fatalf("generateContent: %v %+v", err, resp)
		}
		// safetySettings has no neutral name: only a pass-through keeps it.
		if !strings.Contains(string(g.Last().Body), `"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_ONLY_HIGH"}]`) {
			t.Fatalf("the body was not passed through: %s", g.Last().Body)
		}
		if g.Last().Header.Get("x-goog-api-key") != "AIza-up" {
			t.Fatal("the client's relay key reached the upstream instead of the channel's")
		}

		var text strings.Builder
		var usage *genai.GenerateContentResponseUsageMetadata
		for r, err := range c.Models.GenerateContentStream(ctx, "gemini-2.5-flash", genai.Text("Hi"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			text.WriteString(r.Text())
			usage = r.UsageMetadata
		}
		if text.String() != "Hello from fake Gemini" || usage.CandidatesTokenCount != 3 {
			t.Fatalf("stream: %q %+v", text.String(), usage)
		}
		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 2 || logs[1].PromptTokens != 9 || logs[1].CompletionTokens != 5 || !logs[1].IsStream {
			t.Fatalf("logs %+v", logs)
		}
	})
}

// TestGeminiFrontConvertsForOpenAIChannels: the same SDK against an OpenAI
// channel: text, a stream and a function call come back in Gemini's shape.
func TestGeminiFrontConvertsForOpenAIChannels(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		oa := fakeupstream.Start(fakeupstream.Behavior{})
		defer oa.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "openai", "base_url": oa.URL, "models": "gpt-4o-mini"})
		c := genaiClient(t, app, f.tok.Key)
		ctx := context.Background()

		resp, err := c.Models.GenerateContent(ctx, "gpt-4o-mini", genai.Text("Hi"), &genai.GenerateContentConfig{MaxOutputTokens: 50, Temperature: genai.Ptr[float32](0.5)})
		if err != nil || resp.Text() != "Hello from the fake upstream" || resp.Candidates[0].FinishReason != genai.FinishReasonStop || resp.UsageMetadata.PromptTokenCount != 9 {
			t.Fatalf("generateContent: %v %+v", err, resp)
		}
		if body := string(oa.LastBody()); !strings.Contains(body, `"max_tokens":50`) && !strings.Contains(body, `"max_completion_tokens":50`) {
			t.Fatalf("generationConfig did not reach the OpenAI body: %s", body)
		}

		var text strings.Builder
		var finish genai.FinishReason
		for r, err := range c.Models.GenerateContentStream(ctx, "gpt-4o-mini", genai.Text("Hi"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			text.WriteString(r.Text())
			if len(r.Candidates) > 0 && r.Candidates[0].FinishReason != "" {
				finish = r.Candidates[0].FinishReason
			}
		}
		if text.String() != "Hello from the fake upstream" || finish != genai.FinishReasonStop {
			t.Fatalf("stream: %q %s", text.String(), finish)
		}

		resp, err = c.Models.GenerateContent(ctx, "gpt-4o-mini", genai.Text("Weather in Paris?"), &genai.GenerateContentConfig{Tools: genaiTools})
		if err != nil || len(resp.FunctionCalls()) != 1 || resp.FunctionCalls()[0].Name != "get_weather" || resp.FunctionCalls()[0].Args["city"] != "Paris" {
			t.Fatalf("function call: %v %+v", err, resp)
		}
		if body := string(oa.LastBody()); !strings.Contains(body, `"type":"string"`) {
			t.Fatalf("the OpenAPI schema was not turned into JSON Schema: %s", body)
		}
		for r, err := range c.Models.GenerateContentStream(ctx, "gpt-4o-mini", genai.Text("Weather in Paris?"), &genai.GenerateContentConfig{Tools: genaiTools}) {
			if err != nil {
				t.Fatal(err)
			}
			if fc := r.FunctionCalls(); len(fc) > 0 && (fc[0].Name != "get_weather" || fc[0].Args["city"] != "Paris") {
				t.Fatalf("streamed function call %+v", fc[0])
			}
		}
	})
}

// TestGeminiFrontErrorsInGooglesShape: every refusal on /v1beta is
// Google's error body, which the SDK raises as an APIError; keys are
// accepted from x-goog-api-key, ?key= and Bearer.
func TestGeminiFrontErrorsInGooglesShape(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		oa := fakeupstream.Start(fakeupstream.Behavior{})
		defer oa.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "openai", "base_url": oa.URL, "models": "gpt-4o-mini"})
		ctx := context.Background()

		var apiErr genai.APIError
		_, err := genaiClient(t, app, "sk-wrong").Models.GenerateContent(ctx, "gpt-4o-mini", genai.Text("Hi"), nil)
		if !errors.As(err, &apiErr) || apiErr.Code != 401 || apiErr.Status != "UNAUTHENTICATED" {
			t.Fatalf("bad key: %v", err)
		}
		_, err = genaiClient(t, app, f.tok.Key).Models.GenerateContent(ctx, "nobody-serves-this", genai.Text("Hi"), nil)
		if !errors.As(err, &apiErr) || apiErr.Code != 404 || apiErr.Status != "NOT_FOUND" {
			t.Fatalf("unknown model: %v", err)
		}

		post := func(path, body string, h map[string]string) (int, string) {
			req, _ := http.NewRequest("POST", app.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range h {
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
		ok := `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`
		for name, h := range map[string]map[string]string{
			"x-goog-api-key": {"x-goog-api-key": f.tok.Key},
			"bearer":         {"Authorization": "Bearer " + f.tok.Key},
		} {
			if st, b := post("/v1beta/models/gpt-4o-mini:generateContent", ok, h); st != 200 || !strings.Contains(b, `"candidates"`) {
				t.Fatalf("%s: %d %s", name, st, b)
			}
		}
		if st, b := post("/v1beta/models/gpt-4o-mini:generateContent?key="+f.tok.Key, ok, nil); st != 200 {
			t.Fatalf("?key=: %d %s", st, b)
		}
		if st, b := post("/v1beta/models/gpt-4o-mini:generateContent", ok, nil); st != 401 || !strings.Contains(b, `"status":"UNAUTHENTICATED"`) {
			t.Fatalf("anonymous: %d %s", st, b)
		}
		key := map[string]string{"x-goog-api-key": f.tok.Key}
		for _, tc := range []struct{ path, body, status string }{
			{"/v1beta/models/gpt-4o-mini:generateContent", `{"contents":`, "INVALID_ARGUMENT"},
			{"/v1beta/models/gpt-4o-mini:generateContent", `{"contents":"hi"}`, "INVALID_ARGUMENT"},
			{"/v1beta/models/gpt-4o-mini:generateContent", `{"contents":[]}`, "INVALID_ARGUMENT"},
			{"/v1beta/models/gpt-4o-mini:generateContent", `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, "INVALID_ARGUMENT"},
			{"/v1beta/models/gpt-4o-mini:generateContent", `{"contents":[{"role":"user","parts":[{"text":"' OR 1=1; --"}]}],"generationConfig":{"maxOutputTokens":-1}}`, "INVALID_ARGUMENT"},
			{"/v1beta/models/gpt-4o-mini:generateContent", `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "INVALID_ARGUMENT"},
			{"/v1beta/models/gpt-4o-mini:countTokensX", ok, "NOT_FOUND"},
			{"/v1beta/models/gpt-4o-mini", ok, "NOT_FOUND"},
		} {
			st, b := post(tc.path, tc.body, key)
			if !strings.Contains(b, `"status":"`+tc.status+`"`) || !strings.Contains(b, `"code":`+strconv.Itoa(st)) || st < 400 {
				t.Fatalf("%s %s: %d %s", tc.path, tc.body, st, b)
			}
		}
		// Unicode survives the conversion.
		if st, b := post("/v1beta/models/gpt-4o-mini:generateContent", `{"contents":[{"role":"user","parts":[{"text":"héllo 世界 🚀"}]}]}`, key); st != 200 || !strings.Contains(string(oa.LastBody()), "héllo 世界 🚀") {
			t.Fatalf("unicode: %d %s %s", st, b, oa.LastBody())
		}
	})
}

// TestGeminiFrontConvertsForAnthropicChannels: conversions compose: a
// Gemini client's function call round trip through a Claude channel.
func TestGeminiFrontConvertsForAnthropicChannels(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		an := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-good"})
		defer an.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "claude", "type": 14, "key": "sk-ant-good", "base_url": an.URL, "models": "claude-3-5-haiku-20241022"})
		c := genaiClient(t, app, f.tok.Key)
		ctx := context.Background()
		const m = "claude-3-5-haiku-20241022"
		resp, err := c.Models.GenerateContent(ctx, m, genai.Text("Weather in Paris?"), &genai.GenerateContentConfig{Tools: genaiTools})
		if err != nil || len(resp.FunctionCalls()) != 1 || resp.FunctionCalls()[0].Name != "get_weather" {
			t.Fatalf("function call: %v %+v", err, resp)
		}
		history := append(genai.Text("Weather in Paris?"), resp.Candidates[0].Content,
			genai.NewContentFromFunctionResponse("get_weather", map[string]any{"temp_c": 21}, genai.RoleUser))
		resp, err = c.Models.GenerateContent(ctx, m, history, &genai.GenerateContentConfig{Tools: genaiTools})
		if err != nil || resp.Text() != "Hello from the fake upstream" {
			t.Fatalf("after the function response: %v %+v", err, resp)
		}
		if body := string(an.LastBody()); !strings.Contains(body, `"tool_result"`) || !strings.Contains(body, `"tool_use_id"`) {
			t.Fatalf("the function response did not become a tool_result: %s", body)
		}
		var text strings.Builder
		for r, err := range c.Models.GenerateContentStream(ctx, m, genai.Text("Hi"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			text.WriteString(r.Text())
		}
		if text.String() != "Hello from the fake upstream" {
			t.Fatalf("stream %q", text.String())
		}
	})
}
