package controller_test

import (
	"context"
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

// shanghai is the zone these tests put the period resets in: midnight
// there is 16:00 UTC, so a UTC-only implementation fails them.
var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// tokenRow reads a token as the API shows it.
func tokenRow(t *testing.T, c *testkit.Client, id int) tokenReply {
	t.Helper()
	var tok tokenReply
	c.Do("GET", "/api/token/"+strconv.Itoa(id), nil).Want(t, 200, true).Decode(t, &tok)
	return tok
}

// consumedSince sums the consume logs of a token created at or after from
// (and before to, when to is not zero).
func consumedSince(t *testing.T, s *model.Store, tokenID int, from, to int64) int64 {
	t.Helper()
	var n int64
	q := s.LogDB.Model(&model.Log{}).Where("token_id = ? AND type = ? AND created_at >= ?", tokenID, model.LogConsume, from)
	if to != 0 {
		q = q.Where("created_at < ?", to)
	}
	if err := q.Select("COALESCE(SUM(quota),0)").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func flushAll(t *testing.T, stores ...*model.Store) {
	t.Helper()
	for _, s := range stores {
		testkit.Eventually(t, 20*time.Second, "every reservation settles", func() bool { return s.Ledger.OpenReservations() == 0 })
		if err := s.Ledger.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDailyPeriodQuotaRefusesThenResetsAtMidnight pins issue 11's period
// test: a token with a daily quota serves until the day's quota is used
// (the last call reserving what is left, charged no more), is then refused
// with a message naming the balance and the reset, and serves again once
// the clock passes midnight in QuotaPeriodTimeZone; used and remaining are
// exact in both periods and equal to the consume logs of each.
func TestDailyPeriodQuotaRefusesThenResetsAtMidnight(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		// 23:50 in Shanghai.
		clock.Set(time.Date(2031, 3, 4, 23, 50, 0, 0, shanghai))
		app.Store.Ledger.SetClock(clock.Now)
		up := fakeupstream.Start(fakeupstream.Behavior{PromptTokens: 4000})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "daily", "unlimited_quota": true, "period_quota": 1_000_000, "quota_period": "day"})
		f.option(t, "QuotaPeriodTimeZone", "Asia/Shanghai")
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		dayStart := time.Date(2031, 3, 4, 0, 0, 0, 0, shanghai).Unix()
		dayEnd := time.Date(2031, 3, 5, 0, 0, 0, 0, shanghai)

		// One call tells what a call costs.
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		flushAll(t, app.Store)
		cost := tokenRow(t, f.user, f.tok.ID).UsedQuota
		if cost < 4 {
			t.Fatalf("a call cost %d: too little to split", cost)
		}
		quota := 2*cost + cost/2
		var tok tokenReply
		f.user.Do("PUT", "/api/token/", map[string]any{"id": f.tok.ID, "period_quota": quota}).Want(t, 200, true).Decode(t, &tok)
		if tok.PeriodQuota != quota || tok.QuotaPeriod != "day" || tok.PeriodUsed != cost || tok.PeriodResetAt != dayEnd.Unix() {
			t.Fatalf("after the update: %+v", tok.Period)
		}

		// The second call costs a whole call; the third finds half a call
		// left, reserves it whole and is charged that, never more.
		for i := range 2 {
			if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
				t.Fatalf("call %d: %v", i+2, err)
			}
		}
		_, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
		e := apiError(t, err, 403, model.CodeTokenPeriodExhausted)
		if !strings.Contains(e.Message, "daily quota") || !strings.Contains(e.Message, "2031-03-05T00:00:00+08:00") {
			t.Fatalf("refusal does not say which balance and when it resets: %q", e.Message)
		}
		if up.Calls() != 3 {
			t.Fatalf("upstream got %d calls, want 3", up.Calls())
		}
		flushAll(t, app.Store)
		tok = tokenRow(t, f.user, f.tok.ID)
		if tok.PeriodUsed != quota || tok.UsedQuota != quota {
			t.Fatalf("day one: period_used %d used %d, want both %d", tok.PeriodUsed, tok.UsedQuota, quota)
		}
		if got := consumedSince(t, app.Store, f.tok.ID, dayStart, 0); got != quota {
			t.Fatalf("day one's consume logs sum to %d, period_used %d", got, quota)
		}
		var list []tokenReply
		f.user.Do("GET", "/api/token/", nil).Want(t, 200, true).Decode(t, &list)
		if len(list) != 1 || list[0].PeriodUsed != quota || list[0].PeriodResetAt != dayEnd.Unix() {
			t.Fatalf("token list shows %+v", list)
		}

		// 23:59:59 is still the same day.
		clock.Set(dayEnd.Add(-time.Second))
		_, err = c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
		apiError(t, err, 403, model.CodeTokenPeriodExhausted)

		// Midnight in Shanghai: a fresh day.
		clock.Set(dayEnd.Add(time.Second))
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatalf("after midnight: %v", err)
		}
		flushAll(t, app.Store)
		tok = tokenRow(t, f.user, f.tok.ID)
		nextEnd := time.Date(2031, 3, 6, 0, 0, 0, 0, shanghai).Unix()
		if tok.PeriodUsed != cost || tok.PeriodResetAt != nextEnd || tok.UsedQuota != quota+cost {
			t.Fatalf("day two: %+v used %d; want period_used %d reset %d used %d", tok.Period, tok.UsedQuota, cost, nextEnd, quota+cost)
		}
		if got := consumedSince(t, app.Store, f.tok.ID, dayEnd.Unix(), 0); got != cost {
			t.Fatalf("day two's consume logs sum to %d, period_used %d", got, cost)
		}
		if got := consumedSince(t, app.Store, f.tok.ID, dayStart, dayEnd.Unix()); got != quota {
			t.Fatalf("day one's logs changed to %d", got)
		}

		// The same holds for a user's own period quota, set by an admin:
		// the refusal names the account, and /api/user/self shows it.
		f.user.Do("PUT", "/api/token/", map[string]any{"id": f.tok.ID, "period_quota": 0}).Want(t, 200, true)
		f.root.Do("PUT", "/api/user/", map[string]any{"id": f.user.UserID, "period_quota": 2 * cost, "quota_period": "week"}).Want(t, 200, true)
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		_, err = c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
		if e := apiError(t, err, 403, model.CodeUserPeriodExhausted); !strings.Contains(e.Message, "weekly") {
			t.Fatalf("user refusal: %q", e.Message)
		}
		flushAll(t, app.Store)
		var self model.User
		f.user.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		// 2031-03-05 is a Wednesday: the week ends on Monday the 10th.
		weekEnd := time.Date(2031, 3, 10, 0, 0, 0, 0, shanghai).Unix()
		if self.PeriodQuota != 2*cost || self.QuotaPeriod != "week" || self.PeriodUsed != 2*cost || self.PeriodResetAt != weekEnd {
			t.Fatalf("/api/user/self shows %+v", self.Period)
		}
	})
}

