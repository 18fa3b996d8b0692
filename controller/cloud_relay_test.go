package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"google.golang.org/genai"

	"switchyard/internal/fakebedrock"
	"switchyard/internal/fakeclaude"
	"switchyard/internal/fakegemini"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/fakevertex"
	"switchyard/internal/testkit"
	"switchyard/model"
)

func configJSON(t *testing.T, kv map[string]string) string {
	t.Helper()
	b, err := json.Marshal(kv)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkChat runs the SDK's four chat shapes against model: whole and
// streamed, plain and with a tool call.
func checkChat(t *testing.T, c *openai.Client, modelName, reply string) {
	t.Helper()
	ctx := context.Background()
	resp, err := c.Chat.Completions.New(ctx, chat(modelName))
	if err != nil || resp.Choices[0].Message.Content != reply || resp.Usage.PromptTokens == 0 {
		t.Fatalf("%s chat: %v %+v", modelName, err, resp)
	}
	text, acc := streamAll(t, c, chat(modelName))
	if text != reply || acc.Usage.CompletionTokens == 0 {
		t.Fatalf("%s stream: %q %+v", modelName, text, acc.Usage)
	}
	resp, err = c.Chat.Completions.New(ctx, withTools(modelName))
	if err != nil || resp.Choices[0].FinishReason != "tool_calls" || resp.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("%s tool call: %v %+v", modelName, err, resp)
	}
	var args map[string]string
	if json.Unmarshal([]byte(resp.Choices[0].Message.ToolCalls[0].Function.Arguments), &args) != nil || args["city"] != "Paris" {
		t.Fatalf("%s tool arguments %q", modelName, resp.Choices[0].Message.ToolCalls[0].Function.Arguments)
	}
	p := withTools(modelName)
	p.Messages = append(p.Messages, resp.Choices[0].Message.ToParam(), openai.ToolMessage(`{"temp_c":21}`, resp.Choices[0].Message.ToolCalls[0].ID))
	if resp, err = c.Chat.Completions.New(ctx, p); err != nil || resp.Choices[0].Message.Content != reply {
		t.Fatalf("%s after the tool result: %v %+v", modelName, err, resp)
	}
	_, acc = streamAll(t, c, withTools(modelName))
	if len(acc.Choices) == 0 || len(acc.Choices[0].Message.ToolCalls) != 1 || json.Unmarshal([]byte(acc.Choices[0].Message.ToolCalls[0].Function.Arguments), &args) != nil || args["city"] != "Paris" {
		t.Fatalf("%s streamed tool call: %+v", modelName, acc.Choices)
	}
}

// TestVertexChannelServesGeminiAndClaude: one Vertex AI channel (type 42)
// serves Gemini and Claude models to an OpenAI client, signing in with
// its service account once.
func TestVertexChannelServesGeminiAndClaude(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		v := fakevertex.Start("proj-sy", "us-east5", fakevertex.Behavior{Claude: fakeclaude.Behavior{CacheRead: 3}})
		defer v.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		vID := f.channel(t, map[string]any{"name": "vertex", "type": 42, "key": "unused", "base_url": v.URL,
			"models": "gemini-2.5-flash,claude-sonnet-4-5@20250929",
			"config": configJSON(t, map[string]string{"vertex_ai_adc": v.ServiceAccountJSON(), "vertex_ai_project_id": "proj-sy", "region": "us-east5"})})
		c := f.client(f.tok.Key)
		checkChat(t, c, "gemini-2.5-flash", "Hello from fake Gemini")
		checkChat(t, c, "claude-sonnet-4-5@20250929", "Hello from fake Claude")
		for _, m := range []string{"gemini-2.5-flash", "claude-sonnet-4-5@20250929"} {
			if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=%s", vID, m), nil); !tr.Success {
				t.Fatalf("channel test of %s: %s", m, tr.Raw)
			}
		}
		if v.TokensMinted() != 1 {
			t.Fatalf("%d access tokens for one channel", v.TokensMinted())
		}
		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 10 {
			t.Fatalf("%d logs for 10 calls", len(logs))
		}
		// Claude's input_tokens excludes cache reads: the prompt is both.
		if l := logs[5]; l.PromptTokens != 9+3 || l.Quota <= 0 {
			t.Fatalf("Claude log %+v", l)
		}
	})
}

