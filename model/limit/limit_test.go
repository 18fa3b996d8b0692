package limit_test

import (
	"context"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis/v8"

	"switchyard/common/crypto"
	"switchyard/internal/testkit"
	"switchyard/model/limit"
)

// stores runs fn on a limiter in memory and one on the test Redis (a fresh
// key prefix each, never a flush). A Redis that does not answer fails the
// test by name.
func stores(t *testing.T, fn func(t *testing.T, newLimiter func() *limit.Limiter)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func() *limit.Limiter {
			l := limit.New(nil, "")
			t.Cleanup(l.Close)
			return l
		})
	})
	t.Run("redis", func(t *testing.T) {
		rdb := testRedis(t)
		prefix := "sytest:" + crypto.RandomString(8) + ":"
		fn(t, func() *limit.Limiter {
			l := limit.New(rdb, prefix)
			t.Cleanup(l.Close)
			return l
		})
	})
}

func testRedis(t *testing.T) *redis.Client {
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis is required at %s (TEST_REDIS_URL): %v", u, err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// clock is a test clock the limiter's background work may read while
// the test moves it.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func clockAt(l *limit.Limiter, t time.Time) *clock {
	c := &clock{}
	c.Set(t)
	l.SetClock(c.Now)
	return c
}

// TestEstimateHeldWhileInFlight: a call in flight holds its estimate
// against TPM; settling replaces it with the true tokens.
func TestEstimateHeldWhileInFlight(t *testing.T) {
	stores(t, func(t *testing.T, newLimiter func() *limit.Limiter) {
		l := newLimiter()
		clockAt(l, time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC))
		ctx := context.Background()
		rules := []limit.Rule{{Subject: "t:1", TPM: 100}}
		first, st, ref := l.Admit(ctx, rules, 60)
		if ref != nil || st.RemainingTokens != 40 {
			t.Fatalf("first call: %v, remaining %d", ref, st.RemainingTokens)
		}
		if _, _, ref := l.Admit(ctx, rules, 60); ref == nil || ref.Kind != limit.KindTPM {
			t.Fatalf("a second 60-token call fit beside one in flight: %v", ref)
		}
		first.Settle(ctx, 10)
		second, st, ref := l.Admit(ctx, rules, 60)
		if ref != nil || st.RemainingTokens != 30 {
			t.Fatalf("after settling 10 tokens: %v, remaining %d", ref, st.RemainingTokens)
		}
		second.Settle(ctx, 60)
		second.Settle(ctx, 60) // twice is once
		if _, st, _ := l.Admit(ctx, rules, 0); st.RemainingTokens != 30 {
			t.Fatalf("remaining %d after 70 tokens settled, want 30", st.RemainingTokens)
		}
	})
}

// TestEstimateHeldAcrossTheMinute: a call admitted in one minute and
// still in flight in the next holds its estimate there too; its tokens
// count in the minute it settles in.
func TestEstimateHeldAcrossTheMinute(t *testing.T) {
	stores(t, func(t *testing.T, newLimiter func() *limit.Limiter) {
		l := newLimiter()
		now := clockAt(l, time.Date(2031, 1, 1, 0, 0, 50, 0, time.UTC))
		ctx := context.Background()
		rules := []limit.Rule{{Subject: "t:1", TPM: 100}}
		long, _, ref := l.Admit(ctx, rules, 60)
		if ref != nil {
			t.Fatal(ref)
		}
		now.Add(15 * time.Second)
		if _, _, ref := l.Admit(ctx, rules, 60); ref == nil || ref.Kind != limit.KindTPM {
			t.Fatalf("the next minute forgot the estimate of a call still in flight: %v", ref)
		}
		short, st, ref := l.Admit(ctx, rules, 30)
		if ref != nil || st.RemainingTokens != 10 {
			t.Fatalf("a 30-token call beside the held 60: %v, remaining %d", ref, st.RemainingTokens)
		}
		short.Settle(ctx, 5)
		now.Add(time.Minute) // two minutes on: settled in a minute it was never carried to
		long.Settle(ctx, 70)
		if _, st, _ := l.Admit(ctx, rules, 0); st.RemainingTokens != 30 {
			t.Fatalf("remaining %d after the long call settled 70 tokens in this minute, want 30", st.RemainingTokens)
		}
	})
}