// TestPeriodLedgerSumsHoldUnderConcurrency presses a token's daily quota
// with concurrent calls (streams, whole answers, failures, clients that
// leave) while the clock crosses midnight, and then checks the sums: the
// lifetime ones, and per period, period_used equal to the consume logs
// created in the period and never above the quota.
func TestPeriodLedgerSumsHoldUnderConcurrency(t *testing.T) {
	testkit.ForEachDB(t, nil, periodSumsUnderConcurrency)
}

// TestPeriodLedgerSumsHoldUnderConcurrencyOnRedis is the same run with
// the balances in Redis.
func TestPeriodLedgerSumsHoldUnderConcurrencyOnRedis(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}, periodSumsUnderConcurrency)
}

func periodSumsUnderConcurrency(t *testing.T, app *testkit.App) {
	{
		clock := newFakeClock()
		dayEnd := time.Date(2031, 3, 5, 0, 0, 0, 0, time.UTC)
		clock.Set(dayEnd.Add(-time.Hour))
		app.Store.Ledger.SetClock(clock.Now)
		fast := fakeupstream.Start(fakeupstream.Behavior{Chunks: 8})
		defer fast.Close()
		flaky := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 502})
		defer flaky.Close()
		const quota = 3_000
		f := newRelayFixture(t, app, 50_000_000, map[string]any{"name": "pressed", "remain_quota": 1_000_000, "period_quota": quota, "quota_period": "day"})
		f.option(t, "RetryTimes", "1")
		f.channel(t, map[string]any{"name": "flaky", "base_url": flaky.URL, "models": "gpt-4o", "priority": 1})
		f.channel(t, map[string]any{"name": "fast", "base_url": fast.URL, "models": "gpt-4o"})
		c := f.client(f.tok.Key)
		var refused atomic.Int64
		run := func(n int) {
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := range n {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					var err error
					switch i % 3 {
					case 0:
						_, err = c.Chat.Completions.New(ctx, chat("gpt-4o"))
					case 1:
						s := c.Chat.Completions.NewStreaming(ctx, chat("gpt-4o"))
						for s.Next() {
						}
						err = s.Err()
						s.Close()
					default:
						s := c.Chat.Completions.NewStreaming(ctx, chat("gpt-4o"))
						if s.Next() {
							cancel()
						}
						for s.Next() {
						}
						err = s.Err()
						s.Close()
					}
					if err != nil && strings.Contains(err.Error(), model.CodeTokenPeriodExhausted) {
						refused.Add(1)
					}
				}()
				if i == n/2 {
					// Midnight while calls are in flight: their holds were
					// made yesterday, their charges land today.
					clock.Set(dayEnd.Add(time.Minute))
				}
			}
			wg.Wait()
		}
		// One call settles before midnight whatever the timing of the run's
		// own: both days then have charges to check.
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o")); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 10*time.Second, "the first call settled", func() bool { return app.Store.Ledger.OpenReservations() == 0 })
		run(120)
		flushAll(t, app.Store)
		if refused.Load() == 0 {
			t.Fatal("the period quota was never pressed")
		}
		var row model.Token
		app.Store.DB.First(&row, f.tok.ID)
		today := consumedSince(t, app.Store, f.tok.ID, dayEnd.Unix(), 0)
		yesterday := consumedSince(t, app.Store, f.tok.ID, 0, dayEnd.Unix())
		if row.PeriodStart != dayEnd.Unix() || row.PeriodUsed != today {
			t.Fatalf("row period %d used %d, today's logs %d", row.PeriodStart, row.PeriodUsed, today)
		}
		if today > quota || yesterday > quota || today == 0 || yesterday == 0 {
			t.Fatalf("yesterday %d, today %d, quota %d", yesterday, today, quota)
		}
		if row.UsedQuota != today+yesterday || row.RemainQuota+row.UsedQuota != 1_000_000 {
			t.Fatalf("lifetime: used %d remain %d, logs %d", row.UsedQuota, row.RemainQuota, today+yesterday)
		}
		var u model.User
		app.Store.DB.First(&u, f.user.UserID)
		var userLogs int64
		app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", u.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&userLogs)
		if u.UsedQuota != userLogs || u.Quota < 0 {
			t.Fatalf("user used %d quota %d, logs %d", u.UsedQuota, u.Quota, userLogs)
		}
		// The API shows the same figures as the row.
		if tok := tokenRow(t, f.user, f.tok.ID); tok.PeriodUsed != today {
			t.Fatalf("API period_used %d, logs %d", tok.PeriodUsed, today)
		}
	}
}

