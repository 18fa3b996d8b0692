package relay

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"

	"switchyard/common/config"
	"switchyard/internal/fakeupstream"
	"switchyard/model"
)

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")},
	}
}

func TestChatNonStreamBillsUpstreamUsage(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "gpt-4o-mini"})

	resp, err := h.client().Chat.Completions.New(context.Background(), chatParams("gpt-4o-mini"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "Hello from the fake upstream" {
		t.Fatalf("content %q", got)
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	if len(logs) != 1 {
		t.Fatalf("%d logs", len(logs))
	}
	l := logs[0]
	// gpt-4o-mini: ratio 0.075, completion ratio 4: (9 + 3×4) × 0.075 = 1.575 → 2.
	if l.PromptTokens != 9 || l.CompletionTokens != 3 || l.Quota != 2 || l.IsStream || l.ChannelID == 0 || l.RequestID != "req-1" {
		t.Fatalf("log %+v", l)
	}
}

func TestStreamUsageChunkOnlyWhenAsked(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 5})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "gpt-4o"})

	for _, ask := range []bool{true, false} {
		p := chatParams("gpt-4o")
		if ask {
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		}
		s := h.client().Chat.Completions.NewStreaming(context.Background(), p)
		var text strings.Builder
		sawUsage := false
		for s.Next() {
			ch := s.Current()
			if len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
			if ch.Usage.TotalTokens > 0 {
				sawUsage = true
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if text.String() != "Hello from the fake upstream" {
			t.Fatalf("text %q", text.String())
		}
		if sawUsage != ask {
			t.Fatalf("asked for usage %v, saw usage %v", ask, sawUsage)
		}
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	for _, l := range logs {
		// Billing uses the upstream's usage both times, since the relay asks
		// for it on the client's behalf.
		if !l.IsStream || l.PromptTokens != 9 || l.CompletionTokens != 5 {
			t.Fatalf("log %+v", l)
		}
	}
}

func TestStreamToolCallDeltas(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 4})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "gpt-4o"})
	p := chatParams("gpt-4o")
	p.Tools = []openai.ChatCompletionToolParam{{Function: openai.FunctionDefinitionParam{Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object"}}}}
	s := h.client().Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	tc := acc.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].Function.Name != "get_weather" || tc[0].Function.Arguments != `{"city": "Paris"}` {
		t.Fatalf("tool calls %+v", tc)
	}
}

func TestFailoverFallsToLowerTierAndSkipsBadChannels(t *testing.T) {
	dead := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 500})
	defer dead.Close()
	limited := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 429})
	defer limited.Close()
	good := fakeupstream.Start(fakeupstream.Behavior{})
	defer good.Close()
	h := newHarness(t, config.Config{})
	h.setOption("RetryTimes", "3")
	h.addChannel(model.Channel{Name: "dead", BaseURL: dead.URL, Models: "m", Priority: 10})
	h.addChannel(model.Channel{Name: "limited", BaseURL: limited.URL, Models: "m", Priority: 10})
	h.addChannel(model.Channel{Name: "good", BaseURL: good.URL, Models: "m", Priority: 0})

	for i := 0; i < 4; i++ {
		if _, err := h.client().Chat.Completions.New(context.Background(), chatParams("m")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if good.Calls() != 4 {
		t.Fatalf("good channel served %d of 4", good.Calls())
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	if len(logs) != 4 {
		t.Fatalf("%d consume logs for 4 calls", len(logs))
	}
}

func TestClientErrorIsNotRetried(t *testing.T) {
	bad := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 400})
	defer bad.Close()
	other := fakeupstream.Start(fakeupstream.Behavior{})
	defer other.Close()
	h := newHarness(t, config.Config{})
	h.setOption("RetryTimes", "3")
	h.addChannel(model.Channel{Name: "bad", BaseURL: bad.URL, Models: "m", Priority: 10})
	h.addChannel(model.Channel{Name: "other", BaseURL: other.URL, Models: "m"})
	_, err := h.client().Chat.Completions.New(context.Background(), chatParams("m"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("err %v", err)
	}
	if other.Calls() != 0 {
		t.Fatal("a request-caused 400 was retried on another channel")
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	if len(logs) != 0 {
		t.Fatal("a failed call was charged")
	}
}

func TestDeadKeyChannelIsDisabledAutomatically(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-right"})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.setOption("AutomaticDisableChannelEnabled", "true")
	deadID := h.addChannel(model.Channel{Name: "wrong key", Key: "sk-wrong-key-1234", BaseURL: up.URL, Models: "m", Priority: 5})
	h.addChannel(model.Channel{Name: "right key", Key: "sk-right", BaseURL: up.URL, Models: "m"})
	resp, err := h.client().Chat.Completions.New(context.Background(), chatParams("m"))
	if err != nil || resp.Choices[0].Message.Content == "" {
		t.Fatalf("client did not get an answer: %v", err)
	}
	waitFor(t, "dead-key channel disabled", func() bool {
		ch, err := h.store.ChannelByID(context.Background(), deadID)
		return err == nil && ch.Status == model.ChannelAutoDisabled
	})
	waitFor(t, "index drops the disabled channel", func() bool { return len(h.store.Channels.Tiers("default", "m")) == 1 })
}

func TestSlowChannelTimesOutAndFailsOver(t *testing.T) {
	slow := fakeupstream.Start(fakeupstream.Behavior{Delay: time.Minute})
	defer slow.Close()
	good := fakeupstream.Start(fakeupstream.Behavior{})
	defer good.Close()
	h := newHarness(t, config.Config{RelayTimeout: 3 * time.Second})
	h.addChannel(model.Channel{Name: "slow", BaseURL: slow.URL, Models: "m", Priority: 1})
	h.addChannel(model.Channel{Name: "good", BaseURL: good.URL, Models: "m"})
	if _, err := h.client().Chat.Completions.New(context.Background(), chatParams("m")); err != nil {
		t.Fatal(err)
	}
	if slow.Calls() != 1 || good.Calls() != 1 {
		t.Fatalf("slow %d good %d", slow.Calls(), good.Calls())
	}
}

func TestUnservedModelAnswersAtOnce(t *testing.T) {
	h := newHarness(t, config.Config{})
	_, err := h.client().Chat.Completions.New(context.Background(), chatParams("nobody-serves-this"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(apiErr.Message, "request id") {
		t.Fatalf("message lacks the request id: %q", apiErr.Message)
	}
}

func TestAllChannelsDownIsAnOpenAIError(t *testing.T) {
	down := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 500})
	defer down.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "down", BaseURL: down.URL, Models: "m"})
	_, err := h.client().Chat.Completions.New(context.Background(), chatParams("m"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("err %v", err)
	}
	h.settledAll()
	open, settles, logs, bal := h.ledger.snapshot()
	if open != 0 || settles != 1 || len(logs) != 0 || bal != 1<<40 {
		t.Fatalf("open %d settles %d logs %d balance %d", open, settles, len(logs), bal)
	}
}

func TestAbandonedStreamIsChargedForWhatWasProduced(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 50, ChunkDelay: 20 * time.Millisecond, NoUsage: true})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "gpt-4o", ModelMapping: `{"gpt-4o":"gpt-4o"}`})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := h.client().Chat.Completions.NewStreaming(ctx, chatParams("gpt-4o"))
	n := 0
	for s.Next() {
		if n++; n == 5 {
			cancel()
			break
		}
	}
	s.Close()
	h.settledAll()
	waitFor(t, "upstream sees the cancel", func() bool { return up.Cancelled() == 1 })
	_, _, logs, _ := h.ledger.snapshot()
	if len(logs) != 1 || logs[0].CompletionTokens == 0 || logs[0].CompletionTokens >= 50 || logs[0].Quota == 0 {
		t.Fatalf("logs %+v", logs)
	}
}