// TestOversizedCallGoesAlone: an estimate above the whole TPM still goes
// when nothing else is counted, rather than being refused for ever.
func TestOversizedCallGoesAlone(t *testing.T) {
	stores(t, func(t *testing.T, newLimiter func() *limit.Limiter) {
		l := newLimiter()
		clockAt(l, time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC))
		ctx := context.Background()
		rules := []limit.Rule{{Subject: "t:1", TPM: 100}}
		tk, _, ref := l.Admit(ctx, rules, 500)
		if ref != nil {
			t.Fatalf("a lone oversized call was refused: %v", ref)
		}
		if _, _, ref := l.Admit(ctx, rules, 1); ref == nil {
			t.Fatal("a call fit beside an oversized one")
		}
		tk.Settle(ctx, 0)
	})
}

// TestAllRulesOrNone: a call refused by one subject is counted by none.
func TestAllRulesOrNone(t *testing.T) {
	stores(t, func(t *testing.T, newLimiter func() *limit.Limiter) {
		l := newLimiter()
		clockAt(l, time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC))
		ctx := context.Background()
		token := limit.Rule{Subject: "t:1", RPM: 10}
		user := limit.Rule{Subject: "u:1", RPM: 1}
		if _, _, ref := l.Admit(ctx, []limit.Rule{token, user}, 0); ref != nil {
			t.Fatal(ref)
		}
		for i := 0; i < 5; i++ {
			_, _, ref := l.Admit(ctx, []limit.Rule{token, user}, 0)
			if ref == nil || ref.Subject != "u:1" {
				t.Fatalf("want the user's refusal, got %v", ref)
			}
		}
		if _, st, _ := l.Admit(ctx, []limit.Rule{token}, 0); st.RemainingRequests != 8 {
			t.Fatalf("refused calls counted on the token: %d left of 10, want 8", st.RemainingRequests)
		}
	})
}

// TestWindowsFollowTheClock: RPM resets at the minute, RPD at 00:00 UTC,
// and Retry-After names the wait.
func TestWindowsFollowTheClock(t *testing.T) {
	stores(t, func(t *testing.T, newLimiter func() *limit.Limiter) {
		l := newLimiter()
		now := clockAt(l, time.Date(2031, 1, 1, 23, 59, 45, 0, time.UTC))
		ctx := context.Background()
		rules := []limit.Rule{{Subject: "t:1", RPM: 2, RPD: 3}}
		for i := 0; i < 2; i++ {
			if _, _, ref := l.Admit(ctx, rules, 0); ref != nil {
				t.Fatal(ref)
			}
		}
		_, _, ref := l.Admit(ctx, rules, 0)
		if ref == nil || ref.Kind != limit.KindRPM || ref.RetryAfter != 15*time.Second {
			t.Fatalf("third call in the minute: %+v", ref)
		}
		now.Add(10 * time.Second) // 23:59:55, same minute
		if _, _, ref := l.Admit(ctx, rules, 0); ref == nil {
			t.Fatal("admitted inside the full minute")
		}
		now.Set(time.Date(2031, 1, 2, 0, 0, 0, 0, time.UTC))
		// 00:00:00 of the next day: both windows are new.
		if _, _, ref := l.Admit(ctx, rules, 0); ref != nil {
			t.Fatalf("new day: %v", ref)
		}
	})
}

