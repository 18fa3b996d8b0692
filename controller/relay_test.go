package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// relayFixture is a user with quota and a relay token, and a root client.
type relayFixture struct {
	app  *testkit.App
	root *testkit.Client
	user *testkit.Client
	tok  tokenReply
}

func newRelayFixture(t *testing.T, app *testkit.App, userQuota int64, token map[string]any) *relayFixture {
	t.Helper()
	f := &relayFixture{app: app, root: app.Root(t), user: app.NewUser(t, model.RoleCommon)}
	f.root.Do("PUT", "/api/user/", map[string]any{"id": f.user.UserID, "quota": userQuota}).Want(t, 200, true)
	if token == nil {
		token = map[string]any{"name": "relay", "unlimited_quota": true}
	}
	f.user.Do("POST", "/api/token/", token).Want(t, 200, true).Decode(t, &f.tok)
	return f
}

func (f *relayFixture) option(t *testing.T, key, value string) {
	t.Helper()
	f.root.Do("PUT", "/api/option/", map[string]any{"key": key, "value": value}).Want(t, 200, true)
}

func (f *relayFixture) channel(t *testing.T, body map[string]any) int {
	t.Helper()
	if _, ok := body["type"]; !ok {
		body["type"] = 8
	}
	if _, ok := body["key"]; !ok {
		body["key"] = "sk-upstream"
	}
	var out []channelReply
	f.root.Do("POST", "/api/channel/", body).Want(t, 200, true).Decode(t, &out)
	return out[0].ID
}

func (f *relayFixture) client(key string) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(f.app.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
	return &c
}

func chat(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")}}
}

func apiError(t *testing.T, err error, status int, code string) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) || e.StatusCode != status || (code != "" && e.Code != code) {
		t.Fatalf("want OpenAI error %d %q, got %v", status, code, err)
	}
	if !strings.Contains(e.Message, "request id") {
		t.Fatalf("error message lacks the request id: %q", e.Message)
	}
	return e
}