func TestCutStreamAbortsTheClientConnection(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 6, DropAfter: 3})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "m"})
	s := h.client().Chat.Completions.NewStreaming(context.Background(), chatParams("m"))
	for s.Next() {
	}
	if s.Err() == nil {
		t.Fatal("a stream cut by the upstream looked whole to the client")
	}
	h.settledAll()
}

// keepAliveStream starts a stream whose first token comes after delay
// through a relay that keeps alive every second, and reads the first
// line, which must be a keep-alive.
func keepAliveStream(t *testing.T, delay time.Duration) (*harness, *http.Response) {
	t.Helper()
	up := fakeupstream.Start(fakeupstream.Behavior{FirstChunkDelay: delay})
	t.Cleanup(up.Close)
	h := newHarness(t, config.Config{})
	h.setOption("StreamKeepAliveSeconds", "1")
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "m"})
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	resp, err := http.Post(h.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || first != ": keep-alive\n" {
		t.Fatalf("first line %q, %v", first, err)
	}
	return h, resp
}

func TestKeepAliveWhileWaitingForFirstToken(t *testing.T) {
	_, resp := keepAliveStream(t, 1500*time.Millisecond)
	defer resp.Body.Close()
	rest, _ := io.ReadAll(resp.Body)
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("stream did not end with [DONE]: %q", rest)
	}
}

