package model_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"switchyard/common/errs"
	"switchyard/internal/faultproxy"
	"switchyard/internal/testkit"
	"switchyard/model"
)

func TestPeriodBounds(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	sh, _ := time.LoadLocation("Asia/Shanghai")
	for _, c := range []struct {
		name       string
		kind       string
		now        time.Time
		loc        *time.Location
		start, end time.Time
	}{
		{"day in UTC", model.PeriodDay, time.Date(2031, 3, 4, 23, 59, 59, 0, time.UTC), time.UTC,
			time.Date(2031, 3, 4, 0, 0, 0, 0, time.UTC), time.Date(2031, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"day in Shanghai is another UTC day", model.PeriodDay, time.Date(2031, 3, 4, 16, 0, 0, 0, time.UTC), sh,
			time.Date(2031, 3, 5, 0, 0, 0, 0, sh), time.Date(2031, 3, 6, 0, 0, 0, 0, sh)},
		{"week starts on Monday", model.PeriodWeek, time.Date(2031, 3, 9, 12, 0, 0, 0, time.UTC), time.UTC, // a Sunday
			time.Date(2031, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC)},
		{"Monday begins its own week", model.PeriodWeek, time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC), time.UTC,
			time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2031, 3, 17, 0, 0, 0, 0, time.UTC)},
		{"month across the year", model.PeriodMonth, time.Date(2031, 12, 31, 23, 0, 0, 0, time.UTC), time.UTC,
			time.Date(2031, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"day of a DST change is 23 hours", model.PeriodDay, time.Date(2031, 3, 9, 12, 0, 0, 0, ny), ny,
			time.Date(2031, 3, 9, 0, 0, 0, 0, ny), time.Date(2031, 3, 10, 0, 0, 0, 0, ny)},
	} {
		t.Run(c.name, func(t *testing.T) {
			start, end := model.PeriodBounds(c.kind, c.now, c.loc)
			if !start.Equal(c.start) || !end.Equal(c.end) {
				t.Fatalf("got %v – %v, want %v – %v", start, end, c.start, c.end)
			}
		})
	}
}

// clock is a settable time source for the ledger.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func wantPeriodRefusal(t *testing.T, err error, code string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Code != code || e.Kind != errs.KindInsufficientQuota || e.Status != 403 {
		t.Fatalf("want a %s refusal, got %v", code, err)
	}
}

