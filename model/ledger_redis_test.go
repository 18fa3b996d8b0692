package model_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/internal/faultproxy"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// redisBalance reads what the shared ledger holds for a user in Redis.
func redisBalance(t *testing.T, s *model.Store, userID int) int64 {
	t.Helper()
	n, err := s.Redis.Get(context.Background(), s.Cfg.RedisKeyPrefix+"ledger:u:"+strconv.Itoa(userID)).Int64()
	if err != nil {
		t.Fatalf("redis balance of user %d: %v", userID, err)
	}
	return n
}

// spendAll reserves and settles at the full reservation until the ledger
// refuses (the balance or, with Redis away, this node's lease is spent),
// and returns what was charged.
func spendAll(t *testing.T, s *model.Store, acct model.Account) int64 {
	t.Helper()
	var total int64
	for range 1000 {
		r, err := s.Ledger.Reserve(context.Background(), acct, 700)
		if err != nil {
			if errors.Is(err, model.ErrUserQuotaExhausted) || errors.Is(err, model.ErrTokenQuotaExhausted) ||
				errors.Is(err, model.ErrLocalShareExhausted) {
				return total
			}
			t.Fatal(err)
		}
		total += r.Settle(r.Reserved(), &model.Log{ModelName: "m"})
	}
	t.Fatal("the balance never ran out")
	return 0
}

// TestRedisRestartWithOpenReservationsDoesNotOverspend is defect 2 of
// issue 13: Redis restarted while streams held 20,000 of a 20,000 credit;
// the balance was reseeded from the row and the streams' unused parts
// released onto it, so the user could spend 12,400 more than they had.
func TestRedisRestartWithOpenReservationsDoesNotOverspend(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		rs := testkit.StartRedis(t)
		app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": rs.URL()})
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 20_000, 30_000)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		var open []*model.Reservation
		for range 20 {
			r, err := s.Ledger.Reserve(ctx, acct, 1000)
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, r)
		}
		rs.Stop()
		rs.Start()
		// The restarted Redis knows nothing; the node re-registers what it
		// holds, so the whole credit is still held.
		if _, err := s.Ledger.Reserve(ctx, acct, 100); !errors.Is(err, model.ErrUserQuotaExhausted) {
			t.Fatalf("reserve after the restart with everything held: %v, want the user's quota used up", err)
		}
		var charged int64
		for _, r := range open {
			charged += r.Settle(380, &model.Log{ModelName: "m"})
		}
		testkit.Eventually(t, 10*time.Second, "the ledger is back on redis", func() bool { return !s.Ledger.Status().RedisOffline })
		charged += spendAll(t, s, acct)
		if charged != 20_000 {
			t.Fatalf("spent %d of a 20000 credit, want all of it and no more", charged)
		}
		checkSums(t, s, u, small)
	})
}

// TestRedisOutageServesFromLocalShares: with Redis unreachable the node
// keeps reserving from its share, says so in /readyz, and reconciles when
// Redis answers: nothing overspent, nothing lost.
func TestRedisOutageServesFromLocalShares(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		rs := testkit.StartRedis(t)
		p := faultproxy.Start(t, rs.Addr())
		app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": "redis://" + p.Addr() + "/0"})
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 10_000, 30_000)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		held, err := s.Ledger.Reserve(ctx, acct, 2000) // open across the outage
		if err != nil {
			t.Fatal(err)
		}
		p.Refuse()
		var charged int64
		for range 5 {
			r, err := s.Ledger.Reserve(ctx, acct, 500)
			if err != nil {
				t.Fatalf("reserve while redis is away: %v", err)
			}
			charged += r.Settle(300, &model.Log{ModelName: "m"})
		}
		if !s.Ledger.Status().RedisOffline {
			t.Fatal("the ledger does not report redis as unreachable")
		}
		r := app.Anon(t).Do("GET", "/readyz", nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "degraded") || !strings.Contains(string(r.Raw), "local shares") {
			t.Fatalf("readyz while redis is away: %d %s", r.Status, r.Raw)
		}
		// The local share is what this node saw, never more.
		charged += spendAll(t, s, acct)
		charged += held.Settle(1500, &model.Log{ModelName: "m"})
		if charged > 10_000 {
			t.Fatalf("spent %d of 10000 while redis was away", charged)
		}
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		p.Heal()
		testkit.Eventually(t, 10*time.Second, "the ledger reconciles with redis", func() bool {
			return !s.Ledger.Status().RedisOffline
		})
		checkSums(t, s, u, small)
		var row model.User
		s.DB.First(&row, u.ID)
		if got := redisBalance(t, s, u.ID); got != row.Quota {
			t.Fatalf("after reconciling redis holds %d, the row %d", got, row.Quota)
		}
		charged += spendAll(t, s, acct)
		if charged != 10_000 {
			t.Fatalf("spent %d in all, want exactly the 10000 credited", charged)
		}
		checkSums(t, s, u, small)
	})
}

