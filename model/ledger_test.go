package model_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"switchyard/common/errs"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// ledgerFixture makes a user with quota credited through the ledger and
// two tokens: a small limited one and an unlimited one.
func ledgerFixture(t *testing.T, s *model.Store, userQuota, tokenQuota int64) (u *model.User, small, unlimited *model.Token) {
	t.Helper()
	ctx := context.Background()
	u = &model.User{Username: testkit.Name("ledger"), Password: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ledger.Credit(ctx, u.ID, 0, userQuota, &model.Log{UserID: u.ID, Username: u.Username, Type: model.LogTopUp, Content: "fixture"}, nil); err != nil {
		t.Fatal(err)
	}
	small = &model.Token{UserID: u.ID, Name: "small", RemainQuota: tokenQuota, ExpiredTime: -1}
	model.NewTokenKey(small)
	unlimited = &model.Token{UserID: u.ID, Name: "unlimited", UnlimitedQuota: true, ExpiredTime: -1}
	model.NewTokenKey(unlimited)
	for _, tok := range []*model.Token{small, unlimited} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	return u, small, unlimited
}

// checkSums asserts the ledger invariants against the database after a
// flush: nothing below zero, used_quota equal to the consume logs, and
// quota + used_quota equal to everything credited.
func checkSums(t *testing.T, s *model.Store, u *model.User, tokens ...*model.Token) {
	t.Helper()
	ctx := context.Background()
	if err := s.Ledger.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Ledger.OpenReservations(); n != 0 {
		t.Fatalf("%d reservations left open", n)
	}
	var row model.User
	s.DB.First(&row, u.ID)
	var consumed, credited int64
	s.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", u.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&consumed)
	s.LogDB.Model(&model.Log{}).Where("user_id = ? AND type <> ?", u.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&credited)
	if row.Quota < 0 {
		t.Fatalf("user quota %d below zero", row.Quota)
	}
	if row.UsedQuota != consumed {
		t.Fatalf("user used_quota %d != consume logs %d", row.UsedQuota, consumed)
	}
	if row.Quota+row.UsedQuota != credited {
		t.Fatalf("user quota %d + used %d != credited %d", row.Quota, row.UsedQuota, credited)
	}
	for _, tok := range tokens {
		var tr model.Token
		s.DB.First(&tr, tok.ID)
		var tokConsumed int64
		s.LogDB.Model(&model.Log{}).Where("token_id = ? AND type = ?", tok.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&tokConsumed)
		if tr.UsedQuota != tokConsumed {
			t.Fatalf("token %s used_quota %d != consume logs %d", tok.Name, tr.UsedQuota, tokConsumed)
		}
		if !tr.UnlimitedQuota {
			if tr.RemainQuota < 0 {
				t.Fatalf("token %s remain %d below zero", tok.Name, tr.RemainQuota)
			}
			if tr.RemainQuota+tr.UsedQuota != tok.RemainQuota {
				t.Fatalf("token %s remain %d + used %d != initial %d", tok.Name, tr.RemainQuota, tr.UsedQuota, tok.RemainQuota)
			}
		}
	}
}

// TestLedgerConcurrentNeverNegative races hundreds of requests against one
// small token and one user, with failures, overruns and top-ups mixed in.
func TestLedgerConcurrentNeverNegative(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		u, small, unlimited := ledgerFixture(t, s, 20_000, 3_000)
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		refused := 0
		for i := range 400 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				tok := small
				if i%3 == 0 {
					tok = unlimited
				}
				if i%50 == 0 {
					if _, err := s.Ledger.Credit(ctx, u.ID, 0, 500, &model.Log{UserID: u.ID, Username: u.Username, Type: model.LogTopUp, Content: "top-up"}, nil); err != nil {
						t.Error(err)
					}
				}
				res, err := s.Ledger.Reserve(ctx, model.Account{UserID: u.ID, TokenID: tok.ID, UnlimitedToken: tok.UnlimitedQuota}, int64(rng.IntN(200)+1))
				if err != nil {
					if !errors.Is(err, model.ErrTokenQuotaExhausted) && !errors.Is(err, model.ErrUserQuotaExhausted) {
						t.Error(err)
					}
					mu.Lock()
					refused++
					mu.Unlock()
					return
				}
				switch rng.IntN(4) {
				case 0: // the upstream failed: nothing is charged
					if got := res.Settle(0, nil); got != 0 {
						t.Errorf("failed request charged %d", got)
					}
				default: // the true cost may run over the reservation
					cost := int64(rng.IntN(300))
					charged := res.Settle(cost, &model.Log{ModelName: "m", PromptTokens: 1, CompletionTokens: 1})
					if charged > cost || charged < min(cost, res.Reserved()) {
						t.Errorf("cost %d reserved %d charged %d", cost, res.Reserved(), charged)
					}
					if again := res.Settle(cost, &model.Log{}); again != 0 {
						t.Errorf("second settle charged %d", again)
					}
				}
			}()
		}
		wg.Wait()
		if refused == 0 {
			t.Fatal("the small token was never exhausted: the test did not press the limit")
		}
		checkSums(t, s, u, small, unlimited)
		// The API shows the ledger's figures, equal to the flushed rows.
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var row model.User
		s.DB.First(&row, u.ID)
		if got.Quota != row.Quota || got.UsedQuota != row.UsedQuota {
			t.Fatalf("API shows %d/%d, row holds %d/%d", got.Quota, got.UsedQuota, row.Quota, row.UsedQuota)
		}
		var tr model.Token
		s.DB.First(&tr, small.ID)
		if tr.RemainQuota == 0 && tr.Status != model.TokenExhausted {
			t.Fatalf("empty token has status %d, want exhausted", tr.Status)
		}
	})
}