func TestRelayEndToEnd(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"METRICS_ENABLED": "true"}, func(t *testing.T, app *testkit.App) {
		good := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-good"})
		defer good.Close()
		broken := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 500})
		defer broken.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "limited", "remain_quota": 1_000_000, "models": "gpt-4o-mini,gpt-4o,text-embedding-3-small"})
		f.option(t, "AutomaticDisableChannelEnabled", "true")
		f.option(t, "RetryTimes", "3")
		deadKey := f.channel(t, map[string]any{"name": "dead key", "key": "sk-revoked-key-99", "base_url": good.URL, "models": "gpt-4o-mini,gpt-4o", "priority": 10})
		f.channel(t, map[string]any{"name": "broken", "base_url": broken.URL, "models": "gpt-4o-mini,gpt-4o", "priority": 10})
		goodID := f.channel(t, map[string]any{"name": "good", "key": "sk-good", "base_url": good.URL, "models": "gpt-4o-mini,gpt-4o,text-embedding-3-small,gpt-4.1"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		// The client always gets an answer while one good channel remains.
		resp, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" {
			t.Fatalf("chat: %v", err)
		}
		s := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: chat("").Messages,
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		var text strings.Builder
		var usage openai.CompletionUsage
		for s.Next() {
			ch := s.Current()
			if len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
			if ch.Usage.TotalTokens > 0 {
				usage = ch.Usage
			}
		}
		if s.Err() != nil || text.String() != "Hello from the fake upstream" || usage.PromptTokens != 9 {
			t.Fatalf("stream: %v %q %+v", s.Err(), text.String(), usage)
		}
		if _, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}}); err != nil {
			t.Fatal(err)
		}

		// The dead-key channel is disabled automatically.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var ch model.Channel
			app.Store.DB.First(&ch, deadKey)
			if ch.Status == model.ChannelAutoDisabled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("dead-key channel still has status %d", ch.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}

		// /v1/models lists what the group reaches, narrowed by the token.
		models, err := c.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range models.Data {
			ids = append(ids, m.ID)
		}
		if strings.Join(ids, ",") != "gpt-4o,gpt-4o-mini,text-embedding-3-small" {
			t.Fatalf("models %v", ids)
		}
		if m, err := c.Models.Get(ctx, "gpt-4o"); err != nil || m.ID != "gpt-4o" {
			t.Fatalf("get model: %v", err)
		}
		_, err = c.Models.Get(ctx, "gpt-4.1")
		apiError(t, err, 404, "model_not_found")

		// Errors, in OpenAI's shape.
		_, err = f.client("sk-not-a-real-key").Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		apiError(t, err, 401, "invalid_api_key")
		_, err = c.Chat.Completions.New(ctx, chat("gpt-4.1"))
		apiError(t, err, 403, "model_not_allowed")
		_, err = c.Chat.Completions.New(ctx, chat("nobody-serves-this"))
		apiError(t, err, 403, "")
		all := f.user.Do("POST", "/api/token/", map[string]any{"name": "all models", "unlimited_quota": true})
		var allTok tokenReply
		all.Want(t, 200, true).Decode(t, &allTok)
		_, err = f.client(allTok.Key).Chat.Completions.New(ctx, chat("nobody-serves-this"))
		apiError(t, err, 404, "model_not_found")

		for _, tc := range []struct{ body, want string }{
			{`{"model":"gpt-4o-mini"`, "not a JSON object"},
			{`{"messages":[{"role":"user","content":"hi"}]}`, "model is required"},
			{`{"model":"gpt-4o-mini","messages":[]}`, "messages"},
			{`{"model":"gpt-4o-mini","messages":"hi"}`, "messages"},
			{`{"model":"gpt-4o-mini","stream":"yes","messages":[{"role":"user","content":"hi"}]}`, "stream"},
			{`{"model":"gpt-4o-mini","max_tokens":-5,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		} {
			req, _ := http.NewRequest("POST", app.URL+"/v1/chat/completions", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+f.tok.Key)
			req.Header.Set("Content-Type", "application/json")
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != 400 || !strings.Contains(string(body), `"error":{`) || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%s: %d %s", tc.body, r.StatusCode, body)
			}
		}

		// An admin's key with -<channel id> pins a channel; a user's may not.
		var rootTok tokenReply
		f.root.Do("POST", "/api/token/", map[string]any{"name": "pin", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &rootTok)
		f.root.Do("PUT", "/api/user/", map[string]any{"id": 1, "quota": 1_000_000}).Want(t, 200, true)
		before := good.Calls()
		if _, err := f.client(fmt.Sprintf("%s-%d", rootTok.Key, goodID)).Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatalf("pinned: %v", err)
		}
		if good.Calls() != before+1 {
			t.Fatal("pinned call did not go to the pinned channel")
		}
		_, err = f.client(fmt.Sprintf("%s-%d", f.tok.Key, goodID)).Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		apiError(t, err, 403, "")

		// Metrics are served in Prometheus text format.
		mr, err := http.Get(app.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := io.ReadAll(mr.Body)
		mr.Body.Close()
		for _, want := range []string{"switchyard_relay_requests_total{", "switchyard_channel_inflight{", "switchyard_relay_time_to_first_token_seconds", "switchyard_ledger_backlog"} {
			if !strings.Contains(string(mb), want) {
				t.Fatalf("metrics lack %s", want)
			}
		}

		// Consume logs carry the call's facts.
		app.Settle(t)
		var logs []model.Log
		app.Store.LogDB.Where("user_id = ? AND type = ?", f.user.UserID, model.LogConsume).Order("id").Find(&logs)
		if len(logs) != 3 {
			t.Fatalf("%d consume logs for 3 served calls", len(logs))
		}
		for _, l := range logs {
			if l.ChannelID != goodID || l.TokenID != f.tok.ID || l.RequestID == "" || l.Quota <= 0 || l.Username != f.user.Username || l.TokenName != "limited" {
				t.Fatalf("log %+v", l)
			}
		}
		if !logs[1].IsStream || logs[1].PromptTokens != 9 || logs[1].CompletionTokens != 3 {
			t.Fatalf("stream log %+v", logs[1])
		}
	})
}

// TestRelayLedgerUnderLoad mixes hundreds of concurrent relayed calls,
// streamed and not, with failing channels and clients that leave, then
// checks the ledger's sums against the logs.
func TestRelayLedgerUnderLoad(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		fast := fakeupstream.Start(fakeupstream.Behavior{Chunks: 8})
		defer fast.Close()
		slow := fakeupstream.Start(fakeupstream.Behavior{Chunks: 20, ChunkDelay: 5 * time.Millisecond, NoUsage: true})
		defer slow.Close()
		flaky := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 502})
		defer flaky.Close()
		down := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 500})
		defer down.Close()
		f := newRelayFixture(t, app, 50_000_000, map[string]any{"name": "small", "remain_quota": 40_000})
		var big tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "big", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &big)
		f.option(t, "RetryTimes", "2")
		f.channel(t, map[string]any{"name": "flaky", "base_url": flaky.URL, "models": "gpt-4o", "priority": 1})
		fastID := f.channel(t, map[string]any{"name": "fast", "base_url": fast.URL, "models": "gpt-4o"})
		slowID := f.channel(t, map[string]any{"name": "slow", "base_url": slow.URL, "models": "gpt-4o,slow-model"})
		f.channel(t, map[string]any{"name": "down", "base_url": down.URL, "models": "broken-model"})

		const calls = 240
		var wg sync.WaitGroup
		sem := make(chan struct{}, 48)
		var mu sync.Mutex
		outcomes := map[string]int{}
		for i := 0; i < calls; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				key := big.Key
				if i%3 == 0 {
					key = f.tok.Key
				}
				c := f.client(key)
				modelName := []string{"gpt-4o", "gpt-4o", "slow-model", "broken-model"}[rng.IntN(4)]
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				outcome := "ok"
				switch rng.IntN(3) {
				case 0:
					_, err := c.Chat.Completions.New(ctx, chat(modelName))
					if err != nil {
						outcome = "error"
					}
				case 1:
					s := c.Chat.Completions.NewStreaming(ctx, chat(modelName))
					for s.Next() {
					}
					if s.Err() != nil {
						outcome = "error"
					}
					s.Close()
				default:
					// The client leaves after its first chunk.
					s := c.Chat.Completions.NewStreaming(ctx, chat(modelName))
					if s.Next() {
						cancel()
						outcome = "left"
					} else {
						outcome = "error"
					}
					for s.Next() {
					}
					s.Close()
				}
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		t.Logf("outcomes %v", outcomes)
		if outcomes["ok"] == 0 || outcomes["error"] == 0 || outcomes["left"] == 0 {
			t.Fatalf("the mix did not cover every case: %v", outcomes)
		}

		// Every reservation settles (abandoned streams settle when their
		// upstream call ends), then the sums must hold.
		app.Settle(t)
		var user model.User
		app.Store.DB.First(&user, f.user.UserID)
		var userLogs int64
		app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", user.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&userLogs)
		if user.UsedQuota != userLogs || user.Quota < 0 || user.Quota+user.UsedQuota != 50_000_000 {
			t.Fatalf("user quota %d used %d logs %d", user.Quota, user.UsedQuota, userLogs)
		}
		for _, id := range []int{f.tok.ID, big.ID} {
			var tok model.Token
			app.Store.DB.First(&tok, id)
			var sum int64
			app.Store.LogDB.Model(&model.Log{}).Where("token_id = ? AND type = ?", id, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&sum)
			if tok.UsedQuota != sum || tok.RemainQuota < 0 {
				t.Fatalf("token %s used %d logs %d remain %d", tok.Name, tok.UsedQuota, sum, tok.RemainQuota)
			}
			if !tok.UnlimitedQuota && tok.RemainQuota+tok.UsedQuota != 40_000 {
				t.Fatalf("token %s remain %d + used %d != 40000", tok.Name, tok.RemainQuota, tok.UsedQuota)
			}
		}
		for _, id := range []int{fastID, slowID} {
			var ch model.Channel
			app.Store.DB.First(&ch, id)
			var sum int64
			app.Store.LogDB.Model(&model.Log{}).Where("channel_id = ? AND type = ?", id, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&sum)
			if ch.UsedQuota != sum {
				t.Fatalf("channel %d used_quota %d, logs %d", id, ch.UsedQuota, sum)
			}
		}
		var failedLogs int64
		app.Store.LogDB.Model(&model.Log{}).Where("model_name = ?", "broken-model").Count(&failedLogs)
		if failedLogs != 0 {
			t.Fatalf("%d consume logs for calls that never succeeded", failedLogs)
		}
	})
}

// TestStreamsKeepTheUpstreamConnection: a stream whose body ends a while
// after its last event still hands its connection back for the next call
// (a closed one costs every stream a dial), and an upstream that keeps
// the body open past the relay's bound only loses its connection.
func TestStreamsKeepTheUpstreamConnection(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	lingering := fakeupstream.Start(fakeupstream.Behavior{AfterDone: 20 * time.Millisecond})
	defer lingering.Close()
	stuck := fakeupstream.Start(fakeupstream.Behavior{AfterDone: time.Minute})
	defer stuck.Close()
	f := newRelayFixture(t, app, 10_000_000, nil)
	f.channel(t, map[string]any{"name": "lingering", "base_url": lingering.URL, "models": "gpt-4o-mini"})
	f.channel(t, map[string]any{"name": "stuck", "base_url": stuck.URL, "models": "gpt-4o"})
	c := f.client(f.tok.Key)
	stream := func(model string) {
		t.Helper()
		s := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: model, Messages: chat("").Messages})
		var text strings.Builder
		for s.Next() {
			if ch := s.Current(); len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		if s.Err() != nil || text.String() != "Hello from the fake upstream" {
			t.Fatalf("%s: %v %q", model, s.Err(), text.String())
		}
		s.Close()
	}
	for range 5 {
		stream("gpt-4o-mini")
	}
	if n := lingering.Conns(); n != 1 {
		t.Fatalf("5 streams opened %d upstream connections, want 1", n)
	}
	stream("gpt-4o")
	stream("gpt-4o")
	if n := stuck.Conns(); n != 2 {
		t.Fatalf("an upstream holding its body open kept its connection: %d connections for 2 streams", n)
	}
	app.Settle(t)
	var n int64
	app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", f.user.UserID, model.LogConsume).Count(&n)
	if n != 7 {
		t.Fatalf("%d consume logs for 7 streams", n)
	}
}
