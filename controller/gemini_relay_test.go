package controller_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/shared"

	"switchyard/internal/fakegemini"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// weatherTool is the function every tool test declares.
var weatherTool = openai.ChatCompletionToolParam{Function: shared.FunctionDefinitionParam{
	Name: "get_weather", Description: openai.String("Current weather"),
	Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
}}

func withTools(model string) openai.ChatCompletionNewParams {
	p := chat(model)
	p.Tools = []openai.ChatCompletionToolParam{weatherTool}
	return p
}

// streamAll reads an openai-go stream into its text, tool call and usage.
func streamAll(t *testing.T, c *openai.Client, p openai.ChatCompletionNewParams) (text string, acc openai.ChatCompletionAccumulator) {
	t.Helper()
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	s := c.Chat.Completions.NewStreaming(context.Background(), p)
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(acc.Choices) > 0 {
		text = acc.Choices[0].Message.Content
	}
	return text, acc
}

func consumeLogs(t *testing.T, app *testkit.App, userID int) []model.Log {
	t.Helper()
	app.Settle(t)
	var logs []model.Log
	app.Store.LogDB.Where("user_id = ? AND type = ?", userID, model.LogConsume).Order("id").Find(&logs)
	return logs
}

func channelStatus(app *testkit.App, id int) int {
	var ch model.Channel
	app.Store.DB.First(&ch, id)
	return ch.Status
}

// TestGeminiChannelServesOpenAIClients: an OpenAI client reaches a Gemini
// channel (type 24) for chat, streamed and not, with tools both ways, and
// for embeddings; Gemini's usage is billed, the last cumulative figure of
// a stream and not the sum.
func TestGeminiChannelServesOpenAIClients(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		g := fakegemini.Start(fakegemini.Behavior{Key: "AIza-good", ThoughtsTokens: 4, CachedTokens: 2})
		defer g.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		chID := f.channel(t, map[string]any{"name": "gemini", "type": 24, "key": "AIza-good", "base_url": g.URL, "models": "gemini-2.5-flash,text-embedding-004"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		resp, err := c.Chat.Completions.New(ctx, chat("gemini-2.5-flash"))
		if err != nil || resp.Choices[0].Message.Content != "Hello from fake Gemini" || resp.Choices[0].FinishReason != "stop" {
			t.Fatalf("chat: %v %+v", err, resp)
		}
		if resp.Usage.PromptTokens != 9 || resp.Usage.CompletionTokens != 3+4 || resp.Usage.CompletionTokensDetails.ReasoningTokens != 4 || resp.Usage.PromptTokensDetails.CachedTokens != 2 {
			t.Fatalf("usage %+v", resp.Usage)
		}
		last := g.Last()
		if last.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || last.Header.Get("x-goog-api-key") != "AIza-good" || !strings.Contains(string(last.Body), `"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]`) {
			t.Fatalf("upstream call %s %q %s", last.Path, last.Header.Get("x-goog-api-key"), last.Body)
		}

		text, acc := streamAll(t, c, chat("gemini-2.5-flash"))
		if text != "Hello from fake Gemini" || acc.Usage.PromptTokens != 9 || acc.Usage.CompletionTokens != 7 {
			t.Fatalf("stream: %q %+v", text, acc.Usage)
		}
		if g.Last().Query != "alt=sse" {
			t.Fatalf("stream query %q", g.Last().Query)
		}

		resp, err = c.Chat.Completions.New(ctx, withTools("gemini-2.5-flash"))
		if err != nil || resp.Choices[0].FinishReason != "tool_calls" || len(resp.Choices[0].Message.ToolCalls) != 1 {
			t.Fatalf("tool call: %v %+v", err, resp)
		}
		call := resp.Choices[0].Message.ToolCalls[0]
		if call.Function.Name != "get_weather" || call.Function.Arguments != `{"city":"Paris"}` {
			t.Fatalf("tool call %+v", call)
		}
		// The answer goes back with the call; Gemini gets its signature.
		p := withTools("gemini-2.5-flash")
		p.Messages = append(p.Messages, resp.Choices[0].Message.ToParam(), openai.ToolMessage(`{"temp_c":21}`, call.ID))
		resp, err = c.Chat.Completions.New(ctx, p)
		if err != nil || resp.Choices[0].Message.Content != "Hello from fake Gemini" {
			t.Fatalf("after the tool result: %v %+v", err, resp)
		}
		body := string(g.Last().Body)
		if !strings.Contains(body, `"thoughtSignature":"ZmFrZS1zaWduYXR1cmU="`) || !strings.Contains(body, `"functionResponse":{"name":"get_weather","response":{"temp_c":21}}`) {
			t.Fatalf("the tool round trip lost its signature or result: %s", body)
		}

		_, acc = streamAll(t, c, withTools("gemini-2.5-flash"))
		if len(acc.Choices) == 0 || len(acc.Choices[0].Message.ToolCalls) != 1 || acc.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
			t.Fatalf("streamed tool call: %+v", acc.Choices)
		}

		emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-004", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}})
		if err != nil || len(emb.Data) != 2 || emb.Data[1].Index != 1 || len(emb.Data[0].Embedding) != 3 {
			t.Fatalf("embeddings: %v %+v", err, emb)
		}
		if g.CallsTo("batchEmbedContents") != 1 {
			t.Fatal("embeddings did not go through batchEmbedContents")
		}

		// The channel test speaks Gemini too, for chat and embedding models.
		for _, m := range []string{"gemini-2.5-flash", "text-embedding-004"} {
			if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=%s", chID, m), nil); !tr.Success {
				t.Fatalf("channel test of %s: %s", m, tr.Raw)
			}
		}

		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 6 {
			t.Fatalf("%d consume logs for 6 calls", len(logs))
		}
		for i, l := range logs {
			if l.ChannelID != chID || l.Quota <= 0 {
				t.Fatalf("log %d: %+v", i, l)
			}
		}
		// The stream's usage is the last cumulative chunk's: 9 prompt,
		// 3 candidates + 4 thoughts.
		if !logs[1].IsStream || logs[1].PromptTokens != 9 || logs[1].CompletionTokens != 7 {
			t.Fatalf("stream log %+v", logs[1])
		}
	})
}