// TestReservationAcrossResetIsChargedToTheNewPeriod pins the decision in
// ledger_period.go: a hold made before midnight counts against the old
// day only; settled after midnight, the call's cost is charged to the new
// day, capped at what the new day has left, so period_used stays equal to
// the consume logs created in the period. On one node and on Redis.
func TestReservationAcrossResetIsChargedToTheNewPeriod(t *testing.T) {
	for name, env := range map[string]map[string]string{"memory": nil, "redis": {"REDIS_CONN_STRING": testkit.RedisURL()}} {
		t.Run(name, func(t *testing.T) {
			testkit.ForEachDB(t, env, func(t *testing.T, app *testkit.App) {
				s := app.Store
				ctx := context.Background()
				clk := &clock{now: time.Date(2031, 3, 4, 23, 0, 0, 0, time.UTC)}
				s.Ledger.SetClock(clk.Now)
				u, _, unlimited := ledgerFixture(t, s, 1_000_000, 0)
				if err := s.UpdateToken(ctx, u.ID, unlimited.ID, map[string]any{"period_quota": 1000, "quota_period": model.PeriodDay}); err != nil {
					t.Fatal(err)
				}
				acct := model.Account{UserID: u.ID, TokenID: unlimited.ID, UnlimitedToken: true}
				reserve := func(est int64) *model.Reservation {
					t.Helper()
					r, err := s.Ledger.Reserve(ctx, acct, est)
					if err != nil {
						t.Fatal(err)
					}
					return r
				}
				r1 := reserve(800)
				// Less left than the estimate: the rest is held whole.
				r2 := reserve(500)
				if r1.Reserved() != 800 || r2.Reserved() != 200 {
					t.Fatalf("held %d and %d, want 800 and 200", r1.Reserved(), r2.Reserved())
				}
				_, err := s.Ledger.Reserve(ctx, acct, 1)
				wantPeriodRefusal(t, err, model.CodeTokenPeriodExhausted)

				next := time.Date(2031, 3, 5, 0, 0, 1, 0, time.UTC)
				clk.Set(next)
				// The new day starts full: yesterday's holds are not in it.
				r4 := reserve(900)
				if r4.Reserved() != 900 {
					t.Fatalf("new day held %d, want 900", r4.Reserved())
				}
				if got := r1.Settle(300, &model.Log{ModelName: "m"}); got != 100 {
					t.Fatalf("yesterday's call charged %d today, want the 100 today has left", got)
				}
				if got := r2.Settle(50, &model.Log{ModelName: "m"}); got != 0 {
					t.Fatalf("charged %d from an empty day", got)
				}
				if got := r4.Settle(900, &model.Log{ModelName: "m"}); got != 900 {
					t.Fatalf("charged %d, want 900", got)
				}
				_, err = s.Ledger.Reserve(ctx, acct, 1)
				wantPeriodRefusal(t, err, model.CodeTokenPeriodExhausted)
				checkSums(t, s, u, unlimited)
				var row model.Token
				s.DB.First(&row, unlimited.ID)
				var logs int64
				s.LogDB.Model(&model.Log{}).Where("token_id = ? AND type = ? AND created_at >= ?", unlimited.ID, model.LogConsume, next.Unix()-1).
					Select("COALESCE(SUM(quota),0)").Scan(&logs)
				if row.PeriodUsed != 1000 || logs != 1000 || row.PeriodStart != next.Unix()-1 {
					t.Fatalf("row period %d used %d, logs of the day %d", row.PeriodStart, row.PeriodUsed, logs)
				}
				// A restart reads the period back from the row.
				s.Kill()
				s2 := testkit.Reopen(t, app)
				s2.Ledger.SetClock(clk.Now)
				_, err = s2.Ledger.Reserve(ctx, acct, 1)
				wantPeriodRefusal(t, err, model.CodeTokenPeriodExhausted)
			})
		})
	}
}

// TestRedisRestartWithPeriodHoldsDoesNotOverspend is the Redis restart
// test of issue 13 for a period balance: the node re-registers its holds
// against the period key too, so the period is spent once.
func TestRedisRestartWithPeriodHoldsDoesNotOverspend(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		rs := testkit.StartRedis(t)
		app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": rs.URL()})
		s := app.Store
		ctx := context.Background()
		u, _, unlimited := ledgerFixture(t, s, 1_000_000, 0)
		if err := s.UpdateUserFields(ctx, u.ID, map[string]any{"period_quota": 2000, "quota_period": model.PeriodMonth}); err != nil {
			t.Fatal(err)
		}
		acct := model.Account{UserID: u.ID, TokenID: unlimited.ID, UnlimitedToken: true}
		var open []*model.Reservation
		for range 10 {
			r, err := s.Ledger.Reserve(ctx, acct, 200)
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, r)
		}
		rs.Stop()
		rs.Start()
		_, err := s.Ledger.Reserve(ctx, acct, 1)
		wantPeriodRefusal(t, err, model.CodeUserPeriodExhausted)
		var charged int64
		for _, r := range open {
			charged += r.Settle(120, &model.Log{ModelName: "m"})
		}
		testkit.Eventually(t, 10*time.Second, "the ledger is back on redis", func() bool { return !s.Ledger.Status().RedisOffline })
		for range 100 {
			r, err := s.Ledger.Reserve(ctx, acct, 300)
			if err != nil {
				if errs.As(err).Code != model.CodeUserPeriodExhausted {
					t.Fatal(err)
				}
				break
			}
			charged += r.Settle(r.Reserved(), &model.Log{ModelName: "m"})
		}
		if charged != 2000 {
			t.Fatalf("spent %d of a period quota of 2000", charged)
		}
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var row model.User
		s.DB.First(&row, u.ID)
		if row.PeriodUsed != 2000 {
			t.Fatalf("row period_used %d", row.PeriodUsed)
		}
	})
}