// TestBedrockChannelServesClaudeAndOthers: a Bedrock channel (type 33)
// signs with the config's ak/sk/region and serves Claude (InvokeModel)
// and Nova (Converse).
func TestBedrockChannelServesClaudeAndOthers(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		b := fakebedrock.Start("AKIDSWITCHYARD", "bedrock-secret", "us-west-2", fakebedrock.Behavior{})
		defer b.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		bID := f.channel(t, map[string]any{"name": "bedrock", "type": 33, "key": "unused", "base_url": b.URL,
			"models": "claude-3-5-haiku-20241022,amazon.nova-lite-v1:0",
			"config": configJSON(t, map[string]string{"ak": "AKIDSWITCHYARD", "sk": "bedrock-secret", "region": "us-west-2"})})
		c := f.client(f.tok.Key)
		checkChat(t, c, "claude-3-5-haiku-20241022", "Hello from fake Claude")
		checkChat(t, c, "amazon.nova-lite-v1:0", "Hello from fake Bedrock")
		// Claude through InvokeModel, Nova through Converse.
		if b.CallsTo("invoke") != 3 || b.CallsTo("invoke-with-response-stream") != 2 || b.CallsTo("converse") != 3 || b.CallsTo("converse-stream") != 2 {
			t.Fatalf("calls: %d invoke, %d invoke stream, %d converse, %d converse-stream",
				b.CallsTo("invoke"), b.CallsTo("invoke-with-response-stream"), b.CallsTo("converse"), b.CallsTo("converse-stream"))
		}
		if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", bID), nil); !tr.Success {
			t.Fatalf("channel test: %s", tr.Raw)
		}
		if b.CallsTo("invoke") != 4 {
			t.Fatal("the channel test of Claude did not go through InvokeModel")
		}
		if !strings.Contains(b.Last().Path, "claude-3-5-haiku-20241022-v1%3A0") {
			t.Fatalf("model id path %s", b.Last().Path)
		}
	})
}

