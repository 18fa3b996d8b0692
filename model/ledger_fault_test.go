package model_test

import (
	"context"
	"testing"
	"time"

	"switchyard/internal/faultproxy"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// serverDBs are the databases of TEST_DATABASES that have a server a
// proxy can stand in front of (SQLite is a file).
func serverDBs() []string {
	var out []string
	for _, db := range testkit.Databases() {
		if db != "sqlite" {
			out = append(out, db)
		}
	}
	return out
}

// proxiedApp starts an app whose main database (and, with splitLogs, a
// second database for the logs) is reached through fault proxies.
func proxiedApp(t *testing.T, db string, splitLogs bool, env map[string]string) (app *testkit.App, main, logs *faultproxy.Proxy) {
	main = faultproxy.Start(t, testkit.ServerAddr(db))
	vars := map[string]string{"SQL_DSN": testkit.FreshDSN(t, db, main)}
	if splitLogs {
		logs = faultproxy.Start(t, testkit.ServerAddr(db))
		vars["LOG_SQL_DSN"] = testkit.FreshDSN(t, db, logs)
	}
	for k, v := range env {
		vars[k] = v
	}
	return testkit.Start(t, db, vars), main, logs
}

// settleSome runs n reserve+settle pairs of cost each.
func settleSome(t *testing.T, s *model.Store, acct model.Account, n int, cost int64) {
	t.Helper()
	for range n {
		r, err := s.Ledger.Reserve(context.Background(), acct, cost)
		if err != nil {
			t.Fatal(err)
		}
		r.Settle(cost, &model.Log{ModelName: "m", Content: "call"})
	}
}

// flushWithLostReply arms p to swallow the reply to the next COMMIT and
// flushes a batch into it, until one COMMIT reply was swallowed (the
// background flusher may be the one that meets it; a heartbeat rarely
// does). It returns how many settlements it made.
func flushWithLostReply(t *testing.T, s *model.Store, p *faultproxy.Proxy, acct model.Account) int {
	t.Helper()
	before, n := p.Swallowed(), 0
	for range 10 {
		settleSome(t, s, acct, 10, 7)
		n += 10
		p.SwallowNextCommitReply()
		err := s.Ledger.Flush(context.Background())
		if p.Swallowed() > before {
			if err != nil && s.Ledger.Backlog() == 0 {
				t.Fatal("a batch with an unknown outcome is not counted in the backlog")
			}
			return n
		}
	}
	t.Fatal("no flush met the swallowed COMMIT reply")
	return n
}

// TestLostCommitReplyAppliesOnceAndBlocksNothing is defect 1 of issue 13:
// a flush whose COMMIT reply is lost had committed; its retry must apply
// nothing twice, and the settlements after it must all reach the rows.
func TestLostCommitReplyAppliesOnceAndBlocksNothing(t *testing.T) {
	for _, db := range serverDBs() {
		for _, split := range []bool{false, true} {
			name := db
			if split {
				name += "/log_sql_dsn"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				app, mainP, logP := proxiedApp(t, db, split, nil)
				s := app.Store
				u, small, unlimited := ledgerFixture(t, s, 100_000, 50_000)
				acct := model.Account{UserID: u.ID, TokenID: small.ID}
				targets := []*faultproxy.Proxy{mainP}
				if split {
					targets = append(targets, logP)
				}
				calls := 0
				for _, p := range targets {
					calls += flushWithLostReply(t, s, p, acct) + 500
					// Later calls are written beside the retried batch.
					settleSome(t, s, acct, 450, 3)
					settleSome(t, s, model.Account{UserID: u.ID, TokenID: unlimited.ID, UnlimitedToken: true}, 50, 2)
					testkit.Eventually(t, 10*time.Second, "the backlog drains", func() bool {
						return s.Ledger.Flush(context.Background()) == nil && s.Ledger.Backlog() == 0
					})
				}
				checkSums(t, s, u, small, unlimited)
				var logs int64
				s.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", u.ID, model.LogConsume).Count(&logs)
				if logs != int64(calls) {
					t.Fatalf("%d consume logs for %d calls: each must be written exactly once", logs, calls)
				}
			})
		}
	}
}