// TestParallelNeverOverCap races many callers at one parallel cap.
func TestParallelNeverOverCap(t *testing.T) {
	stores(t, func(t *testing.T, newLimiter func() *limit.Limiter) {
		a, b := newLimiter(), newLimiter()
		ctx := context.Background()
		rules := []limit.Rule{{Subject: "t:9", Parallel: 4}}
		var in, peak, served atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func(l *limit.Limiter) {
				defer wg.Done()
				for j := 0; j < 20; j++ {
					tk, _, ref := l.Admit(ctx, rules, 0)
					if ref != nil {
						continue
					}
					n := in.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					served.Add(1)
					in.Add(-1)
					tk.Settle(ctx, 0)
				}
			}([]*limit.Limiter{a, b}[i%2])
		}
		wg.Wait()
		if served.Load() == 0 {
			t.Fatal("nothing admitted")
		}
		// Two limiters in memory are two nodes with their own counters;
		// on Redis they share one cap.
		max := int64(4)
		if !a.Shared() {
			max = 8
		}
		if peak.Load() > max {
			t.Fatalf("%d in flight at once, cap %d", peak.Load(), max)
		}
	})
}

// TestHoldsOfADeadNodeAreDropped: a node that stops without settling
// frees its parallel slots once its heartbeat is gone, and its calls'
// estimates at the end of the minute they were counted in, while a live
// node's calls keep theirs held into the next minute.
func TestHoldsOfADeadNodeAreDropped(t *testing.T) {
	rdb := testRedis(t)
	prefix := "sytest:" + crypto.RandomString(8) + ":"
	ctx := context.Background()
	start := time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC)
	rules := []limit.Rule{{Subject: "t:1", Parallel: 1, TPM: 1000}}
	dead := limit.New(rdb, prefix)
	deadClock := clockAt(dead, start)
	if _, _, ref := dead.Admit(ctx, rules, 100); ref != nil {
		t.Fatal(ref)
	}
	alive := limit.New(rdb, prefix)
	defer alive.Close()
	now := clockAt(alive, start)
	if _, _, ref := alive.Admit(ctx, rules, 100); ref == nil {
		t.Fatal("the slot held by a live node was given twice")
	}
	dead.Close() // its heartbeat key goes with it
	tk, st, ref := alive.Admit(ctx, rules, 200)
	if ref != nil || st.RemainingTokens != 700 {
		t.Fatalf("the dead node's slot was not freed, or its estimate not counted this minute: %v, %d tokens left", ref, st.RemainingTokens)
	}
	deadClock.Add(time.Minute)
	now.Add(time.Minute)
	_, st, ref = alive.Admit(ctx, []limit.Rule{{Subject: "t:1", TPM: 1000}}, 0)
	if ref != nil || st.RemainingTokens != 800 {
		t.Fatalf("next minute: %v, %d tokens left, want 800 (the live call's 200 carried, the dead one's 100 gone)", ref, st.RemainingTokens)
	}
	tk.Settle(ctx, 50)
	if _, st, _ := alive.Admit(ctx, []limit.Rule{{Subject: "t:1", TPM: 1000}}, 0); st.RemainingTokens != 950 {
		t.Fatalf("after the carried call settled 50 tokens: %d left, want 950", st.RemainingTokens)
	}
}

// TestRedisDownLimitsPerNode: while Redis fails, calls are still judged,
// on this node's counters.
func TestRedisDownLimitsPerNode(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	l := limit.New(rdb, "x:")
	defer l.Close()
	ctx := context.Background()
	rules := []limit.Rule{{Subject: "t:1", RPM: 2}}
	for i := 0; i < 2; i++ {
		tk, _, ref := l.Admit(ctx, rules, 0)
		if ref != nil {
			t.Fatal(ref)
		}
		tk.Settle(ctx, 5)
	}
	if _, _, ref := l.Admit(ctx, rules, 0); ref == nil {
		t.Fatal("no limit while Redis is down")
	}
}