// TestGeminiHealthAsOpenAIs: a dead Gemini key disables its channel and a
// rate-limited one is only passed over, as with OpenAI channels; safety
// blocks are the client's 400, not held against anyone.
func TestGeminiHealthAsOpenAIs(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		dead := fakegemini.Start(fakegemini.Behavior{Key: "AIza-live"})
		defer dead.Close()
		limited := fakegemini.Start(fakegemini.Behavior{FailStatus: 429})
		defer limited.Close()
		good := fakegemini.Start(fakegemini.Behavior{})
		defer good.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.option(t, "AutomaticDisableChannelEnabled", "true")
		f.option(t, "RetryTimes", "3")
		deadID := f.channel(t, map[string]any{"name": "dead", "type": 24, "key": "AIza-revoked", "base_url": dead.URL, "models": "gemini-2.5-flash", "priority": 10})
		limitedID := f.channel(t, map[string]any{"name": "limited", "type": 24, "key": "AIza-x", "base_url": limited.URL, "models": "gemini-2.5-flash", "priority": 5})
		f.channel(t, map[string]any{"name": "good", "type": 24, "key": "AIza-y", "base_url": good.URL, "models": "gemini-2.5-flash"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		if _, err := c.Chat.Completions.New(ctx, chat("gemini-2.5-flash")); err != nil {
			t.Fatalf("failover: %v", err)
		}
		testkit.Eventually(t, 10*time.Second, "the dead-key Gemini channel is disabled", func() bool {
			return channelStatus(app, deadID) == model.ChannelAutoDisabled
		})
		if channelStatus(app, limitedID) != model.ChannelEnabled || limited.Calls() != 1 {
			t.Fatalf("rate-limited channel: status %d, %d calls", channelStatus(app, limitedID), limited.Calls())
		}

		// A blocked prompt is the request's own fault: a 400, not retried.
		good.Set(fakegemini.Behavior{BlockPrompt: "SAFETY"})
		limited.Set(fakegemini.Behavior{BlockPrompt: "SAFETY"})
		before := good.Calls() + limited.Calls()
		_, err := c.Chat.Completions.New(ctx, chat("gemini-2.5-flash"))
		e := apiError(t, err, 400, "content_filter")
		if !strings.Contains(e.Message, "SAFETY") || good.Calls()+limited.Calls() != before+1 {
			t.Fatalf("blocked prompt: %v, %d calls", e, good.Calls()+limited.Calls()-before)
		}
		// A candidate stopped for safety is an answer that says so.
		good.Set(fakegemini.Behavior{FinishReason: "SAFETY"})
		limited.Set(fakegemini.Behavior{FinishReason: "SAFETY"})
		resp, err := c.Chat.Completions.New(ctx, chat("gemini-2.5-flash"))
		if err != nil || resp.Choices[0].FinishReason != "content_filter" {
			t.Fatalf("safety stop: %v %+v", err, resp)
		}
	})
}

// TestGeminiRefusesModesItLacks: a mode Gemini does not serve goes to the
// next channel without a call upstream, a cooldown or a disable.
func TestGeminiRefusesModesItLacks(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		g := fakegemini.Start(fakegemini.Behavior{})
		defer g.Close()
		oa := fakeupstream.Start(fakeupstream.Behavior{})
		defer oa.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		gID := f.channel(t, map[string]any{"name": "gemini", "type": 24, "key": "AIza", "base_url": g.URL, "models": "dall-e-3", "priority": 10})
		f.channel(t, map[string]any{"name": "openai", "base_url": oa.URL, "models": "dall-e-3"})
		c := f.client(f.tok.Key)
		img, err := c.Images.Generate(context.Background(), openai.ImageGenerateParams{Model: "dall-e-3", Prompt: "a cat"})
		if err != nil || len(img.Data) != 1 {
			t.Fatalf("images: %v", err)
		}
		if g.Calls() != 0 || channelStatus(app, gID) != model.ChannelEnabled {
			t.Fatalf("the Gemini channel was called (%d) or judged (status %d)", g.Calls(), channelStatus(app, gID))
		}
		// Alone, it answers a clear refusal, not a 500.
		f2 := newRelayFixture(t, app, 10_000_000, nil)
		f2.channel(t, map[string]any{"name": "gemini only", "type": 24, "key": "AIza", "base_url": g.URL, "models": "gemini-tts"})
		_, err = f2.client(f2.tok.Key).Audio.Speech.New(context.Background(), openai.AudioSpeechNewParams{Model: "gemini-tts", Input: "hi", Voice: "alloy"})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode == 500 || !strings.Contains(apiErr.Message, "do not serve") {
			t.Fatalf("unsupported mode alone: %v", err)
		}
	})
}