// TestRefusedDatabaseKeepsTheBacklog: while the database refuses, batches
// are kept (and counted) and retried with backoff; once it is back they
// all land, once.
func TestRefusedDatabaseKeepsTheBacklog(t *testing.T) {
	for _, db := range serverDBs() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			app, p, _ := proxiedApp(t, db, false, nil)
			s := app.Store
			u, small, _ := ledgerFixture(t, s, 100_000, 50_000)
			acct := model.Account{UserID: u.ID, TokenID: small.ID}
			// Balances are loaded; from here the ledger needs no read.
			settleSome(t, s, acct, 1, 1)
			p.Refuse()
			settleSome(t, s, acct, 200, 5)
			testkit.Eventually(t, 10*time.Second, "a flush fails against the refused database", func() bool {
				return s.Ledger.Flush(context.Background()) != nil
			})
			if got := s.Ledger.Backlog(); got < 200 {
				t.Fatalf("backlog %d while the database refuses, want at least 200", got)
			}
			p.Heal()
			testkit.Eventually(t, 15*time.Second, "the backlog drains after the database returns", func() bool {
				return s.Ledger.Backlog() == 0
			})
			checkSums(t, s, u, small)
		})
	}
}

// TestCrashBetweenLogAndBalanceDatabases: with LOG_SQL_DSN, a crash after
// the logs were written and before the balances were neither loses nor
// doubles a charge: the next start applies the outbox once.
func TestCrashBetweenLogAndBalanceDatabases(t *testing.T) {
	for _, db := range serverDBs() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			app, mainP, _ := proxiedApp(t, db, true, nil)
			s := app.Store
			u, small, _ := ledgerFixture(t, s, 100_000, 50_000)
			acct := model.Account{UserID: u.ID, TokenID: small.ID}
			settleSome(t, s, acct, 1, 1)
			if err := s.Ledger.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			mainP.Refuse()
			settleSome(t, s, acct, 40, 11)
			testkit.Eventually(t, 10*time.Second, "a flush writes the logs and fails on the balances", func() bool {
				return s.Ledger.Flush(context.Background()) != nil
			})
			s.Kill()
			mainP.Heal()
			next := testkit.Reopen(t, app)
			checkSums(t, next, u, small)
			var charged int64
			next.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", u.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&charged)
			if charged != 1+40*11 {
				t.Fatalf("charged %d after the crash, want %d", charged, 1+40*11)
			}
		})
	}
}

// TestCreditLogsSurviveLogDatabaseFaults: with LOG_SQL_DSN a credit's
// balance and its log row live in two databases. A log database that is
// down, a lost reply to the log's COMMIT, or a crash before the log was
// written neither loses a credit's log nor writes it twice; a main
// database that refuses leaves no log without its credit. Minted codes
// and their log row go together the same way.
func TestCreditLogsSurviveLogDatabaseFaults(t *testing.T) {
	for _, db := range serverDBs() {
		// With Redis the balances live there; without, in the node's
		// memory under a lock per balance.
		for _, balances := range []string{"redis", "memory"} {
			t.Run(db+"/"+balances, func(t *testing.T) {
				t.Parallel()
				var env map[string]string
				if balances == "memory" {
					env = map[string]string{"REDIS_CONN_STRING": ""}
				}
				creditLogFaults(t, db, env)
			})
		}
	}
}