// TestCloudChannelHealthAsOpenAIs: a Vertex service account Google
// refuses and a Bedrock key AWS does not know disable their channels; a
// rate-limited one is passed over and stays enabled.
func TestCloudChannelHealthAsOpenAIs(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		v := fakevertex.Start("proj-sy", "us-east5", fakevertex.Behavior{})
		defer v.Close()
		stranger := fakevertex.Start("proj-sy", "us-east5", fakevertex.Behavior{})
		defer stranger.Close()
		limitedV := fakevertex.Start("proj-sy", "us-east5", fakevertex.Behavior{FailStatus: 429})
		defer limitedV.Close()
		b := fakebedrock.Start("AKIDLIVE", "secret", "us-east-1", fakebedrock.Behavior{})
		defer b.Close()
		limitedB := fakebedrock.Start("AKIDLIVE", "secret", "us-east-1", fakebedrock.Behavior{FailStatus: 429})
		defer limitedB.Close()

		f := newRelayFixture(t, app, 10_000_000, nil)
		f.option(t, "AutomaticDisableChannelEnabled", "true")
		f.option(t, "RetryTimes", "3")
		vcfg := func(s *fakevertex.Server, adc string) string {
			return configJSON(t, map[string]string{"vertex_ai_adc": adc, "vertex_ai_project_id": "proj-sy", "region": "us-east5"})
		}
		// A key of another service account, pointed at v's token endpoint.
		forged := strings.ReplaceAll(strings.ReplaceAll(stranger.ServiceAccountJSON(), stranger.URL, v.URL), stranger.Email, v.Email)
		deadV := f.channel(t, map[string]any{"name": "vertex dead", "type": 42, "key": "-", "base_url": v.URL, "models": "gemini-2.5-flash", "priority": 10, "config": vcfg(v, forged)})
		limV := f.channel(t, map[string]any{"name": "vertex limited", "type": 42, "key": "-", "base_url": limitedV.URL, "models": "gemini-2.5-flash", "priority": 5, "config": vcfg(limitedV, limitedV.ServiceAccountJSON())})
		f.channel(t, map[string]any{"name": "vertex good", "type": 42, "key": "-", "base_url": v.URL, "models": "gemini-2.5-flash", "config": vcfg(v, v.ServiceAccountJSON())})
		bcfg := func(ak string) string {
			return configJSON(t, map[string]string{"ak": ak, "sk": "secret", "region": "us-east-1"})
		}
		deadB := f.channel(t, map[string]any{"name": "bedrock dead", "type": 33, "key": "-", "base_url": b.URL, "models": "claude-3-5-haiku-20241022", "priority": 10, "config": bcfg("AKIDGONE")})
		limB := f.channel(t, map[string]any{"name": "bedrock limited", "type": 33, "key": "-", "base_url": limitedB.URL, "models": "claude-3-5-haiku-20241022", "priority": 5, "config": bcfg("AKIDLIVE")})
		f.channel(t, map[string]any{"name": "bedrock good", "type": 33, "key": "-", "base_url": b.URL, "models": "claude-3-5-haiku-20241022", "config": bcfg("AKIDLIVE")})
		c := f.client(f.tok.Key)
		ctx := context.Background()
		for _, m := range []string{"gemini-2.5-flash", "claude-3-5-haiku-20241022"} {
			if _, err := c.Chat.Completions.New(ctx, chat(m)); err != nil {
				t.Fatalf("%s failover: %v", m, err)
			}
		}
		for name, id := range map[string]int{"vertex": deadV, "bedrock": deadB} {
			testkit.Eventually(t, 10*time.Second, "the dead "+name+" channel is disabled", func() bool {
				return channelStatus(app, id) == model.ChannelAutoDisabled
			})
		}
		if channelStatus(app, limV) != model.ChannelEnabled || channelStatus(app, limB) != model.ChannelEnabled {
			t.Fatal("a rate-limited channel was disabled")
		}
		if limitedV.CallsTo("generateContent") != 1 || limitedB.CallsTo("invoke") != 1 {
			t.Fatal("the rate-limited channels were not tried")
		}
	})
}

// TestCloudSecretsHidden: a Bedrock secret and a Vertex service account
// key in a channel's config are credentials like its key: the API hides
// them, and an edit that sends them back hidden keeps them.
func TestCloudSecretsHidden(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		b := fakebedrock.Start("AKIDSECRET", "the-secret", "us-east-1", fakebedrock.Behavior{})
		defer b.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		id := f.channel(t, map[string]any{"name": "bedrock", "type": 33, "key": "-", "base_url": b.URL, "models": "amazon.nova-lite-v1:0",
			"config": configJSON(t, map[string]string{"ak": "AKIDSECRET", "sk": "the-secret", "region": "us-east-1"})})
		var got channelReply
		r := f.root.Do("GET", fmt.Sprintf("/api/channel/%d", id), nil).Want(t, 200, true)
		r.Decode(t, &got)
		if strings.Contains(string(r.Raw), "the-secret") || !strings.Contains(got.Config, `"sk":"(hidden)"`) || !strings.Contains(got.Config, "AKIDSECRET") {
			t.Fatalf("config shown: %s", r.Raw)
		}
		if list := f.root.Do("GET", "/api/channel/?p=0", nil); strings.Contains(string(list.Raw), "the-secret") {
			t.Fatalf("the list shows the secret: %s", list.Raw)
		}
		// An edit that sends the hidden config back keeps the secret.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": id, "type": 33, "name": "bedrock renamed", "base_url": b.URL, "models": "amazon.nova-lite-v1:0", "config": got.Config}).Want(t, 200, true)
		if _, err := f.client(f.tok.Key).Chat.Completions.New(context.Background(), chat("amazon.nova-lite-v1:0")); err != nil {
			t.Fatalf("after an edit with the hidden secret: %v", err)
		}
		// A new secret replaces it.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": id, "type": 33, "name": "bedrock", "base_url": b.URL, "models": "amazon.nova-lite-v1:0",
			"config": configJSON(t, map[string]string{"ak": "AKIDSECRET", "sk": "a-wrong-secret", "region": "us-east-1"})}).Want(t, 200, true)
		if _, err := f.client(f.tok.Key).Chat.Completions.New(context.Background(), chat("amazon.nova-lite-v1:0")); err == nil {
			t.Fatal("a replaced (wrong) secret still signed correctly")
		}
	})
}