// TestRedeemInRedisModeLendsNothing is defect 3 of issue 13: losing
// redemption requests credited Redis before the database chose the
// winner, and the user could spend those credits meanwhile.
func TestRedeemInRedisModeLendsNothing(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		u := &model.User{Username: testkit.Name("redeem"), Password: "x"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		acct := model.Account{UserID: u.ID}
		if _, err := s.Ledger.Reserve(ctx, acct, 1); !errors.Is(err, model.ErrUserQuotaExhausted) { // seeds redis at 0
			t.Fatalf("reserve on an empty user: %v", err)
		}
		codes, err := s.CreateRedemptions(ctx, 1, "race", 1000, 1)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		done := make(chan struct{})
		var held []*model.Reservation
		var heldSum int64
		var spender sync.WaitGroup
		spender.Add(1)
		go func() {
			defer spender.Done()
			// A spender grabs whatever the balance offers while the race runs.
			for {
				select {
				case <-done:
					return
				default:
				}
				if r, err := s.Ledger.Reserve(ctx, acct, 1_000_000); err == nil {
					mu.Lock()
					held = append(held, r)
					heldSum += r.Reserved()
					mu.Unlock()
				}
			}
		}()
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Redeem(ctx, model.Redeemer{ID: u.ID, Username: u.Username, Role: model.RoleCommon}, codes[0].Key); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, model.ErrRedemptionInvalid) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		close(done)
		spender.Wait()
		mu.Lock()
		defer mu.Unlock()
		if wins != 1 {
			t.Fatalf("%d redemptions won, want 1", wins)
		}
		if heldSum > 1000 {
			t.Fatalf("the user could hold %d of a 1000 credit while the race ran", heldSum)
		}
		for _, r := range held {
			r.Settle(r.Reserved(), &model.Log{ModelName: "m"})
		}
		spent := heldSum + spendAll(t, s, acct)
		if spent != 1000 {
			t.Fatalf("spent %d of one 1000 credit", spent)
		}
		checkSums(t, s, u)
	})
}

// eachDB runs fn as a parallel subtest per database, leaving the app to
// fn (for tests that need their own Redis or proxies).
func eachDB(t *testing.T, fn func(t *testing.T, db string)) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fn(t, db)
		})
	}
}

// TestTwoNodesSpendOnlyTheirLeasesWhileRedisIsAway: two nodes on one
// Redis spend a balance near empty; Redis goes away (stopped and started
// empty again, or cut off and back with its data), and both nodes keep
// relaying until their leases run out. What they charge in all never
// exceeds the credit, whatever the other node spent since each last saw
// Redis, and after they reconcile the whole credit, and no more, has
// been spent, with the ledger's sums whole. (The scheme it pins replaced
// a local share of "last balance seen / live nodes", which overspent when
// the figure was stale.)
func TestTwoNodesSpendOnlyTheirLeasesWhileRedisIsAway(t *testing.T) {
	const credit = 10_000
	for _, mode := range []string{"restart", "partition"} {
		t.Run(mode, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db string) {
				rs := testkit.StartRedis(t)
				p := faultproxy.Start(t, rs.Addr())
				app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": "redis://" + p.Addr() + "/0"})
				other := testkit.SecondNode(t, app)
				nodes := []*model.Store{app.Store, other.Store}
				u, small, _ := ledgerFixture(t, app.Store, credit, 3*credit)
				acct := model.Account{UserID: u.ID, TokenID: small.ID}

				charged := spendAcrossOutage(t, mode, rs, p, nodes, acct, credit,
					func(err error) bool { return errors.Is(err, model.ErrUserQuotaExhausted) },
					func(s *model.Store) int64 { return spendAll(t, s, acct) })
				if charged != credit {
					t.Fatalf("spent %d in all, want exactly the %d credited", charged, credit)
				}
				for _, s := range nodes {
					checkSums(t, s, u, small)
				}
			})
		})
	}
}

