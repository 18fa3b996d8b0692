package controller_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aopt "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go"

	"switchyard/common/channeltype"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// The tests of this file drive every client format against every channel
// format with the official SDKs, through the real app.

func (f *relayFixture) anthropic(key string) *anthropic.Client {
	c := anthropic.NewClient(aopt.WithBaseURL(f.app.URL), aopt.WithAPIKey(key), aopt.WithMaxRetries(0))
	return &c
}

func claudeParams(modelName string, tools bool) anthropic.MessageNewParams {
	p := anthropic.MessageNewParams{
		Model:     anthropic.Model(modelName),
		MaxTokens: 256,
		System:    []anthropic.TextBlockParam{{Text: "Be brief.", CacheControl: anthropic.NewCacheControlEphemeralParam()}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris?"))},
	}
	if tools {
		p.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Weather by city"),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}}}}
	}
	return p
}

func accumulate(t *testing.T, s interface {
	Next() bool
	Current() anthropic.MessageStreamEventUnion
	Err() error
}) anthropic.Message {
	t.Helper()
	acc := anthropic.Message{}
	for s.Next() {
		if err := acc.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// consumeLogs flushes the ledger and returns the user's consume logs.
func (f *relayFixture) consumeLogs(t *testing.T) []model.Log {
	t.Helper()
	f.app.Settle(t)
	var logs []model.Log
	f.app.Store.LogDB.Where("user_id = ? AND type = ?", f.user.UserID, model.LogConsume).Order("id").Find(&logs)
	return logs
}

func TestAnthropicClientOnAnthropicChannelPassesThrough(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-upstream-0001", Chunks: 4, CachedTokens: 100, CacheCreationTokens: 20, Thinking: true})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"type": 14, "name": "claude", "key": "sk-ant-upstream-0001", "base_url": up.URL, "models": "claude-sonnet-4-5,alias", "model_mapping": `{"alias":"claude-sonnet-4-5"}`})
		c := f.anthropic(f.tok.Key)
		ctx := context.Background()

		msg, err := c.Messages.New(ctx, claudeParams("claude-sonnet-4-5", false), aopt.WithHeader("anthropic-beta", "prompt-caching-2024-07-31"))
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Signature != "sig-fake" || msg.Content[1].Text != "Hello from the fake upstream" {
			t.Fatalf("message %+v", msg.Content)
		}
		if msg.Usage.InputTokens != 9 || msg.Usage.CacheReadInputTokens != 100 || msg.Usage.CacheCreationInputTokens != 20 || msg.Usage.OutputTokens != 4 {
			t.Fatalf("usage %+v", msg.Usage)
		}
		// Pass-through: the client's body went upstream as it was sent,
		// with its version and beta headers and the channel's key.
		h := up.LastHeader()
		if h.Get("x-api-key") != "sk-ant-upstream-0001" || h.Get("anthropic-version") == "" || h.Get("anthropic-beta") != "prompt-caching-2024-07-31" || h.Get("Authorization") != "" {
			t.Fatalf("upstream headers %v", h)
		}
		if !strings.Contains(string(up.LastBody()), `"cache_control":{"type":"ephemeral"}`) {
			t.Fatalf("cache_control lost: %s", up.LastBody())
		}

		// Streamed, with a tool, under a mapped name: only the model changes.
		acc := accumulate(t, c.Messages.NewStreaming(ctx, claudeParams("alias", true)))
		if len(acc.Content) != 2 || acc.Content[1].Type != "tool_use" || string(acc.Content[1].Input) != `{"city": "Paris"}` || acc.StopReason != "tool_use" {
			t.Fatalf("streamed %+v", acc.Content)
		}
		if !strings.Contains(string(up.LastBody()), `"model":"claude-sonnet-4-5"`) || acc.Usage.OutputTokens != 4 || acc.Usage.CacheReadInputTokens != 100 {
			t.Fatalf("body %s usage %+v", up.LastBody(), acc.Usage)
		}
		whole, err := c.Messages.New(ctx, claudeParams("claude-sonnet-4-5", true))
		if err != nil || whole.StopReason != "tool_use" || whole.Content[1].Name != "get_weather" {
			t.Fatalf("whole tool use %+v %v", whole, err)
		}

		// The logs carry the cache detail whatever the format.
		logs := f.consumeLogs(t)
		if len(logs) != 3 {
			t.Fatalf("%d logs for 3 calls", len(logs))
		}
		for _, l := range logs {
			if l.PromptTokens != 129 || l.CompletionTokens != 4 || l.CachedTokens != 100 || l.CacheCreationTokens != 20 || l.ModelName == "" {
				t.Fatalf("log %+v", l)
			}
		}
	})
}

func TestAnthropicClientOnOpenAIChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 4})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "openai", "base_url": up.URL, "models": "claude-sonnet-4-5"})
		c := f.anthropic(f.tok.Key)
		ctx := context.Background()
		msg, err := c.Messages.New(ctx, claudeParams("claude-sonnet-4-5", false))
		if err != nil || len(msg.Content) != 1 || msg.Content[0].Text != "Hello from the fake upstream" || msg.StopReason != "end_turn" || msg.Usage.InputTokens != 9 {
			t.Fatalf("message %+v %v", msg, err)
		}
		if !strings.Contains(string(up.LastBody()), `"role":"system"`) {
			t.Fatalf("system prompt not converted: %s", up.LastBody())
		}
		acc := accumulate(t, c.Messages.NewStreaming(ctx, claudeParams("claude-sonnet-4-5", true)))
		if len(acc.Content) != 1 || acc.Content[0].Type != "tool_use" || string(acc.Content[0].Input) != `{"city": "Paris"}` || acc.StopReason != "tool_use" || acc.Usage.OutputTokens != 4 {
			t.Fatalf("streamed %+v", acc)
		}
		if n := len(f.consumeLogs(t)); n != 2 {
			t.Fatalf("%d logs", n)
		}
	})
}

func TestOpenAIClientOnAnthropicChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.StartAnthropic(fakeupstream.Behavior{Chunks: 5, CachedTokens: 30})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"type": 14, "name": "claude", "base_url": up.URL, "models": "claude-3-5-haiku-latest"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		p := chat("claude-3-5-haiku-latest")
		p.Messages = append([]openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief.")}, p.Messages...)
		resp, err := c.Chat.Completions.New(ctx, p)
		if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" || resp.Choices[0].FinishReason != "stop" {
			t.Fatalf("chat %+v %v", resp, err)
		}
		if resp.Usage.PromptTokens != 39 || resp.Usage.PromptTokensDetails.CachedTokens != 30 || resp.Usage.CompletionTokens != 5 {
			t.Fatalf("usage %+v", resp.Usage)
		}
		body := string(up.LastBody())
		// max_tokens is required by Anthropic: the model's default fills it.
		if !strings.Contains(body, `"max_tokens":8192`) || !strings.Contains(body, `"system":[{"type":"text","text":"Be brief."}]`) || up.LastHeader().Get("anthropic-version") != "2023-06-01" {
			t.Fatalf("converted body %s", body)
		}

		// Streamed with tools; the usage chunk only when asked.
		p = chat("claude-3-5-haiku-latest")
		p.Tools = []openai.ChatCompletionToolParam{{Function: openai.FunctionDefinitionParam{Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object"}}}}
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		s := c.Chat.Completions.NewStreaming(ctx, p)
		acc := openai.ChatCompletionAccumulator{}
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		tc := acc.Choices[0].Message.ToolCalls
		if len(tc) != 1 || tc[0].Function.Name != "get_weather" || tc[0].Function.Arguments != `{"city": "Paris"}` || tc[0].ID != "toolu_01Fake" || acc.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("tool calls %+v finish %q", tc, acc.Choices[0].FinishReason)
		}
		if acc.Usage.CompletionTokens != 5 || acc.Usage.PromptTokens != 39 {
			t.Fatalf("stream usage %+v", acc.Usage)
		}

		// The tool result goes back as a tool_result block.
		p = chat("claude-3-5-haiku-latest")
		p.Tools = []openai.ChatCompletionToolParam{{Function: openai.FunctionDefinitionParam{Name: "get_weather"}}}
		p.Messages = append(p.Messages,
			openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{ToolCalls: []openai.ChatCompletionMessageToolCallParam{
				{ID: "toolu_01Fake", Function: openai.ChatCompletionMessageToolCallFunctionParam{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}},
			openai.ToolMessage("sunny", "toolu_01Fake"))
		resp, err = c.Chat.Completions.New(ctx, p)
		if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" {
			t.Fatalf("after tool result %+v %v", resp, err)
		}
		if body := string(up.LastBody()); !strings.Contains(body, `"type":"tool_result","tool_use_id":"toolu_01Fake","content":[{"type":"text","text":"sunny"}]`) || !strings.Contains(body, `"type":"tool_use","id":"toolu_01Fake","name":"get_weather","input":{"city":"Paris"}`) {
			t.Fatalf("tool round trip body %s", body)
		}

		// Anthropic's errors reach an OpenAI client in OpenAI's shape, and
		// a mode Anthropic lacks is refused without a call.
		_, err = c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "claude-3-5-haiku-latest", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}})
		apiError(t, err, 400, "")
		if logs := f.consumeLogs(t); len(logs) != 3 || logs[0].CachedTokens != 30 {
			t.Fatalf("logs %+v", logs)
		}
	})
}

func TestOpenAIClientOnAzureChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.StartAzure(fakeupstream.Behavior{Key: "azure-key-0001", Chunks: 3}, "gpt-4o", "gpt-35-turbo", "text-embedding-3-small")
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.option(t, "RetryTimes", "0")
		id := f.channel(t, map[string]any{"type": 3, "name": "azure", "key": "azure-key-0001", "base_url": up.URL, "other": "2024-06-01",
			"models": "gpt-4o,gpt-3.5-turbo,text-embedding-3-small"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		resp, err := c.Chat.Completions.New(ctx, chat("gpt-4o"))
		if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" {
			t.Fatalf("chat %v", err)
		}
		if got := up.LastHeader().Get("api-key"); got != "azure-key-0001" || up.LastHeader().Get("Authorization") != "" || up.LastQuery() != "api-version=2024-06-01" {
			t.Fatalf("api-key %q query %q", got, up.LastQuery())
		}
		if up.CallsTo("/openai/deployments/gpt-4o/chat/completions") != 1 {
			t.Fatal("the deployment path was not used")
		}
		// One API's deployment naming drops the dots.
		s := c.Chat.Completions.NewStreaming(ctx, chat("gpt-3.5-turbo"))
		var text strings.Builder
		for s.Next() {
			if ch := s.Current(); len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		if s.Err() != nil || text.String() != "Hello from the fake upstream" || up.CallsTo("/openai/deployments/gpt-35-turbo/chat/completions") != 1 {
			t.Fatalf("stream %v %q", s.Err(), text.String())
		}
		if _, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}}); err != nil {
			t.Fatal(err)
		}

		// An empty other field falls back to the registry's api-version.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": id, "other": ""}).Want(t, 200, true)
		testkit.Eventually(t, 5e9, "channel reloaded", func() bool {
			_, err := c.Chat.Completions.New(ctx, chat("gpt-4o"))
			return err == nil && up.LastQuery() == "api-version="+channeltype.AzureAPIVersion
		})

		// Azure's content filter is a clear 400, not retried and not held
		// against the channel.
		up.Set(fakeupstream.Behavior{Key: "azure-key-0001", ContentFilter: true})
		before := up.Calls()
		_, err = c.Chat.Completions.New(ctx, chat("gpt-4o"))
		e := apiError(t, err, 400, "content_filter")
		if !strings.Contains(e.Message, "content management policy") || up.Calls() != before+1 {
			t.Fatalf("content filter %q, %d calls", e.Message, up.Calls()-before)
		}
		var ch model.Channel
		app.Store.DB.First(&ch, id)
		if ch.Status != model.ChannelEnabled {
			t.Fatalf("content filter disabled the channel: %d", ch.Status)
		}
	})
}

// Failover between an Anthropic and an OpenAI channel serving the same
// model works in both directions and for both client formats.
func TestFailoverBetweenAnthropicAndOpenAIChannels(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		claude := fakeupstream.StartAnthropic(fakeupstream.Behavior{})
		defer claude.Close()
		gpt := fakeupstream.Start(fakeupstream.Behavior{})
		defer gpt.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.option(t, "RetryTimes", "2")
		claudeID := f.channel(t, map[string]any{"type": 14, "name": "claude", "base_url": claude.URL, "models": "shared-model", "priority": 10})
		gptID := f.channel(t, map[string]any{"name": "gpt", "base_url": gpt.URL, "models": "shared-model", "priority": 5})
		ctx := context.Background()
		ac, oc := f.anthropic(f.tok.Key), f.client(f.tok.Key)

		for _, dir := range []struct {
			name              string
			first, second     *fakeupstream.Server
			firstID, secondID int
			firstBroken       fakeupstream.Behavior
		}{
			{"anthropic down, openai serves", claude, gpt, claudeID, gptID, fakeupstream.Behavior{FailStatus: 529}},
			{"openai down, anthropic serves", gpt, claude, gptID, claudeID, fakeupstream.Behavior{FailStatus: 500}},
		} {
			t.Run(dir.name, func(t *testing.T) {
				// The broken channel is the one tried first.
				f.root.Do("PUT", "/api/channel/", map[string]any{"id": dir.firstID, "priority": 20}).Want(t, 200, true)
				f.root.Do("PUT", "/api/channel/", map[string]any{"id": dir.secondID, "priority": 1}).Want(t, 200, true)
				testkit.Eventually(t, 5e9, "the broken channel leads", func() bool {
					tiers := app.Store.Channels.Tiers("default", "shared-model")
					return len(tiers) == 2 && tiers[0].Channels[0].ID == dir.firstID
				})
				claude.Set(fakeupstream.Behavior{})
				gpt.Set(fakeupstream.Behavior{})
				dir.first.Set(dir.firstBroken)
				before, brokenBefore := dir.second.Calls(), dir.first.Calls()
				msg, err := ac.Messages.New(ctx, claudeParams("shared-model", false))
				if err != nil || msg.Content[0].Text != "Hello from the fake upstream" {
					t.Fatalf("anthropic client: %+v %v", msg, err)
				}
				acc := accumulate(t, ac.Messages.NewStreaming(ctx, claudeParams("shared-model", true)))
				if acc.Content[0].Type != "tool_use" {
					t.Fatalf("anthropic stream %+v", acc.Content)
				}
				resp, err := oc.Chat.Completions.New(ctx, chat("shared-model"))
				if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" {
					t.Fatalf("openai client: %v", err)
				}
				if got := dir.second.Calls() - before; got != 3 {
					t.Fatalf("the healthy channel served %d of 3", got)
				}
				if dir.first.Calls() == brokenBefore {
					t.Fatal("the broken channel was never tried: nothing failed over")
				}
			})
		}
		if n := len(f.consumeLogs(t)); n != 6 {
			t.Fatalf("%d logs for 6 calls", n)
		}
	})
}