// TestCloudSecretsSealedAtRest: with CRYPTO_SECRET set, a Bedrock sk and a
// Vertex service account key are sealed in the channel's row as its key
// is (the access key id, region and project stay readable), the API
// keeps One API's config shape with them hidden, and calls still sign
// with them. A row left in clear (by an older version, before
// CRYPTO_SECRET was set, or imported from One API), its key included, is
// served as it is and sealed at the next start.
func TestCloudSecretsSealedAtRest(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"CRYPTO_SECRET": "config-secret"}, func(t *testing.T, app *testkit.App) {
		b := fakebedrock.Start("AKIDSEALED", "the-bedrock-secret", "us-east-1", fakebedrock.Behavior{})
		defer b.Close()
		v := fakevertex.Start("proj-sealed", "us-east5", fakevertex.Behavior{})
		defer v.Close()
		o := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-the-openai-key"})
		defer o.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		bcfg := configJSON(t, map[string]string{"ak": "AKIDSEALED", "sk": "the-bedrock-secret", "region": "us-east-1"})
		vcfg := configJSON(t, map[string]string{"vertex_ai_adc": v.ServiceAccountJSON(), "vertex_ai_project_id": "proj-sealed", "region": "us-east5"})
		bID := f.channel(t, map[string]any{"name": "bedrock", "type": 33, "key": "-", "base_url": b.URL, "models": "amazon.nova-lite-v1:0", "config": bcfg})
		vID := f.channel(t, map[string]any{"name": "vertex", "type": 42, "key": "-", "base_url": v.URL, "models": "gemini-2.5-flash", "config": vcfg})
		oID := f.channel(t, map[string]any{"name": "openai", "key": "sk-the-openai-key", "base_url": o.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		ctx := context.Background()
		calls := func(when string) {
			t.Helper()
			for _, m := range []string{"amazon.nova-lite-v1:0", "gemini-2.5-flash", "gpt-4o-mini"} {
				if _, err := c.Chat.Completions.New(ctx, chat(m)); err != nil {
					t.Fatalf("%s: %s: %v", when, m, err)
				}
			}
		}
		row := func(id int) map[string]string {
			t.Helper()
			var ch model.Channel
			if err := f.app.Store.DB.First(&ch, id).Error; err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			if err := json.Unmarshal([]byte(ch.Config), &m); err != nil {
				t.Fatalf("stored config is not One API's JSON object: %q", ch.Config)
			}
			return m
		}
		wantSealed := func(when string) {
			t.Helper()
			br, vr := row(bID), row(vID)
			if !strings.HasPrefix(br["sk"], "enc:v1:") || br["ak"] != "AKIDSEALED" || br["region"] != "us-east-1" {
				t.Fatalf("%s: Bedrock row %v", when, br)
			}
			if !strings.HasPrefix(vr["vertex_ai_adc"], "enc:v1:") || vr["vertex_ai_project_id"] != "proj-sealed" || vr["region"] != "us-east5" {
				t.Fatalf("%s: Vertex row %v", when, vr)
			}
			var och model.Channel
			if err := f.app.Store.DB.First(&och, oID).Error; err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(och.Key, "enc:v1:") || strings.Contains(och.Key, "the-openai-key") {
				t.Fatalf("%s: OpenAI channel key stored as %q", when, och.Key)
			}
			for _, r := range []map[string]string{br, vr} {
				for _, clear := range []string{"the-bedrock-secret", "PRIVATE KEY", v.Email} {
					if strings.Contains(fmt.Sprint(r), clear) {
						t.Fatalf("%s: a row holds %q in clear: %v", when, clear, r)
					}
				}
			}
		}
		wantSealed("created")
		calls("sealed")
		if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", bID), nil); !tr.Success {
			t.Fatalf("channel test of the sealed Bedrock channel: %s", tr.Raw)
		}

		var shown channelReply
		r := f.root.Do("GET", fmt.Sprintf("/api/channel/%d", bID), nil).Want(t, 200, true)
		r.Decode(t, &shown)
		var cfg map[string]string
		if err := json.Unmarshal([]byte(shown.Config), &cfg); err != nil || cfg["sk"] != model.HiddenConfig || cfg["ak"] != "AKIDSEALED" || strings.Contains(string(r.Raw), "enc:v1:") {
			t.Fatalf("API config %s", r.Raw)
		}
		// An edit that sends the hidden config back keeps the sealed secret.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": bID, "type": 33, "name": "bedrock renamed", "base_url": b.URL, "models": "amazon.nova-lite-v1:0", "config": shown.Config}).Want(t, 200, true)
		wantSealed("edited")
		calls("edited")

		// Rows in clear, as an older version or One API left them.
		for id, cfg := range map[int]string{bID: bcfg, vID: vcfg} {
			if err := app.Store.DB.Model(&model.Channel{}).Where("id = ?", id).Update("config", cfg).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Store.DB.Model(&model.Channel{}).Where("id = ?", oID).Update("key", "sk-the-openai-key").Error; err != nil {
			t.Fatal(err)
		}
		if err := app.Store.Channels.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		calls("clear rows")
		// The next start of the (master) node.
		if err := app.Store.Close(); err != nil {
			t.Fatal(err)
		}
		f.app = testkit.SecondNode(t, app)
		wantSealed("after a restart")
		c = f.client(f.tok.Key)
		calls("after a restart")
	})
}

