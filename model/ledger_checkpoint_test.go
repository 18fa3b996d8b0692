package model_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// consumed is the sum of a user's consume logs.
func consumed(t *testing.T, s *model.Store, userID int) int64 {
	t.Helper()
	var n int64
	s.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", userID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&n)
	return n
}

// releaseDeadNodes gives back what killed nodes held in Redis, as their
// heartbeats expiring would.
func releaseDeadNodes(t *testing.T, next *model.Store, app *testkit.App) {
	t.Helper()
	if next.Redis == nil {
		return
	}
	ctx := context.Background()
	keys, err := next.Redis.Keys(ctx, app.Cfg.RedisKeyPrefix+"ledger:node:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	next.Redis.Del(ctx, keys...)
	if _, err := next.Ledger.ReleaseOrphans(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCrashChargesOpenStreamsAtTheirCheckpoint is the ledger side of
// defect 10 of issue 13: 50 open streams had delivered about 2,300 tokens
// when the process died, and none was charged.
func TestCrashChargesOpenStreamsAtTheirCheckpoint(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 10_000, 5_000)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		var want int64
		for i := range 5 {
			r, err := s.Ledger.Reserve(ctx, acct, 1000)
			if err != nil {
				t.Fatal(err)
			}
			r.Checkpoint(100, &model.Log{ModelName: "m", IsStream: true, RequestID: "early"})
			if err := s.Ledger.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			// The later checkpoint replaces the earlier one.
			cost := int64(200 + 50*i)
			r.Checkpoint(cost, &model.Log{ModelName: "m", IsStream: true, RequestID: "late"})
			want += cost
		}
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s.Kill() // five streams open, none settled
		next := testkit.Reopen(t, app)
		if got := consumed(t, next, u.ID); got != want {
			t.Fatalf("after the crash the open streams were charged %d, want %d", got, want)
		}
		var early int64
		next.LogDB.Model(&model.Log{}).Where("user_id = ? AND request_id = ?", u.ID, "early").Count(&early)
		if early != 0 {
			t.Fatalf("%d streams were charged at a superseded checkpoint", early)
		}
		// A third start charges nothing again.
		if n, err := next.Ledger.RecoverCheckpoints(ctx); err != nil || n != 0 {
			t.Fatalf("second recovery charged %d checkpoints, err %v", n, err)
		}
		releaseDeadNodes(t, next, app)
		checkSums(t, next, u, small)
		if spent := spendAll(t, next, acct); spent+want != 5_000 {
			t.Fatalf("the token spent %d after %d were recovered, want the rest of 5000", spent, want)
		}
		checkSums(t, next, u, small)
	})
}

// TestSettleReplacesItsCheckpoint: a stream checkpointed and then settled
// is charged its final cost once, whether the settlement lands in the same
// batch as the checkpoint or a later one, and a crash afterwards charges
// nothing more.
func TestSettleReplacesItsCheckpoint(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 10_000, 5_000)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		// Checkpoint written, settled in a later batch.
		a, _ := s.Ledger.Reserve(ctx, acct, 1000)
		a.Checkpoint(300, &model.Log{ModelName: "m"})
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := a.Settle(800, &model.Log{ModelName: "m"}); got != 800 {
			t.Fatalf("settle charged %d", got)
		}
		// Checkpoint and settlement in one batch.
		b, _ := s.Ledger.Reserve(ctx, acct, 1000)
		b.Checkpoint(200, &model.Log{ModelName: "m"})
		b.Settle(500, &model.Log{ModelName: "m"})
		// A checkpoint after the settlement is ignored.
		b.Checkpoint(900, &model.Log{ModelName: "m"})
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := consumed(t, s, u.ID); got != 1300 {
			t.Fatalf("charged %d, want 800 + 500", got)
		}
		s.Kill()
		next := testkit.Reopen(t, app)
		if got := consumed(t, next, u.ID); got != 1300 {
			t.Fatalf("after a restart charged %d, want still 1300", got)
		}
		releaseDeadNodes(t, next, app)
		checkSums(t, next, u, small)
	})
}