func TestLedgerReserveRules(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 1_000, 100)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		// A balance below the estimate is reserved whole.
		r1, err := s.Ledger.Reserve(ctx, acct, 500)
		if err != nil || r1.Reserved() != 100 {
			t.Fatalf("reserve: %v, %d", err, r1.Reserved())
		}
		// Zero left: refused at once, in the insufficient_quota kind.
		if _, err := s.Ledger.Reserve(ctx, acct, 1); !errors.Is(err, model.ErrTokenQuotaExhausted) || errs.As(err).Kind != errs.KindInsufficientQuota {
			t.Fatalf("reserve on empty token: %v", err)
		}
		// Settling under the reservation releases the rest.
		if got := r1.Settle(30, &model.Log{ModelName: "m"}); got != 30 {
			t.Fatalf("charged %d", got)
		}
		r2, err := s.Ledger.Reserve(ctx, acct, 1000)
		if err != nil || r2.Reserved() != 70 {
			t.Fatalf("reserve after release: %v, %d", err, r2.Reserved())
		}
		// A cost over the balance is capped at what is there.
		if got := r2.Settle(10_000, &model.Log{ModelName: "m"}); got != 70 {
			t.Fatalf("overrun charged %d, want 70", got)
		}
		checkSums(t, s, u, small)
	})
}

// TestLedgerCrashLeavesNoReservation shows that reservations live only in
// memory: a process that dies holding some leaves every balance whole for
// the next start, and settled charges are what the rows show.
func TestLedgerCrashLeavesNoReservation(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 1_000, 500)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		settled, _ := s.Ledger.Reserve(ctx, acct, 100)
		settled.Settle(40, &model.Log{ModelName: "m"})
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ledger.Reserve(ctx, acct, 300); err != nil { // never settled: the "crash"
			t.Fatal(err)
		}
		s.Kill()
		next := testkit.Reopen(t, app)
		if s.Redis != nil {
			// With Redis the held 300 sit in the dead node's reservation
			// hash; once its heartbeat expires any node gives them back.
			if u, _ := next.UserByID(ctx, u.ID); u.Quota != 660 {
				t.Fatalf("before release the shared balance is %d, want 660", u.Quota)
			}
			keys, err := next.Redis.Keys(ctx, app.Cfg.RedisKeyPrefix+"ledger:node:*").Result()
			if err != nil {
				t.Fatal(err)
			}
			next.Redis.Del(ctx, keys...) // the heartbeat expiring, without waiting 30 s
			if n, err := next.Ledger.ReleaseOrphans(ctx); err != nil || n != 2 {
				t.Fatalf("released %d balances, err %v; want 2", n, err)
			}
		}
		gotU, err := next.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotT, err := next.TokenOf(ctx, 0, small.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gotU.Quota != 960 || gotU.UsedQuota != 40 || gotT.RemainQuota != 460 || gotT.UsedQuota != 40 {
			t.Fatalf("after restart user %d/%d token %d/%d, want 960/40 and 460/40", gotU.Quota, gotU.UsedQuota, gotT.RemainQuota, gotT.UsedQuota)
		}
		if _, err := next.Ledger.Reserve(ctx, acct, 1); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLedgerTwoNodes runs two stores on one database and one Redis, as two
// nodes behind a load balancer, against the same small token and user. The
// balances are shared in Redis, so the invariants hold across both nodes.
func TestLedgerTwoNodes(t *testing.T) {
	// Redis on every database here, SQLite included: two nodes need it.
	testkit.ForEachDB(t, map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}, func(t *testing.T, app *testkit.App) {
		a := app.Store
		b := testkit.Reopen(t, app)
		u, small, unlimited := ledgerFixture(t, a, 5_000, 2_000)
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := a
				if i%2 == 1 {
					node = b
				}
				tok := small
				if i%4 == 0 {
					tok = unlimited
				}
				res, err := node.Ledger.Reserve(ctx, model.Account{UserID: u.ID, TokenID: tok.ID, UnlimitedToken: tok.UnlimitedQuota}, 90)
				if err != nil {
					if !errors.Is(err, model.ErrTokenQuotaExhausted) && !errors.Is(err, model.ErrUserQuotaExhausted) {
						t.Error(err)
					}
					return
				}
				if i%5 == 0 {
					res.Settle(0, nil)
					return
				}
				res.Settle(int64(40+i%120), &model.Log{ModelName: "m"})
			}()
		}
		wg.Wait()
		if err := b.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := b.Ledger.OpenReservations(); n != 0 {
			t.Fatalf("node b left %d reservations open", n)
		}
		checkSums(t, a, u, small, unlimited)
		var tr model.Token
		a.DB.First(&tr, small.ID)
		if tr.UsedQuota > 2_000 {
			t.Fatalf("two nodes spent %d of a 2000 token", tr.UsedQuota)
		}
	})
}