// spendPeriod reserves and settles at the full reservation until the
// ledger refuses with code, and returns what was charged.
func spendPeriod(t *testing.T, s *model.Store, acct model.Account, code string) int64 {
	t.Helper()
	var total int64
	for range 1000 {
		r, err := s.Ledger.Reserve(context.Background(), acct, 700)
		if err != nil {
			wantPeriodRefusal(t, err, code)
			return total
		}
		total += r.Settle(r.Reserved(), &model.Log{ModelName: "m"})
	}
	t.Fatal("the period never ran out")
	return 0
}

// spendPeriodOffline is spendPeriod while Redis is away: the node stops
// when its lease on a balance is spent (503) or the period is used up.
func spendPeriodOffline(t *testing.T, s *model.Store, acct model.Account, code string) int64 {
	t.Helper()
	var total int64
	for range 1000 {
		r, err := s.Ledger.Reserve(context.Background(), acct, 700)
		if errors.Is(err, model.ErrLocalShareExhausted) {
			return total
		}
		if err != nil {
			wantPeriodRefusal(t, err, code)
			return total
		}
		total += r.Settle(r.Reserved(), &model.Log{ModelName: "m"})
	}
	t.Fatal("the lease never ran out")
	return 0
}

// TestRedisOutageKeepsPeriodQuota: while Redis is unreachable a node
// serves a period quota from its lease on what the period had left,
// never more; once Redis answers the period is spent exactly once.
func TestRedisOutageKeepsPeriodQuota(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		rs := testkit.StartRedis(t)
		p := faultproxy.Start(t, rs.Addr())
		app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": "redis://" + p.Addr() + "/0"})
		s := app.Store
		clk := &clock{now: time.Date(2031, 3, 4, 12, 0, 0, 0, time.UTC)}
		s.Ledger.SetClock(clk.Now)
		ctx := context.Background()
		u, _, unlimited := ledgerFixture(t, s, 1_000_000, 0)
		if err := s.UpdateToken(ctx, u.ID, unlimited.ID, map[string]any{"period_quota": 5000, "quota_period": model.PeriodDay}); err != nil {
			t.Fatal(err)
		}
		acct := model.Account{UserID: u.ID, TokenID: unlimited.ID, UnlimitedToken: true}
		held, err := s.Ledger.Reserve(ctx, acct, 2000) // open across the outage
		if err != nil {
			t.Fatal(err)
		}
		p.Refuse()
		// Offline the node spends its lease on the period only
		// (ledger_lease.go): it runs out before the period does.
		charged := spendPeriodOffline(t, s, acct, model.CodeTokenPeriodExhausted)
		if !s.Ledger.Status().RedisOffline {
			t.Fatal("the ledger does not report redis as unreachable")
		}
		charged += held.Settle(1500, &model.Log{ModelName: "m"})
		if charged > 5000 {
			t.Fatalf("spent %d of a period quota of 5000 while redis was away", charged)
		}
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		p.Heal()
		testkit.Eventually(t, 10*time.Second, "the ledger reconciles with redis", func() bool {
			return !s.Ledger.Status().RedisOffline
		})
		charged += spendPeriod(t, s, acct, model.CodeTokenPeriodExhausted)
		if charged != 5000 {
			t.Fatalf("spent %d in all, want exactly the period quota of 5000", charged)
		}
		checkSums(t, s, u, unlimited)
		var row model.Token
		s.DB.First(&row, unlimited.ID)
		if row.PeriodUsed != 5000 {
			t.Fatalf("row period_used %d", row.PeriodUsed)
		}
	})
}