// TestTwoNodesOnRedisSharePeriodQuota: with Redis, two nodes draw on one
// period balance: a daily quota of N admits N in total across them (the
// last call taking what is left), both refuse after it, and both serve
// again after midnight.
func TestTwoNodesOnRedisSharePeriodQuota(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}, func(t *testing.T, app *testkit.App) {
		clock := newFakeClock()
		dayEnd := time.Date(2031, 3, 5, 0, 0, 0, 0, time.UTC)
		clock.Set(dayEnd.Add(-time.Hour))
		app.Store.Ledger.SetClock(clock.Now)
		up := fakeupstream.Start(fakeupstream.Behavior{PromptTokens: 4000})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "shared", "unlimited_quota": true})
		f.channel(t, map[string]any{"base_url": up.URL, "models": "gpt-4o-mini"})
		second := testkit.Reopen(t, app)
		second.Ledger.SetClock(clock.Now)
		srv := httptest.NewServer(router.New(app.Cfg, second, &controller.Handler{Cfg: app.Cfg, Store: second, Started: time.Now()}))
		defer srv.Close()
		nodes := []*openai.Client{f.client(f.tok.Key), ptr(openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(f.tok.Key), option.WithMaxRetries(0)))}

		if _, err := nodes[0].Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		flushAll(t, app.Store)
		cost := tokenRow(t, f.user, f.tok.ID).UsedQuota
		quota := 6*cost + cost/2
		f.user.Do("PUT", "/api/token/", map[string]any{"id": f.tok.ID, "period_quota": quota, "quota_period": "day"}).Want(t, 200, true)
		// The second node has not served the token yet: it reads the
		// period quota on first use.
		if _, err := nodes[1].Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		// Press it from both nodes at once.
		var admitted, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := nodes[i%2].Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
				if err == nil {
					admitted.Add(1)
					return
				}
				apiError(t, err, 403, model.CodeTokenPeriodExhausted)
				refused.Add(1)
			}()
		}
		wg.Wait()
		// What concurrency left unspent (holds above the true cost refuse
		// calls that could have paid), sequential calls take, until the
		// last one takes the rest.
		for i := 0; i < 20; i++ {
			_, err := nodes[i%2].Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
			if err != nil {
				apiError(t, err, 403, model.CodeTokenPeriodExhausted)
				break
			}
		}
		for _, n := range nodes {
			_, err := n.Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
			apiError(t, err, 403, model.CodeTokenPeriodExhausted)
		}
		flushAll(t, app.Store, second)
		var row model.Token
		app.Store.DB.First(&row, f.tok.ID)
		// The change of quota_period started a fresh count: the first
		// call is outside it.
		if row.PeriodUsed != quota {
			t.Fatalf("period_used %d across two nodes, want exactly the quota %d", row.PeriodUsed, quota)
		}
		if got := consumedSince(t, app.Store, f.tok.ID, 0, 0); got != quota+cost || row.UsedQuota != got {
			t.Fatalf("consume logs %d, used_quota %d, want %d", got, row.UsedQuota, quota+cost)
		}

		clock.Set(dayEnd.Add(time.Second))
		for i, n := range nodes {
			if _, err := n.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
				t.Fatalf("node %d after midnight: %v", i+1, err)
			}
		}
		flushAll(t, app.Store, second)
		app.Store.DB.First(&row, f.tok.ID)
		if row.PeriodStart != dayEnd.Unix() || row.PeriodUsed != 2*cost {
			t.Fatalf("after midnight: period %d used %d, want %d and %d", row.PeriodStart, row.PeriodUsed, dayEnd.Unix(), 2*cost)
		}
		if got := consumedSince(t, app.Store, f.tok.ID, dayEnd.Unix(), 0); got != 2*cost {
			t.Fatalf("today's logs %d", got)
		}
	})
}