// creditLogFaults runs TestCreditLogsSurviveLogDatabaseFaults on db.
func creditLogFaults(t *testing.T, db string, env map[string]string) {
	ctx := context.Background()
	app, mainP, logP := proxiedApp(t, db, true, env)
	s := app.Store
	if err := s.Options.Set(ctx, "QuotaForNewUser", "300"); err != nil {
		t.Fatal(err)
	}
	u, small, _ := ledgerFixture(t, s, 100_000, 50_000)
	topUp := func(s *model.Store, q int64) error {
		_, err := s.Ledger.Credit(ctx, u.ID, 0, q, &model.Log{UserID: u.ID, Username: u.Username, Type: model.LogTopUp, Content: "top-up"}, nil)
		return err
	}
	waiting := func(s *model.Store) int64 {
		var n int64
		if err := s.DB.Model(&model.LedgerLogOutbox{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The log database is down: the credits stand, their logs wait.
	logP.Refuse()
	if err := topUp(s, 1000); err != nil {
		t.Fatal("a top-up failed while only the log database was down:", err)
	}
	newcomer := &model.User{Username: testkit.Name("newcomer"), Password: "x"}
	if err := s.CreateUser(ctx, newcomer); err != nil {
		t.Fatal("a sign-up failed while only the log database was down:", err)
	}
	if _, err := s.CreateRedemptions(ctx, u.ID, "outage", 5, 2); err != nil {
		t.Fatal("minting codes failed while only the log database was down:", err)
	}
	if n := waiting(s); n != 3 {
		t.Fatalf("%d log rows wait in the outbox, want 3", n)
	}
	logP.Heal()
	if _, err := s.Ledger.RecoverOutbox(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkSums(t, s, u, small)
	checkSums(t, s, newcomer)
	var minted int64
	s.LogDB.Model(&model.Log{}).Where("user_id = ? AND code = ?", u.ID, "codes_minted").Count(&minted)
	if minted != 1 {
		t.Fatalf("%d codes_minted logs, want 1", minted)
	}

	// The reply to the log's COMMIT is lost: the log is there once.
	before := logP.Swallowed()
	logP.SwallowNextCommitReply()
	if err := topUp(s, 2000); err != nil {
		t.Fatal(err)
	}
	if logP.Swallowed() == before {
		t.Fatal("the log's COMMIT reply was not swallowed")
	}
	if _, err := s.Ledger.RecoverOutbox(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkSums(t, s, u, small)

	// The main database refuses: nothing is credited, nothing logged.
	mainP.Refuse()
	if err := topUp(s, 4000); err == nil {
		t.Fatal("a top-up succeeded while the main database refused")
	}
	if err := s.CreateUser(ctx, &model.User{Username: testkit.Name("refused"), Password: "x"}); err == nil {
		t.Fatal("a sign-up succeeded while the main database refused")
	}
	if _, err := s.CreateRedemptions(ctx, u.ID, "refused", 5, 2); err == nil {
		t.Fatal("minting codes succeeded while the main database refused")
	}
	mainP.Heal()
	checkSums(t, s, u, small)

	// A log database that stalls holds up the top-up's own reply,
	// not the user's relayed calls: the log is delivered with no
	// balance held.
	logP.BlackHole()
	done := make(chan error, 1)
	go func() { done <- topUp(s, 16000) }()
	testkit.Eventually(t, 10*time.Second, "the top-up commits and waits on the log database", func() bool {
		return waiting(s) == 1
	})
	settleSome(t, s, model.Account{UserID: u.ID, TokenID: small.ID}, 5, 3)
	select {
	case err := <-done:
		t.Fatalf("the top-up returned (%v) before the stalled log database did", err)
	default:
	}
	logP.Heal()
	if err := <-done; err != nil {
		t.Fatal("a top-up failed because its log's delivery did:", err)
	}
	if _, err := s.Ledger.RecoverOutbox(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkSums(t, s, u, small)

	// A crash after the credit committed, before its log was
	// delivered: the next start delivers it.
	logP.Refuse()
	if err := topUp(s, 8000); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	logP.Heal()
	next := testkit.Reopen(t, app)
	checkSums(t, next, u, small)
	if n := waiting(next); n != 0 {
		t.Fatalf("%d log rows still wait in the outbox after the restart", n)
	}
	next.LogDB.Model(&model.Log{}).Where("user_id = ? AND code = ?", u.ID, "codes_minted").Count(&minted)
	if minted != 1 {
		t.Fatalf("%d codes_minted logs after the refused mint, want 1", minted)
	}
	var row model.User
	next.DB.First(&row, u.ID)
	if want := int64(300 + 100_000 + 1000 + 2000 + 16000 + 8000); row.Quota+row.UsedQuota != want {
		t.Fatalf("quota %d + used %d, want %d credited", row.Quota, row.UsedQuota, want)
	}
}
