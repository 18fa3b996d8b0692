package controller_test

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// Issue 13, defect 4: a max_tokens of 2^63−1 wrapped the reservation
// estimate negative, so a user with quota for 5 calls was served 30
// concurrent ones. The estimate now saturates: the first call reserves
// the whole balance and the sums still hold.
func TestHugeMaxTokensCannotOverspend(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		// gpt-4o-mini: (9 + 3 × 4) × 0.075 = 1.575, so each call costs 2.
		const perCall, calls = 2, 30
		f := newRelayFixture(t, app, 5*perCall, nil)
		f.channel(t, map[string]any{"name": "gpt", "base_url": up.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		var served atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < calls; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := chat("gpt-4o-mini")
				p.MaxTokens = openai.Int(math.MaxInt64)
				if _, err := c.Chat.Completions.New(context.Background(), p); err == nil {
					served.Add(1)
				}
			}()
		}
		wg.Wait()
		logs := f.consumeLogs(t)
		if served.Load() == 0 || served.Load() > 5 || int64(len(logs)) != served.Load() {
			t.Fatalf("%d of %d calls served, %d logs, for quota of 5", served.Load(), calls, len(logs))
		}
		var user model.User
		app.Store.DB.First(&user, f.user.UserID)
		var sum int64
		for _, l := range logs {
			sum += l.Quota
		}
		if user.Quota < 0 || user.UsedQuota != sum || user.Quota+user.UsedQuota != 5*perCall {
			t.Fatalf("quota %d used %d logs %d", user.Quota, user.UsedQuota, sum)
		}
	})
}

// Cached and reasoning tokens are billed at their ratios and stored on
// the consume log, which the log API shows.
func TestCacheAndReasoningTokensAreBilledAndLogged(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{PromptTokens: 2006, CachedTokens: 1920, ReasoningTokens: 2})
		defer up.Close()
		claude := fakeupstream.StartAnthropic(fakeupstream.Behavior{PromptTokens: 10, CachedTokens: 2000, CacheCreationTokens: 300, Chunks: 7})
		defer claude.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "gpt", "base_url": up.URL, "models": "gpt-4o"})
		f.channel(t, map[string]any{"type": 14, "name": "claude", "base_url": claude.URL, "models": "claude-sonnet-4-5"})
		ctx := context.Background()
		if _, err := f.client(f.tok.Key).Chat.Completions.New(ctx, chat("gpt-4o")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.anthropic(f.tok.Key).Messages.New(ctx, claudeParams("claude-sonnet-4-5", false)); err != nil {
			t.Fatal(err)
		}
		logs := f.consumeLogs(t)
		if len(logs) != 2 {
			t.Fatalf("%d logs", len(logs))
		}
		// gpt-4o: (86 + 1920 × 0.5 + 3 × 4) × 1.25 = 1322.5 → 1323.
		if l := logs[0]; l.Quota != 1323 || l.CachedTokens != 1920 || l.ReasoningTokens != 2 || l.PromptTokens != 2006 {
			t.Fatalf("openai log %+v", l)
		}
		// Sonnet 4.5: (10 + 2000 × 0.1 + 300 × 1.25 + 7 × 5) × 1.5 = 930.
		if l := logs[1]; l.Quota != 930 || l.CachedTokens != 2000 || l.CacheCreationTokens != 300 || l.PromptTokens != 2310 {
			t.Fatalf("anthropic log %+v", l)
		}
		// The ratios are options: CacheRatio per model, CacheCreationRatio.
		f.option(t, "CacheRatio", `{"claude-sonnet-4-5":0.5}`)
		f.option(t, "CacheCreationRatio", "2")
		if _, err := f.anthropic(f.tok.Key).Messages.New(ctx, claudeParams("claude-sonnet-4-5", false)); err != nil {
			t.Fatal(err)
		}
		// (10 + 1000 + 600 + 35) × 1.5 = 2467.5 → 2468.
		if logs = f.consumeLogs(t); logs[2].Quota != 2468 {
			t.Fatalf("with options %+v", logs[2])
		}
		var rows []map[string]any
		f.user.Do("GET", "/api/log/self?type=2", nil).Want(t, 200, true).Decode(t, &rows)
		found := false
		for _, r := range rows {
			if r["cached_tokens"] == 2000.0 && r["cache_creation_tokens"] == 300.0 && r["reasoning_tokens"] == 0.0 {
				found = true
			}
		}
		if !found {
			t.Fatalf("the log API lacks the cache detail: %v", rows)
		}
		f.root.Do("PUT", "/api/option/", map[string]any{"key": "CacheRatio", "value": `{"m":-1}`}).WantFail(t, 400, "negative")
		f.root.Do("PUT", "/api/option/", map[string]any{"key": "CacheCreationRatio", "value": "-1"}).WantFail(t, 400, "")
	})
}