func TestFormatReset(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 20 * time.Millisecond: "20ms", 400 * time.Microsecond: "1ms", time.Second: "1s",
		6 * time.Minute: "6m0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := limit.FormatReset(d); got != want {
			t.Errorf("FormatReset(%v) = %q, want %q", d, got, want)
		}
	}
	// From a second up it is time.Duration's own String, rounded to the
	// millisecond.
	for _, d := range []time.Duration{time.Second, 1001 * time.Millisecond, 59999 * time.Millisecond,
		time.Minute, 61500 * time.Microsecond * 1000, time.Hour, 25*time.Hour + 30*time.Second + 1010*time.Millisecond,
		86399*time.Second + 999600*time.Microsecond, 1234567891 * time.Microsecond} {
		for _, e := range []time.Duration{0, 1, 499 * time.Microsecond, 500 * time.Microsecond, 987654} {
			if got, want := limit.FormatReset(d+e), (d + e).Round(time.Millisecond).String(); got != want {
				t.Errorf("FormatReset(%v) = %q, want %q", d+e, got, want)
			}
		}
	}
}

// TestWriteHeaders: every header and its value, with and without a refusal.
func TestWriteHeaders(t *testing.T) {
	h := http.Header{}
	st := limit.State{LimitRequests: 60, RemainingRequests: 59, ResetRequests: 1500 * time.Millisecond,
		LimitTokens: 100000, RemainingTokens: 0, ResetTokens: 20 * time.Millisecond}
	limit.WriteHeaders(h, st, &limit.Refusal{RetryAfter: 1500 * time.Millisecond})
	want := http.Header{
		"X-Ratelimit-Limit-Requests": {"60"}, "X-Ratelimit-Remaining-Requests": {"59"}, "X-Ratelimit-Reset-Requests": {"1.5s"},
		"X-Ratelimit-Limit-Tokens": {"100000"}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"20ms"},
		"Retry-After": {"2"}, "Retry-After-Ms": {"1500"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("headers %v, want %v", h, want)
	}
	h = http.Header{}
	limit.WriteHeaders(h, limit.State{LimitTokens: 5, RemainingTokens: 4, ResetTokens: time.Minute}, nil)
	h.Add("X-Ratelimit-Limit-Tokens", "appended") // values do not share a slice
	if len(h) != 3 || h.Get("X-Ratelimit-Remaining-Tokens") != "4" || h.Get("X-Ratelimit-Reset-Tokens") != "1m0s" ||
		len(h.Values("X-Ratelimit-Remaining-Tokens")) != 1 {
		t.Fatalf("tokens only: %v", h)
	}
	limit.WriteHeaders(http.Header{}, limit.State{}, nil)
}

// privateLimiter is a limiter on a Redis of the test's own (the tests
// that use it flush its scripts), its clock at a fixed time.
func privateLimiter(t *testing.T) (*redis.Client, *limit.Limiter) {
	srv := testkit.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	l := limit.New(rdb, "ride:")
	t.Cleanup(l.Close)
	clockAt(l, time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC))
	return rdb, l
}