// TestTwoNodesSpendOnlyTheirPeriodLeasesWhileRedisIsAway: a period
// balance's offline share is a lease taken by the reservation script, as
// a lifetime balance's (ledger_lease.go). Two nodes spend a daily quota
// from both sides, keep a reservation open on each, lose Redis and go on
// relaying until their leases on the period run out: what they charge in
// all never exceeds the period quota, and after they reconcile the whole
// quota, and no more, has been spent, period_used included.
func TestTwoNodesSpendOnlyTheirPeriodLeasesWhileRedisIsAway(t *testing.T) {
	const quota = 10_000
	for _, mode := range []string{"restart", "partition"} {
		t.Run(mode, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db string) {
				rs := testkit.StartRedis(t)
				p := faultproxy.Start(t, rs.Addr())
				app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": "redis://" + p.Addr() + "/0"})
				clk := &clock{now: time.Date(2031, 3, 4, 12, 0, 0, 0, time.UTC)}
				app.Store.Ledger.SetClock(clk.Now)
				ctx := context.Background()
				u, _, unlimited := ledgerFixture(t, app.Store, 1_000_000, 0)
				if err := app.Store.UpdateToken(ctx, u.ID, unlimited.ID, map[string]any{"period_quota": quota, "quota_period": model.PeriodDay}); err != nil {
					t.Fatal(err)
				}
				other := testkit.SecondNode(t, app)
				other.Store.Ledger.SetClock(clk.Now)
				nodes := []*model.Store{app.Store, other.Store}
				acct := model.Account{UserID: u.ID, TokenID: unlimited.ID, UnlimitedToken: true}

				charged := spendAcrossOutage(t, mode, rs, p, nodes, acct, quota,
					func(err error) bool { return errs.As(err).Code == model.CodeTokenPeriodExhausted },
					func(s *model.Store) int64 { return spendPeriod(t, s, acct, model.CodeTokenPeriodExhausted) })
				if charged != quota {
					t.Fatalf("spent %d in all, want exactly the daily quota of %d", charged, quota)
				}
				for _, s := range nodes {
					checkSums(t, s, u, unlimited)
				}
				var row model.Token
				app.Store.DB.First(&row, unlimited.ID)
				if row.PeriodUsed != quota {
					t.Fatalf("row period_used %d, want %d", row.PeriodUsed, quota)
				}
			})
		})
	}
}

// TestOfflineSettlementAcrossResetSpendsOnlyALease pins the offline half
// of the decision in ledger_period.go: a call reserved yesterday and
// settled after midnight while Redis is away is charged to the new day
// from this node's lease on it only. The node holds none (it reserved
// nothing today), so the call goes uncharged rather than risk a period
// another node may be spending; yesterday's hold goes back.
func TestOfflineSettlementAcrossResetSpendsOnlyALease(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		rs := testkit.StartRedis(t)
		p := faultproxy.Start(t, rs.Addr())
		app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": "redis://" + p.Addr() + "/0"})
		s := app.Store
		clk := &clock{now: time.Date(2031, 3, 4, 23, 0, 0, 0, time.UTC)}
		s.Ledger.SetClock(clk.Now)
		ctx := context.Background()
		u, _, unlimited := ledgerFixture(t, s, 1_000_000, 0)
		if err := s.UpdateToken(ctx, u.ID, unlimited.ID, map[string]any{"period_quota": 1000, "quota_period": model.PeriodDay}); err != nil {
			t.Fatal(err)
		}
		acct := model.Account{UserID: u.ID, TokenID: unlimited.ID, UnlimitedToken: true}
		r, err := s.Ledger.Reserve(ctx, acct, 400)
		if err != nil {
			t.Fatal(err)
		}
		p.Refuse()
		next := time.Date(2031, 3, 5, 0, 0, 1, 0, time.UTC)
		clk.Set(next)
		if got := r.Settle(300, &model.Log{ModelName: "m"}); got != 0 {
			t.Fatalf("charged %d to a day this node holds no lease on while redis is away", got)
		}
		if !s.Ledger.Status().RedisOffline {
			t.Fatal("the ledger does not report redis as unreachable")
		}
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		p.Heal()
		testkit.Eventually(t, 10*time.Second, "the ledger reconciles with redis", func() bool {
			return !s.Ledger.Status().RedisOffline
		})
		// The new day is whole.
		if got := spendPeriod(t, s, acct, model.CodeTokenPeriodExhausted); got != 1000 {
			t.Fatalf("spent %d of the new day, want 1000", got)
		}
		checkSums(t, s, u, unlimited)
		var row model.Token
		s.DB.First(&row, unlimited.ID)
		if row.PeriodUsed != 1000 || row.PeriodStart != next.Unix()-1 {
			t.Fatalf("row period %d used %d", row.PeriodStart, row.PeriodUsed)
		}
	})
}