// TestClientLeavingDuringKeepAliveCostsNothing: a client that leaves
// while the relay is writing keep-alives before the first token is let
// go at the next keep-alive: the upstream read ends, the call settles at
// nothing, no log is written.
func TestClientLeavingDuringKeepAliveCostsNothing(t *testing.T) {
	h, resp := keepAliveStream(t, 20*time.Second)
	resp.Body.Close()
	h.settledAll()
	if _, settles, logs, _ := h.ledger.snapshot(); settles != 1 || len(logs) != 0 {
		t.Fatalf("%d settlements and %d logs for a call that served nothing", settles, len(logs))
	}
}

func TestModelMappingRenamesUpstream(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL + "/v1", Models: "alias", ModelMapping: `{"alias":"real-model"}`})
	resp, err := h.client().Chat.Completions.New(context.Background(), chatParams("alias"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != "real-model" || !strings.Contains(string(up.LastBody()), `"model":"real-model"`) {
		t.Fatalf("model %q body %s", resp.Model, up.LastBody())
	}
}

func TestEmbeddingsImagesSpeechAndTranscription(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "text-embedding-3-small,dall-e-3,tts-1,whisper-1,omni-moderation-latest"})
	c := h.client()
	ctx := context.Background()
	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}})
	if err != nil || len(emb.Data) != 2 {
		t.Fatalf("embeddings %v %v", emb, err)
	}
	img, err := c.Images.Generate(ctx, openai.ImageGenerateParams{Model: "dall-e-3", Prompt: "a cat", Size: "1024x1792", Quality: "hd"})
	if err != nil || len(img.Data) != 1 {
		t.Fatalf("images %v", err)
	}
	sp, err := c.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: "tts-1", Input: "Hello there", Voice: "alloy"})
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(sp.Body)
	sp.Body.Close()
	if string(audio) != "ID3fake-mp3-bytes" {
		t.Fatalf("audio %q", audio)
	}
	tr, err := c.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{Model: "whisper-1", File: strings.NewReader("RIFFfake")})
	if err != nil || tr.Text != "Hello from the fake upstream" {
		t.Fatalf("transcription %v %v", tr, err)
	}
	mod, err := c.Moderations.New(ctx, openai.ModerationNewParams{Model: "omni-moderation-latest", Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil || len(mod.Results) != 1 {
		t.Fatalf("moderation %v", err)
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	want := map[string]int64{
		"text-embedding-3-small": 1,     // 9 × 0.01, at least 1
		"dall-e-3":               60000, // 20 × 1000 × 3 (hd, tall)
		"tts-1":                  83,    // 11 characters × 7.5
	}
	for _, l := range logs {
		if q, ok := want[l.ModelName]; ok && l.Quota != q {
			t.Fatalf("%s charged %d, want %d", l.ModelName, l.Quota, q)
		}
	}
	if len(logs) != 5 {
		t.Fatalf("%d logs", len(logs))
	}
}

func TestLogContentKeepsRequestAndAnswerCut(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "m"})
	if _, err := h.client().Chat.Completions.New(context.Background(), chatParams("m")); err != nil {
		t.Fatal(err)
	}
	h.setOption("LogContentEnabled", "true")
	h.setOption("LogContentMaxBytes", "20")
	if _, err := h.client().Chat.Completions.New(context.Background(), chatParams("m")); err != nil {
		t.Fatal(err)
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	if len(logs) != 2 || logs[0].Content != "" {
		t.Fatalf("content logged while the option was off: %+v", logs)
	}
	want := "request: " + `{"messages":[{"conte` + "\nanswer: " + "Hello from the fake "
	if logs[1].Content != want {
		t.Fatalf("content %q, want %q", logs[1].Content, want)
	}
}