// TestSecondNodeWithoutRedisRefusesToStart: several nodes on one database
// without Redis would each spend every balance; a node that finds another
// live one refuses and says why.
func TestSecondNodeWithoutRedisRefusesToStart(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		ctx := context.Background()
		cfg := app.Cfg
		cfg.RedisConnString = ""
		_, err := model.Open(ctx, cfg)
		var another *model.ErrAnotherNode
		if !errors.As(err, &another) || !strings.Contains(err.Error(), "REDIS_CONN_STRING") {
			t.Fatalf("a second node without Redis started: %v", err)
		}
		if app.Cfg.RedisConnString == "" {
			// And with Redis on the second but not the first, just as well.
			cfg.RedisConnString = testkit.RedisURL()
			if _, err := model.Open(ctx, cfg); !errors.As(err, &another) || !strings.Contains(err.Error(), "runs without Redis") {
				t.Fatalf("a Redis node joined one without Redis: %v", err)
			}
		}
		// A command-line tool (switchyard channel add) is no node: it opens.
		cfg.RedisConnString = ""
		tool, err := model.OpenTool(ctx, cfg)
		if err != nil {
			t.Fatalf("a tool beside a running node: %v", err)
		}
		tool.Close()
		// Once the first is gone (its heartbeat expired), a node starts.
		app.Store.Kill()
		cfg.RedisConnString = ""
		next, err := model.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("start after the other node died: %v", err)
		}
		next.Close()
	})
}

// TestCrashChargesOpenStreamsAtTheirLatestFigures: streams whose record
// was written once and whose figures moved since are charged, after a
// crash, at the figures last written with their node's figures row, with
// those token counts on the consume log; a stream whose figures never
// reached the database is charged at its record.
func TestCrashChargesOpenStreamsAtTheirLatestFigures(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		u, small, _ := ledgerFixture(t, s, 10_000, 5_000)
		acct := model.Account{UserID: u.ID, TokenID: small.ID}
		moved, _ := s.Ledger.Reserve(ctx, acct, 1000)
		moved.Checkpoint(100, &model.Log{ModelName: "m", IsStream: true, RequestID: "moved", PromptTokens: 10, CompletionTokens: 1})
		still, _ := s.Ledger.Reserve(ctx, acct, 1000)
		still.Checkpoint(70, &model.Log{ModelName: "m", IsStream: true, RequestID: "still", PromptTokens: 7})
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		moved.CheckpointFigures(400, model.StreamFigures{Prompt: 10, Completion: 39, Cached: 4, Reasoning: 2})
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// Moved again, but the process dies before it is written.
		moved.CheckpointFigures(900, model.StreamFigures{Prompt: 10, Completion: 89})
		s.Kill()
		next := testkit.Reopen(t, app)
		if got := consumed(t, next, u.ID); got != 400+70 {
			t.Fatalf("after the crash the open streams were charged %d, want 470", got)
		}
		var lg model.Log
		next.LogDB.Where("user_id = ? AND request_id = ?", u.ID, "moved").First(&lg)
		if lg.Quota != 400 || lg.PromptTokens != 10 || lg.CompletionTokens != 39 || lg.CachedTokens != 4 || lg.ReasoningTokens != 2 {
			t.Fatalf("the moved stream's log: %+v", lg)
		}
		var rows int64
		next.DB.Model(&model.LedgerStreamFigures{}).Count(&rows)
		if rows != 0 {
			t.Fatalf("%d figures rows of the dead node left after its streams were charged", rows)
		}
		if n, err := next.Ledger.RecoverCheckpoints(ctx); err != nil || n != 0 {
			t.Fatalf("second recovery charged %d checkpoints, err %v", n, err)
		}
		releaseDeadNodes(t, next, app)
		checkSums(t, next, u, small)
	})
}

// TestLateSnapshotNeverOverwritesATombstone: the checkpoint upserts, on
// every database: a snapshot replaces an earlier snapshot, a tombstone
// replaces anything (or stands alone), and a snapshot that lands after a
// tombstone (a batch retried late) changes nothing.
func TestLateSnapshotNeverOverwritesATombstone(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		l := app.Store.Ledger
		row := func(id string) model.LedgerCheckpoint {
			var r model.LedgerCheckpoint
			app.Store.DB.Where("id = ?", id).Take(&r)
			return r
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(l.WriteCheckpointForTest("a", 100, false))
		must(l.WriteCheckpointForTest("a", 250, false))
		if r := row("a"); r.Cost != 250 || r.Settled {
			t.Fatalf("a snapshot did not replace the last: %+v", r)
		}
		must(l.WriteCheckpointForTest("a", 0, true))
		must(l.WriteCheckpointForTest("a", 999, false))
		if r := row("a"); !r.Settled || r.Cost != 250 {
			t.Fatalf("a late snapshot changed a tombstone: %+v", r)
		}
		must(l.WriteCheckpointForTest("b", 0, true)) // settled before its snapshot landed
		must(l.WriteCheckpointForTest("b", 40, false))
		if r := row("b"); !r.Settled || r.Cost != 0 {
			t.Fatalf("a lone tombstone was overwritten: %+v", r)
		}
	})
}
