package limit_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis/v8"

	"switchyard/internal/testkit"
	"switchyard/model/limit"
)

// twoNodes is two limiters (two nodes) on a Redis of the test's own, one
// key prefix, their clocks at one fixed time.
func twoNodes(t *testing.T) (*redis.Client, [2]*limit.Limiter, [2]*clock) {
	srv := testkit.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	var ls [2]*limit.Limiter
	var cs [2]*clock
	for i := range ls {
		ls[i] = limit.New(rdb, "slice:")
		t.Cleanup(ls[i].Close)
		cs[i] = clockAt(ls[i], time.Date(2031, 1, 1, 0, 0, 5, 0, time.UTC))
	}
	return rdb, ls, cs
}

// scriptsRun is how many scripts the Redis has run.
func scriptsRun(t *testing.T, rdb *redis.Client) int {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(info, "\r\n") {
		if name, rest, ok := strings.Cut(line, ":"); ok && (name == "cmdstat_evalsha" || name == "cmdstat_eval") {
			calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
			c, err := strconv.Atoi(calls)
			if err != nil {
				t.Fatalf("commandstats: %q", line)
			}
			n += c
		}
	}
	return n
}

// TestSlicesAdmitExactlyTheLimitAcrossNodes: with room to spare each node
// admits from its slice of the counter without a round trip, and two
// nodes racing to the end of a limit still admit exactly the limit in
// total, never one more.
func TestSlicesAdmitExactlyTheLimitAcrossNodes(t *testing.T) {
	for _, rules := range [][]limit.Rule{
		{{Subject: "t:1", RPM: 2000}},
		{{Subject: "t:2", RPD: 2000}},
		{{Subject: "t:3", TPM: 20_000}}, // 10 tokens a call
		{{Subject: "t:4", RPM: 3000, TPM: 1_000_000}, {Subject: "u:4", RPM: 2000}},
	} {
		t.Run(rules[0].Subject, func(t *testing.T) {
			rdb, nodes, _ := twoNodes(t)
			ctx := context.Background()
			before := scriptsRun(t, rdb)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := nodes[i%2]
					for {
						tk, _, ref := l.Admit(ctx, rules, 10)
						if ref != nil {
							return
						}
						admitted.Add(1)
						tk.Settle(ctx, 10)
					}
				}()
			}
			wg.Wait()
			if got := admitted.Load(); got != 2000 {
				t.Fatalf("admitted %d calls under a limit of 2000", got)
			}
			// Every call alone would be an admit (and a settle where tokens
			// count); slices leave a fraction of that.
			if n := scriptsRun(t, rdb) - before; n > 1000 {
				t.Fatalf("%d scripts for 2,000 calls: slices were not used", n)
			}
		})
	}
}

// TestSmallLimitsAreNotSliced: a limit without room for 64 calls is
// judged in Redis every time, so each answer's remaining count is exact
// across nodes.
func TestSmallLimitsAreNotSliced(t *testing.T) {
	_, nodes, _ := twoNodes(t)
	ctx := context.Background()
	rules := []limit.Rule{{Subject: "t:1", RPM: 60}}
	for i := range 60 {
		_, st, ref := nodes[i%2].Admit(ctx, rules, 0)
		if ref != nil || st.RemainingRequests != int64(59-i) {
			t.Fatalf("call %d: %v, remaining %d, want %d", i, ref, st.RemainingRequests, 59-i)
		}
	}
	for _, l := range nodes {
		if _, _, ref := l.Admit(ctx, rules, 0); ref == nil || ref.Kind != limit.KindRPM {
			t.Fatalf("the 61st call of a 60-a-minute limit: %v", ref)
		}
	}
}