// TestVertexEmbeddings: openai-go's embeddings against a Vertex AI
// channel go to the model's predict as Vertex documents it, come back
// in OpenAI's shape, and bill Vertex's own token counts; the channel
// test of an embedding model takes the same path.
func TestVertexEmbeddings(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		v := fakevertex.Start("proj-emb", "us-central1", fakevertex.Behavior{})
		defer v.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		id := f.channel(t, map[string]any{"name": "vertex", "type": 42, "key": "-", "base_url": v.URL, "models": "text-embedding-005,gemini-embedding-001",
			"config": configJSON(t, map[string]string{"vertex_ai_adc": v.ServiceAccountJSON(), "vertex_ai_project_id": "proj-emb", "region": "us-central1"})})
		c := f.client(f.tok.Key)
		ctx := context.Background()
		inputs := []string{"the first text to embed", "héllo 世界"}
		resp, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-005", Dimensions: openai.Int(2),
			Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs}})
		if err != nil {
			t.Fatal(err)
		}
		want := fakevertex.EmbeddingTokens(inputs[0]) + fakevertex.EmbeddingTokens(inputs[1])
		if len(resp.Data) != 2 || len(resp.Data[0].Embedding) != 2 || resp.Data[1].Index != 1 || resp.Data[1].Embedding[0] != 0.5 || resp.Usage.PromptTokens != int64(want) {
			t.Fatalf("embeddings %+v", resp)
		}
		last := v.Last()
		if last.Path != "/v1/projects/proj-emb/locations/us-central1/publishers/google/models/text-embedding-005:predict" ||
			strings.TrimSpace(string(last.Body)) != `{"instances":[{"content":"the first text to embed"},{"content":"héllo 世界"}],"parameters":{"outputDimensionality":2}}` ||
			!strings.HasPrefix(last.Header.Get("Authorization"), "Bearer ya29.") {
			t.Fatalf("upstream call %s %s", last.Path, last.Body)
		}
		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 1 || logs[0].PromptTokens != want || logs[0].ModelName != "text-embedding-005" || logs[0].Quota <= 0 {
			t.Fatalf("logs %+v", logs)
		}

		// Vertex's own refusal (gemini-embedding-001 embeds one text per
		// call) is the request's error, not the channel's.
		_, err = c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "gemini-embedding-001", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}})
		if e := apiError(t, err, 400, ""); !strings.Contains(e.Message, "up to 1 instances") {
			t.Fatalf("two texts to gemini-embedding-001: %v", e)
		}
		if channelStatus(app, id) != model.ChannelEnabled {
			t.Fatal("a request error disabled the channel")
		}
		if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=gemini-embedding-001", id), nil); !tr.Success || !strings.HasSuffix(v.Last().Path, "gemini-embedding-001:predict") {
			t.Fatalf("channel test of an embedding model: %s", tr.Raw)
		}
	})
}

