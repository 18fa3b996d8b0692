package controller_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"switchyard/controller"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
	"switchyard/router"
)

// fakeClock is the limiter's clock in these tests: windows move when the
// test says so, never by waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	// Ten seconds into a minute, far from any real window.
	return &fakeClock{now: time.Date(2031, 3, 4, 12, 30, 10, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// chatWithHeaders makes one chat call and returns the answer's headers.
func chatWithHeaders(t *testing.T, c *openai.Client, params openai.ChatCompletionNewParams) (http.Header, error) {
	t.Helper()
	var resp *http.Response
	_, err := c.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
	if resp == nil {
		t.Fatalf("no HTTP answer: %v", err)
	}
	return resp.Header, err
}

func wantHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if got := h.Get(name); got != want {
		t.Fatalf("%s = %q, want %q (headers %v)", name, got, want, h)
	}
}

// TestTokenRPMAdmitsExactlyNThen429 pins issue 11's first test: a token
// with rpm_limit N gets exactly N calls in a minute, each answer carrying
// OpenAI's rate-limit headers, then 429 with Retry-After in the caller's
// API style; the next minute admits again.
func TestTokenRPMAdmitsExactlyNThen429(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		app.Store.Limits.SetClock(clock.Now)
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "rpm", "unlimited_quota": true, "rpm_limit": 3})
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		for i := 0; i < 3; i++ {
			h, err := chatWithHeaders(t, c, chat("gpt-4o-mini"))
			if err != nil {
				t.Fatalf("call %d of 3: %v", i+1, err)
			}
			wantHeader(t, h, "x-ratelimit-limit-requests", "3")
			wantHeader(t, h, "x-ratelimit-remaining-requests", strconv.Itoa(2-i))
			wantHeader(t, h, "x-ratelimit-reset-requests", "50s")
		}
		h, err := chatWithHeaders(t, c, chat("gpt-4o-mini"))
		apiError(t, err, 429, "rate_limit_exceeded")
		wantHeader(t, h, "Retry-After", "50")
		wantHeader(t, h, "x-ratelimit-remaining-requests", "0")
		wantHeader(t, h, "x-ratelimit-limit-requests", "3")
		if up.Calls() != 3 {
			t.Fatalf("upstream got %d calls, want 3", up.Calls())
		}

		// Anthropic's route refuses in Anthropic's shape.
		req, _ := http.NewRequest("POST", app.URL+"/v1/messages", strings.NewReader(`{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("x-api-key", f.tok.Key)
		req.Header.Set("Content-Type", "application/json")
		r := app.Anon(t).Send(req)
		var body struct {
			Type  string                `json:"type"`
			Error struct{ Type string } `json:"error"`
		}
		_ = json.Unmarshal(r.Raw, &body)
		if r.Status != 429 || body.Type != "error" || body.Error.Type != "rate_limit_error" || r.Header.Get("Retry-After") != "50" {
			t.Fatalf("anthropic route: %d %s %v", r.Status, r.Raw, r.Header)
		}

		clock.Add(time.Minute)
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatalf("next minute: %v", err)
		}
	})
}

// TestSDKRetryHonoursRetryAfter: openai-go retries a 429 after the time
// the answer names (retry-after-ms, then Retry-After), and the retry is
// admitted once the window has moved.
func TestSDKRetryHonoursRetryAfter(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		// 400 ms before the minute ends.
		clock.Set(time.Date(2031, 3, 4, 12, 30, 59, 600_000_000, time.UTC))
		app.Store.Limits.SetClock(clock.Now)
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "rpm", "unlimited_quota": true, "rpm_limit": 1})
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		var mu sync.Mutex
		var attempts []time.Time
		var retryAfter []string
		watch := option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
			mu.Lock()
			attempts = append(attempts, time.Now())
			if len(attempts) == 3 {
				// The SDK waited as told; the window it waited for is over.
				clock.Set(time.Date(2031, 3, 4, 12, 31, 0, 0, time.UTC))
			}
			mu.Unlock()
			resp, err := next(req)
			if resp != nil && resp.StatusCode == 429 {
				mu.Lock()
				retryAfter = append(retryAfter, resp.Header.Get("Retry-After-Ms"))
				mu.Unlock()
			}
			return resp, err
		})
		c := openai.NewClient(option.WithBaseURL(app.URL+"/v1/"), option.WithAPIKey(f.tok.Key), option.WithMaxRetries(2), watch)
		ctx := context.Background()
		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatalf("the SDK's retry was not admitted: %v", err)
		}
		if len(attempts) != 3 || len(retryAfter) != 1 || retryAfter[0] != "400" {
			t.Fatalf("attempts %d, retry-after-ms %v; want one 429 asking for 400 ms, then a retry", len(attempts), retryAfter)
		}
		// A lower bound only: the SDK's own backoff for a first retry is
		// under 500 ms, so waiting at least 400 ms shows it read the header.
		if gap := attempts[2].Sub(attempts[1]); gap < 400*time.Millisecond {
			t.Fatalf("the SDK retried after %v, sooner than the 400 ms asked", gap)
		}
	})
}

// TestTPMHoldsEstimateAndCountsSettledTokens: calls are admitted while
// the tokens settled this minute plus the estimates in flight fit the
// limit; the answer reports the tokens left.
func TestTPMHoldsEstimateAndCountsSettledTokens(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		app.Store.Limits.SetClock(clock.Now)
		// Every call uses 40 prompt + 3 completion tokens.
		up := fakeupstream.Start(fakeupstream.Behavior{PromptTokens: 40})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "tpm", "unlimited_quota": true, "tpm_limit": 100})
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		params := chat("gpt-4o-mini")
		params.MaxTokens = openai.Int(10)
		h, err := chatWithHeaders(t, c, params)
		if err != nil {
			t.Fatal(err)
		}
		wantHeader(t, h, "x-ratelimit-limit-tokens", "100")
		wantHeader(t, h, "x-ratelimit-reset-tokens", "50s")
		est := 100 - mustAtoi(t, h.Get("x-ratelimit-remaining-tokens"))
		if est <= 14 || est > 57 {
			t.Fatalf("the first call held %d tokens, want its estimate (prompt + max_tokens 10)", est)
		}
		// 43 settled: the second call fits (43 + estimate <= 100) ...
		h, err = chatWithHeaders(t, c, params)
		if err != nil {
			t.Fatal(err)
		}
		wantHeader(t, h, "x-ratelimit-remaining-tokens", strconv.Itoa(100-43-est))
		// ... the third does not (86 + estimate > 100).
		h, err = chatWithHeaders(t, c, params)
		apiError(t, err, 429, "rate_limit_exceeded")
		wantHeader(t, h, "Retry-After", "50")
		clock.Add(time.Minute)
		if _, err := c.Chat.Completions.New(context.Background(), params); err != nil {
			t.Fatalf("next minute: %v", err)
		}
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestParallelCapNeverExceededAtUpstream: with max_parallel_requests C,
// never more than C calls are in flight at the upstream, however many the
// client sends at once; the rest are refused with 429 and come back.
func TestParallelCapNeverExceededAtUpstream(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		const cap = 3
		up := fakeupstream.Start(fakeupstream.Behavior{Delay: 30 * time.Millisecond})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "par", "unlimited_quota": true, "max_parallel_requests": cap})
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each caller keeps trying until it got one answer.
				for {
					_, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
					if err == nil {
						ok.Add(1)
						return
					}
					apiError(t, err, 429, "rate_limit_exceeded")
					refused.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 24 {
			t.Fatalf("%d calls answered, want 24", ok.Load())
		}
		if peak := up.PeakInflight(); peak > cap || peak < 1 {
			t.Fatalf("the upstream saw %d calls at once, cap %d", peak, cap)
		}
		t.Logf("peak in flight %d (cap %d), %d refusals on the way", up.PeakInflight(), cap, refused.Load())
	})
}

// TestSequentialCallsFindTheirParallelSlotFree: a client that sends each
// call when it has read the last one never meets its own previous call in
// the one parallel slot, in memory and in Redis, for whole answers (which
// reach the client before the ledger settles) and streams.
func TestSequentialCallsFindTheirParallelSlotFree(t *testing.T) {
	for _, env := range []map[string]string{nil, {"REDIS_CONN_STRING": testkit.RedisURL()}} {
		name := "memory"
		if env != nil {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := testkit.Start(t, "sqlite", env)
			up := fakeupstream.Start(fakeupstream.Behavior{})
			defer up.Close()
			f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "one", "unlimited_quota": true, "max_parallel_requests": 1})
			f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
			c := f.client(f.tok.Key)
			ctx := context.Background()
			for i := 0; i < 40; i++ {
				if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				s := c.Chat.Completions.NewStreaming(ctx, chat("gpt-4o-mini"))
				for s.Next() {
				}
				if err := s.Err(); err != nil {
					t.Fatalf("stream %d: %v", i, err)
				}
			}
		})
	}
}

// TestUserAndGroupLimitsSpanTokens: a user's limit counts every token of
// theirs; a group's (GroupRateLimits) every caller in the group.
func TestUserAndGroupLimitsSpanTokens(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		app.Store.Limits.SetClock(clock.Now)
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		var second tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "second", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &second)
		var u model.User
		f.root.Do("PUT", "/api/user/", map[string]any{"id": f.user.UserID, "rpd_limit": 2}).Want(t, 200, true).Decode(t, &u)
		if u.RPDLimit != 2 {
			t.Fatalf("user reply rpd_limit %d", u.RPDLimit)
		}
		ctx := context.Background()
		if _, err := f.client(f.tok.Key).Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		h, err := chatWithHeaders(t, f.client(second.Key), chat("gpt-4o-mini"))
		if err != nil {
			t.Fatal(err)
		}
		wantHeader(t, h, "x-ratelimit-limit-requests", "2")
		wantHeader(t, h, "x-ratelimit-reset-requests", (11*time.Hour + 29*time.Minute + 50*time.Second).String())
		_, err = f.client(f.tok.Key).Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		apiError(t, err, 429, "rate_limit_exceeded")

		// A group limit is shared by everyone in the group.
		f.option(t, "GroupRateLimits", `{"default":{"rpm_limit":1}}`)
		other := newRelayFixture(t, app, 10_000_000, nil)
		if _, err := other.client(other.tok.Key).Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		var third *testkit.Client = app.NewUser(t, model.RoleCommon)
		var tok3 tokenReply
		third.Do("POST", "/api/token/", map[string]any{"name": "t", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &tok3)
		f.root.Do("PUT", "/api/user/", map[string]any{"id": third.UserID, "quota": 1_000_000}).Want(t, 200, true)
		_, err = f.client(tok3.Key).Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		e := apiError(t, err, 429, "rate_limit_exceeded")
		if !strings.Contains(e.Message, "your group") {
			t.Fatalf("refusal does not name the group: %q", e.Message)
		}
	})
}

// TestTwoNodesOnRedisAdmitNInTotal: two nodes on one database and one
// Redis share the counters, so a limit of N per minute admits N in total
// across both.
func TestTwoNodesOnRedisAdmitNInTotal(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		app.Store.Limits.SetClock(clock.Now)
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "shared", "unlimited_quota": true, "rpm_limit": 5, "max_parallel_requests": 50})
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		second := testkit.Reopen(t, app)
		second.Limits.SetClock(clock.Now)
		srv := httptest.NewServer(router.New(app.Cfg, second, &controller.Handler{Cfg: app.Cfg, Store: second, Started: time.Now()}))
		defer srv.Close()
		nodes := []*openai.Client{f.client(f.tok.Key), ptr(openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(f.tok.Key), option.WithMaxRetries(0)))}
		var admitted, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(c *openai.Client) {
				defer wg.Done()
				_, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
				if err == nil {
					admitted.Add(1)
					return
				}
				apiError(t, err, 429, "rate_limit_exceeded")
				refused.Add(1)
			}(nodes[i%2])
		}
		wg.Wait()
		if admitted.Load() != 5 || refused.Load() != 11 {
			t.Fatalf("admitted %d, refused %d across two nodes; want 5 and 11", admitted.Load(), refused.Load())
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestLimitFieldsBadInput: the limit fields of tokens, users, channels and
// GroupRateLimits refuse wrong types, negatives and absurd values, and
// only admins set a user's limits.
func TestLimitFieldsBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		user := app.NewUser(t, model.RoleCommon)
		for _, body := range []string{
			`{"name":"x","rpm_limit":-1}`,
			`{"name":"x","tpm_limit":"10"}`,
			`{"name":"x","rpd_limit":1e13}`,
			`{"name":"x","max_parallel_requests":1.5}`,
			`{"name":"x","rpm_limit":99999999999999999999}`,
			`{"name":"x","rpm_limit":`,
		} {
			if r := user.Do("POST", "/api/token/", body); r.Status != 400 || r.Success {
				t.Fatalf("token %s: %d %s", body, r.Status, r.Raw)
			}
		}
		var tok tokenReply
		user.Do("POST", "/api/token/", map[string]any{"name": "ok", "rpm_limit": 7, "max_parallel_requests": 2}).Want(t, 200, true).Decode(t, &tok)
		if tok.RPMLimit != 7 || tok.MaxParallelRequests != 2 || tok.TPMLimit != 0 {
			t.Fatalf("token reply limits %+v", tok.Limits)
		}
		var got tokenReply
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "tpm_limit": 5000}).Want(t, 200, true).Decode(t, &got)
		if got.RPMLimit != 7 || got.TPMLimit != 5000 {
			t.Fatalf("a partial update changed other limits: %+v", got.Limits)
		}
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "rpm_limit": -5}).WantFail(t, 400, "rpm_limit")

		// A user's own limits are the admins'.
		user.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "rpm_limit": 0}).Want(t, 403, false)
		user.Do("PUT", "/api/user/self", map[string]any{"rpm_limit": 0})
		var self model.User
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Limits != (model.Limits{}) {
			t.Fatalf("a user set their own limits: %+v", self.Limits)
		}
		app.Anon(t).Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "rpm_limit": 1}).Want(t, 401, false)
		admin := app.NewUser(t, model.RoleAdmin)
		var limited model.User
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "rpm_limit": 30, "max_parallel_requests": 4}).Want(t, 200, true).Decode(t, &limited)
		if limited.RPMLimit != 30 || limited.MaxParallelRequests != 4 {
			t.Fatalf("admin's limits not saved: %+v", limited.Limits)
		}
		admin.Do("PUT", "/api/user/", map[string]any{"id": 1, "rpm_limit": 1}).Want(t, 403, false)
		// Another user's token stays out of reach, limits or not.
		other := app.NewUser(t, model.RoleCommon)
		other.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "rpm_limit": 1}).Want(t, 404, false)
		root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "max_parallel_requests": -1}).WantFail(t, 400, "max_parallel_requests")
		root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "tpm_limit": "1' OR 1=1"}).Want(t, 400, false)
		var created model.User
		root.Do("POST", "/api/user/", map[string]any{"username": testkit.Name("lim"), "password": "password-123456", "rpm_limit": 60}).Want(t, 200, true).Decode(t, &created)
		if created.RPMLimit != 60 {
			t.Fatalf("created user rpm_limit %d", created.RPMLimit)
		}

		for _, v := range []string{`{"default":{"rpm_limit":-1}}`, `{"default":{"rpm":5}}`, `["default"]`, `{"默认":{"rpm_limit":"x"}}`, `{`} {
			if r := root.Do("PUT", "/api/option/", map[string]any{"key": "GroupRateLimits", "value": v}); r.Success {
				t.Fatalf("GroupRateLimits %s accepted", v)
			}
		}
		root.Do("PUT", "/api/option/", map[string]any{"key": "GroupRateLimits", "value": `{"默认":{"rpm_limit":5}}`}).Want(t, 200, true)

		for _, body := range []map[string]any{
			{"name": "c", "type": 8, "key": "k", "base_url": "http://127.0.0.1:1", "models": "m", "rpm_limit": -1},
			{"name": "c", "type": 8, "key": "k", "base_url": "http://127.0.0.1:1", "models": "m", "multi_key_mode": "roundrobin"},
			{"name": "c", "type": 8, "key": "k", "base_url": "http://127.0.0.1:1", "models": "m", "tpm_limit": "lots"},
		} {
			if r := root.Do("POST", "/api/channel/", body); r.Status != 400 {
				t.Fatalf("channel %v: %d %s", body, r.Status, r.Raw)
			}
		}
		user.Do("POST", "/api/channel/", map[string]any{"name": "c", "type": 8, "key": "k", "base_url": "http://127.0.0.1:1", "models": "m", "rpm_limit": 5}).Want(t, 403, false)
	})
}

// keyNames of a multi-key channel in these tests.
func keyLines(keys ...string) string { return strings.Join(keys, "\n") }