// TestAdmissionRidesAnotherRoundTrip: an admission boarded on another
// round trip (the ledger's reservation) is judged there exactly as by the
// limiter's own queue, including after Redis forgot the scripts; one that
// limits parallel requests keeps the queue.
func TestAdmissionRidesAnotherRoundTrip(t *testing.T) {
	rdb, l := privateLimiter(t)
	ctx := context.Background()
	rules := []limit.Rule{{Subject: "t:1", TPM: 100, RPM: 10}}
	ride := func(est int64) (*limit.Ticket, limit.State, *limit.Refusal) {
		p := l.Start(ctx, rules, est)
		pipe := rdb.Pipeline()
		if !p.Board(ctx, pipe) {
			t.Fatal("an admission without a parallel limit did not board")
		}
		if _, err := pipe.Exec(ctx); err != nil && !strings.HasPrefix(err.Error(), "NOSCRIPT") {
			t.Fatal(err)
		}
		return p.Result()
	}
	first, st, ref := ride(60)
	if ref != nil || st.RemainingTokens != 40 || st.RemainingRequests != 9 {
		t.Fatalf("first call: %v, %+v", ref, st)
	}
	if _, _, ref := ride(60); ref == nil || ref.Kind != limit.KindTPM {
		t.Fatalf("a second 60-token call fit beside one in flight: %v", ref)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The settle goes by the queue (and loads the scripts again). A boarded
	// admission may overtake it (Board's doc): one by the queue, behind
	// it, makes sure it landed.
	first.Settle(ctx, 10)
	if _, _, ref := l.Admit(ctx, rules, 0); ref != nil {
		t.Fatal(ref)
	}
	second, st, ref := ride(60)
	if ref != nil || st.RemainingTokens != 30 {
		t.Fatalf("after settling 10 tokens and a script flush: %v, remaining %d", ref, st.RemainingTokens)
	}
	second.Settle(ctx, 60)
	if _, _, ref := l.Admit(ctx, rules, 0); ref != nil {
		t.Fatal(ref)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, st, ref := ride(0); ref != nil || st.RemainingTokens != 30 {
		t.Fatalf("boarded into a Redis without the scripts: %v, remaining %d", ref, st.RemainingTokens)
	}

	par := []limit.Rule{{Subject: "t:2", Parallel: 1}}
	p := l.Start(ctx, par, 0)
	if p.Board(ctx, rdb.Pipeline()) {
		t.Fatal("an admission with a parallel limit boarded")
	}
	if tk, _, ref := p.Result(); ref != nil || tk == nil {
		t.Fatalf("parallel admission by the queue: %v", ref)
	}
}

// TestSettleRidesAnotherRoundTrip: a settle boarded on another round trip
// (the ledger's settlement) is applied when Finish returns, so the next
// admission finds it however it goes, also after Redis forgot the scripts.
func TestSettleRidesAnotherRoundTrip(t *testing.T) {
	rdb, l := privateLimiter(t)
	ctx := context.Background()
	rules := []limit.Rule{{Subject: "t:1", TPM: 100}}
	ride := func(est int64) (*limit.Ticket, limit.State) {
		p := l.Start(ctx, rules, est)
		pipe := rdb.Pipeline()
		p.Board(ctx, pipe)
		_, _ = pipe.Exec(ctx)
		tk, st, ref := p.Result()
		if ref != nil {
			t.Fatal(ref)
		}
		return tk, st
	}
	settle := func(tk *limit.Ticket, tokens int64) {
		s := limit.Settles{Tokens: tokens}
		s.Tickets[0] = tk
		pipe := rdb.Pipeline()
		s.Board(ctx, pipe)
		_, _ = pipe.Exec(ctx)
		s.Finish(ctx)
		// A second settle of the same ticket does nothing.
		tk.Settle(ctx, 50)
	}
	first, _ := ride(60)
	settle(first, 10)
	second, st := ride(60)
	if st.RemainingTokens != 30 {
		t.Fatalf("after a boarded settle of 10 tokens: remaining %d, want 30", st.RemainingTokens)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	settle(second, 20)
	if _, st := ride(0); st.RemainingTokens != 70 {
		t.Fatalf("after a settle boarded into a Redis without the scripts: remaining %d, want 70", st.RemainingTokens)
	}

	// A ticket kept in memory does not board; Finish settles it.
	mem := limit.New(nil, "")
	t.Cleanup(mem.Close)
	clockAt(mem, time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC))
	tk, _, ref := mem.Admit(ctx, rules, 60)
	if ref != nil {
		t.Fatal(ref)
	}
	settle(tk, 5)
	if _, st, _ := mem.Admit(ctx, rules, 0); st.RemainingTokens != 95 {
		t.Fatalf("in memory: remaining %d, want 95", st.RemainingTokens)
	}
}