// TestVertexChannelCountsTokens: a Vertex AI channel counts exactly, as
// the Gemini API and Anthropic channels do: publishers/google's
// countTokens (Vertex's body: contents and systemInstruction at the top,
// no generateContentRequest) for a Gemini model, and publishers/anthropic's
// count-tokens:rawPredict (the model named in the body) for Claude, to
// the genai and Anthropic SDKs alike. Counting is not billed, and a
// channel that fails to count leaves the count to the relay.
func TestVertexChannelCountsTokens(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		v := fakevertex.Start("proj-count", "us-east5", fakevertex.Behavior{Gemini: fakegemini.Behavior{PromptTokens: 23}})
		defer v.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "vertex", "type": 42, "key": "unused", "base_url": v.URL,
			"models": "gemini-2.5-flash,claude-sonnet-4-5@20250929",
			"config": configJSON(t, map[string]string{"vertex_ai_adc": v.ServiceAccountJSON(), "vertex_ai_project_id": "proj-count", "region": "us-east5"})})
		ctx := context.Background()

		g, err := genaiClient(t, app, f.tok.Key).Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("How many tokens is this?"), nil)
		if err != nil || g.TotalTokens != 23 {
			t.Fatalf("Gemini model: %v %+v", err, g)
		}
		// The Gemini API's generateContentRequest (the only way it counts
		// a system instruction; the SDK sends none) becomes Vertex's
		// top-level fields.
		st, body := geminiPost(t, app, "/v1beta/models/gemini-2.5-flash:countTokens", f.tok.Key,
			`{"generateContentRequest":{"model":"models/gemini-2.5-flash","systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}}`)
		if st != 200 || body != `{"totalTokens":23}` {
			t.Fatalf("with a system instruction: %d %s", st, body)
		}
		last := v.Last()
		if last.Path != "/v1/projects/proj-count/locations/us-east5/publishers/google/models/gemini-2.5-flash:countTokens" ||
			!strings.HasPrefix(last.Header.Get("Authorization"), "Bearer ya29.") ||
			!strings.Contains(string(last.Body), `"systemInstruction":{"parts":[{"text":"Be brief."}]}`) ||
			strings.Contains(string(last.Body), "generateContentRequest") {
			t.Fatalf("upstream call %s %q %s", last.Path, last.Header.Get("Authorization"), last.Body)
		}

		p := countParams("claude-sonnet-4-5@20250929")
		n, err := f.anthropic(f.tok.Key).Messages.CountTokens(ctx, p)
		last = v.Last()
		if want := fakeupstream.CountTokens(last.Body); err != nil || want <= 0 || n.InputTokens != int64(want) {
			t.Fatalf("Claude model: %v %+v, upstream counted %d", err, n, want)
		}
		if last.Path != "/v1/projects/proj-count/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict" ||
			!strings.Contains(string(last.Body), `"model":"claude-sonnet-4-5@20250929"`) {
			t.Fatalf("upstream call %s %s", last.Path, last.Body)
		}
		// The genai SDK on a Claude model: converted, counted by Vertex.
		g, err = genaiClient(t, app, f.tok.Key).Models.CountTokens(ctx, "claude-sonnet-4-5@20250929", genai.Text("How many tokens is this?"), nil)
		if want := fakeupstream.CountTokens(v.Last().Body); err != nil || int(g.TotalTokens) != want {
			t.Fatalf("Claude model from genai: %v %+v, upstream counted %d", err, g, want)
		}

		v.Set(fakevertex.Behavior{FailStatus: 429})
		g, err = genaiClient(t, app, f.tok.Key).Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("How many tokens is this?"), nil)
		if err != nil || g.TotalTokens == 0 || g.TotalTokens == 23 {
			t.Fatalf("after the channel failed: %v %+v", err, g)
		}
		if v.CallsTo("countTokens") != 3 || v.CallsTo("rawPredict") != 2 {
			t.Fatalf("countTokens %d, rawPredict %d calls", v.CallsTo("countTokens"), v.CallsTo("rawPredict"))
		}
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 0 {
			t.Fatalf("counting was billed: %+v", logs)
		}
	})
}

