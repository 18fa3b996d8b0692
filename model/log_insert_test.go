package model_test

import (
	"context"
	"fmt"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestFlushWritesEveryLogWhole: the group commit inserts consume logs in
// chunks of a few fixed sizes through its own statements; batches of
// every size around the chunk edges arrive whole, each row with every
// column as settled (unicode and quotes included), on every database and
// into a separate log database.
func TestFlushWritesEveryLogWhole(t *testing.T) {
	for _, db := range testkit.Databases() {
		for _, sep := range []bool{false, true} {
			name := db
			if sep {
				name += "-logdb"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var vars map[string]string
				if sep {
					vars = map[string]string{"LOG_SQL_DSN": "sqlite://" + t.TempDir() + "/logs.db"}
				}
				app := testkit.Start(t, db, vars)
				s := app.Store
				ctx := context.Background()
				u, small, _ := ledgerFixture(t, s, 1<<40, 1<<30)
				acct := model.Account{UserID: u.ID, TokenID: small.ID}
				want := map[string]model.Log{}
				total := 0
				for _, n := range []int{1, 7, 8, 9, 64, 65, 73, 200} {
					for i := range n {
						id := fmt.Sprintf("req-%d-%d", n, i)
						lg := model.Log{Username: u.Username, TokenName: "small", ModelName: "模型-'; DROP TABLE logs;--",
							PromptTokens: i + 1, CompletionTokens: 2*i + 3, CachedTokens: i, CacheCreationTokens: i % 3,
							ReasoningTokens: i % 5, ChannelID: 7, ElapsedMs: int64(1000 + i), FirstTokenMs: int64(i), IsStream: i%2 == 0,
							RequestID: id, IP: "203.0.113.9", Content: "“quoted” \\ text", Params: `{"k":"v"}`}
						r, err := s.Ledger.Reserve(ctx, acct, 10)
						if err != nil {
							t.Fatal(err)
						}
						cp := lg
						r.Settle(int64(i+1), &cp)
						lg.Quota = int64(i + 1)
						want[id] = lg
					}
					if err := s.Ledger.Flush(ctx); err != nil {
						t.Fatal(err)
					}
					total += n
				}
				var rows []model.Log
				if err := s.LogDB.Where("user_id = ? AND type = ?", u.ID, model.LogConsume).Find(&rows).Error; err != nil {
					t.Fatal(err)
				}
				if len(rows) != total {
					t.Fatalf("%d consume rows, want %d", len(rows), total)
				}
				for _, got := range rows {
					w, ok := want[got.RequestID]
					if !ok {
						t.Fatalf("unexpected row %+v", got)
					}
					w.ID, w.UserID, w.TokenID, w.Type, w.CreatedAt = got.ID, u.ID, small.ID, model.LogConsume, got.CreatedAt
					if got != w || got.CreatedAt == 0 {
						t.Fatalf("row differs:\n got %+v\nwant %+v", got, w)
					}
				}
				checkSums(t, s, u, small)
			})
		}
	}
}