// An Anthropic upstream's failures: errors in the client's shape, a
// mid-stream error event passed on as an error event, a dropped
// connection cut, a spent credit balance disabling the channel.
func TestAnthropicUpstreamFailures(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.StartAnthropic(fakeupstream.Behavior{Chunks: 6})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.option(t, "RetryTimes", "0")
		f.option(t, "AutomaticDisableChannelEnabled", "true")
		id := f.channel(t, map[string]any{"type": 14, "name": "claude", "base_url": up.URL, "models": "claude-sonnet-4-5"})
		ac, oc := f.anthropic(f.tok.Key), f.client(f.tok.Key)
		ctx := context.Background()

		up.Set(fakeupstream.Behavior{FailStatus: 400})
		_, err := ac.Messages.New(ctx, claudeParams("claude-sonnet-4-5", false))
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.RawJSON(), `"invalid_request_error"`) {
			t.Fatalf("400: %v", err)
		}
		up.Set(fakeupstream.Behavior{FailStatus: 429})
		_, err = oc.Chat.Completions.New(ctx, chat("claude-sonnet-4-5"))
		apiError(t, err, 429, "")

		// A mid-stream error event reaches each client in its own shape.
		up.Set(fakeupstream.Behavior{Chunks: 6, StreamErrorAfter: 3})
		s := ac.Messages.NewStreaming(ctx, claudeParams("claude-sonnet-4-5", false))
		for s.Next() {
		}
		if s.Err() == nil || !strings.Contains(s.Err().Error(), "Overloaded") {
			t.Fatalf("anthropic stream error %v", s.Err())
		}
		os := oc.Chat.Completions.NewStreaming(ctx, chat("claude-sonnet-4-5"))
		for os.Next() {
		}
		if os.Err() == nil || !strings.Contains(os.Err().Error(), "Overloaded") {
			t.Fatalf("openai stream error %v", os.Err())
		}

		// A dropped connection is a cut stream, never a whole one.
		up.Set(fakeupstream.Behavior{Chunks: 6, DropAfter: 3})
		s = ac.Messages.NewStreaming(ctx, claudeParams("claude-sonnet-4-5", false))
		for s.Next() {
		}
		if s.Err() == nil {
			t.Fatal("a dropped Anthropic stream looked whole to the client")
		}

		// Both cut streams billed what arrived; the 400 and 429 nothing.
		logs := f.consumeLogs(t)
		if len(logs) != 3 {
			t.Fatalf("%d logs, want the 3 partial streams", len(logs))
		}

		up.Set(fakeupstream.Behavior{FailStatus: 400, FailCode: "credit"})
		_, err = ac.Messages.New(ctx, claudeParams("claude-sonnet-4-5", false))
		if !errors.As(err, &ae) || ae.StatusCode != 502 || strings.Contains(ae.RawJSON(), "credit balance") {
			t.Fatalf("spent credit: %v", err)
		}
		testkit.Eventually(t, 10e9, "channel disabled for its spent credit", func() bool {
			var ch model.Channel
			app.Store.DB.First(&ch, id)
			return ch.Status == model.ChannelAutoDisabled
		})
	})
}
