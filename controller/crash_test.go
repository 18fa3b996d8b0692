package controller_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
	"switchyard/relay"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBinaries()
	os.Exit(code)
}

// TestKill9WithOpenStreamsBillsWhatWasDelivered is issue 13's defect 10
// at the process level: a switchyard binary relaying open streams is
// killed with SIGKILL (no shutdown, no flush), a new one starts on the
// same database, and the streams are billed for what their clients
// received (down to the last checkpoint that reached the database), once
// each, with no reservation left and the ledger's sums whole.
func TestKill9WithOpenStreamsBillsWhatWasDelivered(t *testing.T) {
	const streams = 6
	const userQuota, tokenQuota = 5_000_000, 2_000_000
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			// Streams of 20 s: the kill comes long before their end.
			up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 400, ChunkDelay: 50 * time.Millisecond,
				Reply: strings.Repeat("streamed words ", 400)})
			defer up.Close()
			vars := testkit.Env(t, db, nil)
			first := testkit.StartProcess(t, vars)
			f := newRelayFixture(t, first.App, userQuota, map[string]any{"name": "crash", "remain_quota": tokenQuota, "expired_time": -1})
			f.channel(t, map[string]any{"name": "slow", "base_url": up.URL, "models": "gpt-4o"})
			rows := first.Tool(t)

			var mu sync.Mutex
			got := make([]string, streams)
			var wg sync.WaitGroup
			for i := range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := f.client(f.tok.Key).Chat.Completions.NewStreaming(context.Background(), chat("gpt-4o"))
					for s.Next() {
						if ch := s.Current(); len(ch.Choices) > 0 {
							mu.Lock()
							got[i] += ch.Choices[0].Delta.Content
							mu.Unlock()
						}
					}
					_ = s.Close() // ends with an error: the server died
				}()
			}
			// Every stream has a checkpoint in the database, and has grown
			// past its first one.
			var floor int64
			testkit.Eventually(t, 20*time.Second, "every open stream is checkpointed in the database", func() bool {
				var cps []model.LedgerCheckpoint
				if err := rows.DB.Where("settled = ? AND cost > 0", false).Find(&cps).Error; err != nil {
					t.Fatal(err)
				}
				floor = 0
				for _, c := range cps {
					floor += c.Cost
				}
				return len(cps) == streams
			})
			// What a crash bills is each stream's record or, once written,
			// its node's figures (ledger_figures.go): they must advance.
			durable := func() int64 {
				var cps []model.LedgerCheckpoint
				rows.DB.Where("settled = ?", false).Find(&cps)
				var figs []model.LedgerStreamFigures
				rows.DB.Find(&figs)
				costs := map[string]int64{}
				for _, f := range figs {
					m, err := model.StreamCosts(f.Data)
					if err != nil {
						t.Fatal(err)
					}
					for id, c := range m {
						costs[id] = c
					}
				}
				var sum int64
				for _, c := range cps {
					sum += max(c.Cost, costs[c.ID])
				}
				return sum
			}
			testkit.Eventually(t, 20*time.Second, "the checkpoints advance", func() bool {
				if now := durable(); now > floor {
					floor = now
					return true
				}
				return false
			})
			first.Kill()
			wg.Wait()
			var delivered int64
			for i, text := range got {
				if text == "" {
					t.Fatalf("stream %d received nothing before the kill", i)
				}
				delivered += int64(relay.ApproxTokens(text))
			}
			if n := streamLogs(t, rows, f.user.UserID); len(n) != 0 {
				t.Fatalf("%d consume logs before the restart: the streams were still open", len(n))
			}

			// The next start on the same database recovers at once: the dead
			// process was on this host.
			second := testkit.StartProcess(t, vars)
			logs := streamLogs(t, rows, f.user.UserID)
			if len(logs) != streams {
				t.Fatalf("after the restart %d consume logs, want one per stream (%d):\n%s", len(logs), streams, second.Log())
			}
			var billed, completion int64
			for _, l := range logs {
				if l.Quota <= 0 || !l.IsStream || l.TokenID == 0 || l.ModelName != "gpt-4o" {
					t.Fatalf("recovered consume log %+v does not describe a stream", l)
				}
				billed += l.Quota
				completion += int64(l.CompletionTokens)
			}
			if billed < floor {
				t.Fatalf("billed %d, less than the %d the checkpoints had made durable before the kill", billed, floor)
			}
			if completion > delivered {
				t.Fatalf("billed %d completion tokens, more than the %d the clients received", completion, delivered)
			}
			var open int64
			rows.DB.Model(&model.LedgerCheckpoint{}).Where("settled = ?", false).Count(&open)
			if open != 0 {
				t.Fatalf("%d checkpoints left unsettled after the restart", open)
			}
			if rows.Redis != nil {
				assertNoHolds(t, rows)
			}

			// A clean stop and a third start charge nothing again.
			second.Stop()
			third := testkit.StartProcess(t, vars)
			third.Stop()
			if again := streamLogs(t, rows, f.user.UserID); len(again) != streams {
				t.Fatalf("a later start changed the consume logs to %d", len(again))
			}
			processSums(t, rows, f.user.UserID, userQuota, tokenQuota, billed)
		})
	}
}