// TestBedrockChannelCountsClaudeTokens: a Bedrock channel counts
// Anthropic's models with CountTokens (the InvokeModel body the call
// would send, signed), a cross-region inference profile by its bare
// model id; its other models are counted locally without asking Bedrock,
// which counts no others. Counting is not billed.
func TestBedrockChannelCountsClaudeTokens(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		b := fakebedrock.Start("AKIDCOUNT", "bedrock-count-secret", "us-west-2", fakebedrock.Behavior{})
		defer b.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "bedrock", "type": 33, "key": "unused", "base_url": b.URL,
			"models": "claude-3-5-haiku-20241022,us.anthropic.claude-sonnet-4-20250514-v1:0,amazon.nova-lite-v1:0",
			"config": configJSON(t, map[string]string{"ak": "AKIDCOUNT", "sk": "bedrock-count-secret", "region": "us-west-2"})})
		ctx := context.Background()
		counted := func() int { return fakeupstream.CountTokens(fakebedrock.CountedBody(b.Last().Body)) }
		for _, tc := range []struct{ model, path string }{
			{"claude-3-5-haiku-20241022", "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/count-tokens"},
			{"us.anthropic.claude-sonnet-4-20250514-v1:0", "/model/anthropic.claude-sonnet-4-20250514-v1%3A0/count-tokens"},
		} {
			n, err := f.anthropic(f.tok.Key).Messages.CountTokens(ctx, countParams(tc.model))
			if want := counted(); err != nil || want <= 0 || n.InputTokens != int64(want) {
				t.Fatalf("%s: %v %+v, Bedrock counted %d", tc.model, err, n, want)
			}
			if b.Last().Path != tc.path {
				t.Fatalf("%s counted at %s", tc.model, b.Last().Path)
			}
		}
		n, err := f.anthropic(f.tok.Key).Messages.CountTokens(ctx, countParams("amazon.nova-lite-v1:0"))
		if err != nil || n.InputTokens <= 0 {
			t.Fatalf("Nova: %v %+v", err, n)
		}
		if b.CallsTo("count-tokens") != 2 || b.Calls() != 2 {
			t.Fatalf("%d counts of %d calls: Nova was asked", b.CallsTo("count-tokens"), b.Calls())
		}
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 0 {
			t.Fatalf("counting was billed: %+v", logs)
		}
	})
}