// TestTokensSettleAgainstTheSlice: tokens used beyond a call's estimate
// count in Redis even when the call was admitted from this node's slice,
// so the other node sees them; a call from a slice that settles after
// the minute turned is carried and counted in the new minute.
func TestTokensSettleAgainstTheSlice(t *testing.T) {
	rdb, nodes, clocks := twoNodes(t)
	ctx := context.Background()
	rules := []limit.Rule{{Subject: "t:1", TPM: 10_000_000}}
	a, b := nodes[0], nodes[1]
	before := scriptsRun(t, rdb)
	// 1,000-token estimates, 30,000 tokens used: the slice (at most 64
	// estimates) runs dry, and its excess goes to Redis by the queue.
	for range 40 {
		tk, _, ref := a.Admit(ctx, rules, 1000)
		if ref != nil {
			t.Fatal(ref)
		}
		tk.Settle(ctx, 30_000)
	}
	if n := scriptsRun(t, rdb) - before; n >= 80 {
		t.Fatalf("%d scripts for 40 admitted and settled calls: slices were not used", n)
	}
	// Node a has settled 1,200,000 tokens in this minute, which b sees
	// once a's queue has reached Redis. (b asks with no estimate, so it
	// is granted no slice and reads Redis every time.)
	testkit.Eventually(t, 5*time.Second, "node b never saw the tokens node a settled from its slice", func() bool {
		_, st, ref := b.Admit(ctx, rules, 0)
		return ref == nil && st.RemainingTokens <= 10_000_000-1_200_000
	})

	// A fresh minute: a call from a's slice is still in flight when the
	// minute turns; its estimate is carried, and its tokens count in the
	// minute it settles in, seen from b.
	for _, c := range clocks {
		c.Add(time.Minute)
	}
	first, _, ref := a.Admit(ctx, rules, 1000) // granted the slice
	if ref != nil {
		t.Fatal(ref)
	}
	first.Settle(ctx, 1000)
	long, _, ref := a.Admit(ctx, rules, 1000) // from the slice
	if ref != nil {
		t.Fatal(ref)
	}
	for _, c := range clocks {
		c.Add(time.Minute)
	}
	if _, _, ref := a.Admit(ctx, rules, 0); ref != nil { // carries a's estimate in flight
		t.Fatal(ref)
	}
	long.Settle(ctx, 250_000)
	testkit.Eventually(t, 5*time.Second, "node b never saw the 250,000 tokens of a call that settled after the minute turned", func() bool {
		_, st, ref := b.Admit(ctx, rules, 0)
		return ref == nil && st.RemainingTokens == 10_000_000-250_000
	})
}

// TestChangedLimitHandsTheSliceBack: a slice granted under one limit is
// not spent under a lower one; it goes back to Redis, which judges the
// lower limit on the calls really made.
func TestChangedLimitHandsTheSliceBack(t *testing.T) {
	_, nodes, _ := twoNodes(t)
	ctx := context.Background()
	l := nodes[0]
	for range 10 {
		if _, _, ref := l.Admit(ctx, []limit.Rule{{Subject: "t:1", RPM: 10_000}}, 0); ref != nil {
			t.Fatal(ref)
		}
	}
	lowered := []limit.Rule{{Subject: "t:1", RPM: 11}}
	if _, st, ref := nodes[1].Admit(ctx, lowered, 0); ref == nil {
		t.Fatalf("node b saw room under the lowered limit while node a held its slice: %+v", st)
	}
	if _, st, ref := l.Admit(ctx, lowered, 0); ref != nil || st.RemainingRequests != 0 {
		t.Fatalf("the 11th call of 11 (the slice handed back): %v, remaining %d", ref, st.RemainingRequests)
	}
	if _, _, ref := l.Admit(ctx, lowered, 0); ref == nil {
		t.Fatal("a 12th call under a limit of 11")
	}
}

// TestSliceNeverSkipsAParallelLimit: a subject that gains a parallel
// limit while its node holds a slice of its RPM is judged in Redis, slot
// and all.
func TestSliceNeverSkipsAParallelLimit(t *testing.T) {
	_, nodes, _ := twoNodes(t)
	ctx := context.Background()
	l := nodes[0]
	if _, _, ref := l.Admit(ctx, []limit.Rule{{Subject: "t:1", RPM: 10_000}}, 0); ref != nil {
		t.Fatal(ref)
	}
	for _, rule := range []limit.Rule{{Subject: "t:1", RPM: 10_000, Parallel: 1}, {Subject: "t:1", Parallel: 1}} {
		rules := []limit.Rule{rule}
		held, _, ref := l.Admit(ctx, rules, 0)
		if ref != nil {
			t.Fatal(ref)
		}
		if _, _, ref := l.Admit(ctx, rules, 0); ref == nil || ref.Kind != limit.KindParallel {
			t.Fatalf("%+v: a second call beside one in flight: %v", rule, ref)
		}
		held.Settle(ctx, 0)
		testkit.Eventually(t, 5*time.Second, "the parallel slot never came free", func() bool {
			tk, _, ref := l.Admit(ctx, rules, 0)
			if ref == nil {
				tk.Settle(ctx, 0)
			}
			return ref == nil
		})
	}
}