func streamLogs(t *testing.T, s *model.Store, userID int) []model.Log {
	t.Helper()
	var logs []model.Log
	if err := s.LogDB.Where("user_id = ? AND type = ?", userID, model.LogConsume).Find(&logs).Error; err != nil {
		t.Fatal(err)
	}
	return logs
}

// assertNoHolds fails unless no node holds anything in Redis: the dead
// node's reservations were given back.
func assertNoHolds(t *testing.T, s *model.Store) {
	t.Helper()
	ctx := context.Background()
	keys, err := s.Redis.Keys(ctx, s.Cfg.RedisKeyPrefix+"ledger:resv:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		held, err := s.Redis.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for field, v := range held {
			if v != "0" {
				t.Fatalf("%s still holds %s against %s", k, v, field)
			}
		}
	}
}

// processSums checks the rows once every process has stopped: used equals
// the consume logs for user and token, and quota + used what was credited.
func processSums(t *testing.T, s *model.Store, userID int, credited, tokenCredited, billed int64) {
	t.Helper()
	var u model.User
	if err := s.DB.First(&u, userID).Error; err != nil {
		t.Fatal(err)
	}
	if u.UsedQuota != billed || u.Quota+u.UsedQuota != credited || u.Quota < 0 {
		t.Fatalf("user quota %d used %d: want used = %d billed and quota + used = %d credited", u.Quota, u.UsedQuota, billed, credited)
	}
	var toks []model.Token
	s.DB.Where("user_id = ?", userID).Find(&toks)
	if len(toks) != 1 {
		t.Fatalf("%d tokens, want the fixture's one", len(toks))
	}
	tok := toks[0]
	if tok.UsedQuota != billed || tok.RemainQuota+tok.UsedQuota != tokenCredited || tok.RemainQuota < 0 {
		t.Fatalf("token remain %d used %d: want used = %d billed and remain + used = %d", tok.RemainQuota, tok.UsedQuota, billed, tokenCredited)
	}
}

// TestRelayGoesOnWhileRedisIsAway is defect 2 of issue 13 on the real
// binary: while Redis was down every relayed call answered 500. Now the
// process goes on relaying from its leases, says so once in its log and
// in /readyz, and when Redis is back (restarted empty) it reconciles:
// every call billed once, the sums whole.
func TestRelayGoesOnWhileRedisIsAway(t *testing.T) {
	const userQuota, tokenQuota = 1_000_000, 600_000
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			up := fakeupstream.Start(fakeupstream.Behavior{})
			defer up.Close()
			rs := testkit.StartRedis(t)
			proc := testkit.StartProcess(t, testkit.Env(t, db, map[string]string{"REDIS_CONN_STRING": rs.URL()}))
			f := newRelayFixture(t, proc.App, userQuota, map[string]any{"name": "r", "remain_quota": tokenQuota, "expired_time": -1})
			f.channel(t, map[string]any{"name": "up", "base_url": up.URL, "models": "gpt-4o"})
			c := f.client(f.tok.Key)
			call := func(what string) {
				t.Helper()
				if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o")); err != nil {
					t.Fatalf("%s: %v\n%s", what, err, proc.Log())
				}
			}
			calls := 0
			for range 3 {
				call("a call with redis up")
				calls++
			}
			rs.Stop()
			for range 10 {
				call("a call with redis stopped")
				calls++
			}
			var ready struct {
				Status string `json:"status"`
			}
			r := proc.Anon(t).Do("GET", "/readyz", nil)
			if err := json.Unmarshal(r.Raw, &ready); err != nil || r.Status != 200 || ready.Status != "degraded" {
				t.Fatalf("readyz with redis stopped: %d %s", r.Status, r.Raw)
			}
			if n := strings.Count(proc.Log(), "redis unreachable; reserving"); n != 1 {
				t.Fatalf("the outage was logged %d times, want once:\n%s", n, proc.Log())
			}
			rs.Start()
			testkit.Eventually(t, 20*time.Second, "the process is back on redis", func() bool {
				r := proc.Anon(t).Do("GET", "/readyz", nil)
				return json.Unmarshal(r.Raw, &ready) == nil && ready.Status == "ok"
			})
			for range 3 {
				call("a call after redis came back")
				calls++
			}
			rows := proc.Tool(t)
			proc.Stop()
			logs := streamLogs(t, rows, f.user.UserID)
			if len(logs) != calls {
				t.Fatalf("%d consume logs for %d calls", len(logs), calls)
			}
			var billed int64
			for _, l := range logs {
				billed += l.Quota
			}
			processSums(t, rows, f.user.UserID, userQuota, tokenQuota, billed)
		})
	}
}