// TestPeriodQuotaFieldsBadInputAndAuthorization: period_quota and
// quota_period refuse unknown periods, negatives, absurd values and wrong
// types, naming the field; only the token's owner sets a token's, only
// admins a user's; a user's own is read-only to them.
func TestPeriodQuotaFieldsBadInputAndAuthorization(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		user := app.NewUser(t, model.RoleCommon)
		for body, field := range map[string]string{
			`{"name":"x","period_quota":100,"quota_period":"year"}`:                              "quota_period",
			`{"name":"x","period_quota":100,"quota_period":"DAY"}`:                               "quota_period",
			`{"name":"x","period_quota":100,"quota_period":"日"}`:                                 "quota_period",
			`{"name":"x","period_quota":100,"quota_period":"day' OR 1=1"}`:                       "quota_period",
			`{"name":"x","period_quota":100}`:                                                    "quota_period",
			`{"name":"x","period_quota":-1,"quota_period":"day"}`:                                "period_quota",
			`{"name":"x","period_quota":1e13,"quota_period":"day"}`:                              "period_quota",
			`{"name":"x","period_quota":99999999999999999999}`:                                   "period_quota",
			`{"name":"x","period_quota":"100","quota_period":"day"}`:                             "period_quota",
			`{"name":"x","period_quota":1.5,"quota_period":"day"}`:                               "period_quota",
			`{"name":"x","period_quota":100,"quota_period":7}`:                                   "quota_period",
			`{"name":"x","period_quota":100,"quota_period":["day"]}`:                             "quota_period",
			`{"name":"x","period_quota":100,"quota_period":"day"`:                                "JSON",
			`{"name":"x","period_quota":100,"quota_period":"` + strings.Repeat("d", 5000) + `"}`: "quota_period",
		} {
			user.Do("POST", "/api/token/", body).WantFail(t, 400, field)
		}
		var tok tokenReply
		user.Do("POST", "/api/token/", map[string]any{"name": "p", "period_quota": 500, "quota_period": "month"}).Want(t, 200, true).Decode(t, &tok)
		if tok.PeriodQuota != 500 || tok.QuotaPeriod != "month" || tok.PeriodUsed != 0 || tok.PeriodResetAt <= time.Now().Unix() {
			t.Fatalf("created %+v", tok.Period)
		}
		// A partial update keeps the other field; 0 clears the period.
		var got tokenReply
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "period_quota": 800}).Want(t, 200, true).Decode(t, &got)
		if got.PeriodQuota != 800 || got.QuotaPeriod != "month" {
			t.Fatalf("partial update: %+v", got.Period)
		}
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "quota_period": "fortnight"}).WantFail(t, 400, "quota_period")
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "period_quota": -3}).WantFail(t, 400, "period_quota")
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "quota_period": ""}).WantFail(t, 400, "quota_period")
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "period_quota": 0}).Want(t, 200, true).Decode(t, &got)
		if got.PeriodQuota != 0 || got.QuotaPeriod != "" || got.PeriodResetAt != 0 {
			t.Fatalf("cleared: %+v", got.Period)
		}
		// Read-only fields sent back are ignored.
		user.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "period_used": -99, "period_reset_at": 1}).Want(t, 200, true).Decode(t, &got)
		if got.PeriodUsed != 0 || got.PeriodResetAt != 0 {
			t.Fatalf("read-only fields written: %+v", got.Period)
		}

		// Another user's token, and no session at all.
		other := app.NewUser(t, model.RoleCommon)
		other.Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "period_quota": 1, "quota_period": "day"}).Want(t, 404, false)
		other.Do("GET", "/api/token/"+strconv.Itoa(tok.ID), nil).Want(t, 404, false)
		app.Anon(t).Do("PUT", "/api/token/", map[string]any{"id": tok.ID, "period_quota": 1, "quota_period": "day"}).Want(t, 401, false)

		// A user's own period quota is the admins': not through the admin
		// route, and ignored through /api/user/self.
		admin := app.NewUser(t, model.RoleAdmin)
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "period_quota": 100, "quota_period": "day"}).Want(t, 200, true)
		user.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "period_quota": 1_000_000, "quota_period": "day"}).Want(t, 403, false)
		user.Do("PUT", "/api/user/self", map[string]any{"period_quota": 1_000_000, "quota_period": "month"})
		var self model.User
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.PeriodQuota != 100 || self.QuotaPeriod != "day" || self.PeriodResetAt == 0 {
			t.Fatalf("a user changed their own period quota: %+v", self.Period)
		}
		admin.Do("PUT", "/api/user/", map[string]any{"id": admin.UserID, "period_quota": 0}).Want(t, 403, false)
		admin.Do("PUT", "/api/user/", map[string]any{"id": 1, "period_quota": 5, "quota_period": "day"}).Want(t, 403, false)
		app.Anon(t).Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "period_quota": 1, "quota_period": "day"}).Want(t, 401, false)
		root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota_period": "hour"}).WantFail(t, 400, "quota_period")
		root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "period_quota": "lots"}).WantFail(t, 400, "period_quota")
		root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "period_quota": int64(model.MaxPeriodQuota) + 1}).WantFail(t, 400, "period_quota")
		var created model.User
		root.Do("POST", "/api/user/", map[string]any{"username": testkit.Name("per"), "password": "password-123456", "period_quota": 70, "quota_period": "week"}).Want(t, 200, true).Decode(t, &created)
		if created.PeriodQuota != 70 || created.QuotaPeriod != "week" || created.PeriodResetAt == 0 {
			t.Fatalf("created user %+v", created.Period)
		}
		root.Do("POST", "/api/user/", map[string]any{"username": testkit.Name("per"), "password": "password-123456", "period_quota": 70, "quota_period": "yearly"}).WantFail(t, 400, "quota_period")
		var users []model.User
		root.Do("GET", "/api/user/", nil).Want(t, 200, true).Decode(t, &users)
		found := false
		for _, u := range users {
			if u.ID == created.ID {
				found = u.PeriodQuota == 70 && u.PeriodResetAt != 0
			}
		}
		if !found {
			t.Fatalf("user list lacks the period fields: %+v", users)
		}

		// The option takes IANA names only.
		for _, v := range []string{"Mars/Olympus", "", "Local", "UTC'; DROP TABLE options; --", "+08:00"} {
			if r := root.Do("PUT", "/api/option/", map[string]any{"key": "QuotaPeriodTimeZone", "value": v}); r.Success || r.Status != 400 {
				t.Fatalf("QuotaPeriodTimeZone %q: %d %s", v, r.Status, r.Raw)
			}
		}
		root.Do("PUT", "/api/option/", map[string]any{"key": "QuotaPeriodTimeZone", "value": "America/New_York"}).Want(t, 200, true)
		user.Do("PUT", "/api/option/", map[string]any{"key": "QuotaPeriodTimeZone", "value": "UTC"}).Want(t, 403, false)
	})
}