// TestDebitTakesThisNodesLease: quota taken away (an admin lowering a
// user's quota) is not held back by the node's lease on the balance: the
// lease goes back first and the whole debit applies.
func TestDebitTakesThisNodesLease(t *testing.T) {
	eachDB(t, func(t *testing.T, db string) {
		rs := testkit.StartRedis(t)
		app := testkit.Start(t, db, map[string]string{"REDIS_CONN_STRING": rs.URL()})
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 10_000, 30_000)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		settleSome(t, s, acct, 1, 100) // takes a lease on what is left
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		applied, err := s.Ledger.Credit(ctx, u.ID, 0, -9_900, &model.Log{UserID: u.ID, Type: model.LogManage, Content: "lowered"}, nil)
		if err != nil || applied != -9_900 {
			t.Fatalf("debit of 9900 applied %d, err %v", applied, err)
		}
		if _, err := s.Ledger.Reserve(ctx, acct, 1); !errors.Is(err, model.ErrUserQuotaExhausted) {
			t.Fatalf("reserve after the debit took everything: %v", err)
		}
		checkSums(t, s, u, small)
	})
}

// spendAcrossOutage is the two-node Redis outage of the lease tests. Both
// nodes spend on acct and keep one reservation open each; Redis goes away
// (mode "restart" stops it, "partition" has p refuse); both nodes spend
// concurrently until their leases run out (refused tells the refusal
// that ends one besides ErrLocalShareExhausted), and what they charged
// must stay within limit; the held reservations settle above what they
// hold; Redis comes back and, once both nodes reconcile, spend takes what
// is left from each in turn. It returns everything charged.
func spendAcrossOutage(t *testing.T, mode string, rs *testkit.RedisServer, p *faultproxy.Proxy, nodes []*model.Store,
	acct model.Account, limit int64, refused func(error) bool, spend func(*model.Store) int64) int64 {
	t.Helper()
	ctx := context.Background()
	var charged int64
	for i := range 16 {
		r, err := nodes[i%2].Ledger.Reserve(ctx, acct, 500)
		if err != nil {
			t.Fatal(err)
		}
		charged += r.Settle(r.Reserved(), &model.Log{ModelName: "m"})
	}
	var held []*model.Reservation
	for _, s := range nodes {
		r, err := s.Ledger.Reserve(ctx, acct, 200)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	if mode == "restart" {
		rs.Stop()
	} else {
		p.Refuse()
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				r, err := s.Ledger.Reserve(ctx, acct, 150)
				if err != nil {
					if !errors.Is(err, model.ErrLocalShareExhausted) && !refused(err) {
						t.Errorf("reserve while redis is away: %v", err)
					}
					return
				}
				// Some calls cost more than they reserved.
				c := r.Settle(r.Reserved()+20, &model.Log{ModelName: "m"})
				mu.Lock()
				charged += c
				mu.Unlock()
			}
			t.Error("a node never ran out of its lease while redis was away")
		}()
	}
	wg.Wait()
	for _, s := range nodes {
		if !s.Ledger.Status().RedisOffline {
			t.Fatal("a node does not report redis as unreachable")
		}
	}
	for _, r := range held {
		charged += r.Settle(350, &model.Log{ModelName: "m"})
	}
	if charged > limit {
		t.Fatalf("two nodes charged %d of %d while redis was away", charged, limit)
	}
	for _, s := range nodes {
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if mode == "restart" {
		rs.Start()
	} else {
		p.Heal()
	}
	testkit.Eventually(t, 15*time.Second, "both nodes reconcile with redis", func() bool {
		return !nodes[0].Ledger.Status().RedisOffline && !nodes[1].Ledger.Status().RedisOffline
	})
	for i := 0; ; i++ {
		n := spend(nodes[i%2])
		charged += n
		if n == 0 && i > 0 {
			break
		}
	}
	return charged
}
