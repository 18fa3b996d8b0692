package model_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// benchDatabases is the database list for benchmarks: BENCH_DATABASES, or
// the test list.
func benchDatabases() []string {
	if v := os.Getenv("BENCH_DATABASES"); v != "" {
		return strings.Split(v, ",")
	}
	return testkit.Databases()
}

// seedLogs inserts n consume logs spread over 1,000 users, 20 models, 50
// channels and the last 30 days.
func seedLogs(b *testing.B, s *model.Store, n int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().Unix()
	const batch = 2000
	rows := make([]model.Log, 0, batch)
	for i := 0; i < n; i++ {
		uid := rng.IntN(1000) + 1
		rows = append(rows, model.Log{
			UserID: uid, Username: "user" + strconv.Itoa(uid), CreatedAt: now - int64(rng.IntN(30*86400)),
			Type: model.LogConsume, TokenName: "token" + strconv.Itoa(rng.IntN(5)), TokenID: uid*10 + rng.IntN(5),
			ModelName: "model-" + strconv.Itoa(rng.IntN(20)), ChannelID: rng.IntN(50) + 1,
			Quota: int64(rng.IntN(5000)), PromptTokens: rng.IntN(2000), CompletionTokens: rng.IntN(1000),
			ElapsedMs: int64(rng.IntN(5000)), RequestID: fmt.Sprintf("req%09d", i),
		})
		if len(rows) == batch || i == n-1 {
			if err := s.LogDB.CreateInBatches(rows, 500).Error; err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
}

// BenchmarkLogQueries times the console's log queries at LOG_BENCH_ROWS
// rows (default 1,000,000). It seeds once per database, which takes a
// while; run it with:
//
//	go test -run '^$' -bench BenchmarkLogQueries -benchtime 200x ./model/
func BenchmarkLogQueries(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("LOG_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for _, db := range benchDatabases() {
		b.Run(db, func(b *testing.B) {
			app := testkit.Start(b, db, nil)
			s := app.Store
			seedLogs(b, s, n)
			ctx := context.Background()
			if err := s.AnalyzeLogs(ctx); err != nil {
				b.Fatal(err)
			}
			now := time.Now().Unix()
			queries := []struct {
				name string
				run  func() error
			}{
				{"admin-page", func() error { _, _, err := s.ListLogs(ctx, model.LogFilter{}, 0, 10); return err }},
				{"admin-page-50", func() error { _, _, err := s.ListLogs(ctx, model.LogFilter{}, 500, 10); return err }},
				{"self-page", func() error { _, _, err := s.ListLogs(ctx, model.LogFilter{UserID: 42}, 0, 10); return err }},
				{"self-model-day", func() error {
					_, _, err := s.ListLogs(ctx, model.LogFilter{UserID: 42, ModelName: "model-3", Start: now - 86400, End: now}, 0, 10)
					return err
				}},
				{"admin-username", func() error { _, _, err := s.ListLogs(ctx, model.LogFilter{Username: "user7"}, 0, 10); return err }},
				{"admin-channel-type", func() error {
					_, _, err := s.ListLogs(ctx, model.LogFilter{ChannelID: 9, Type: model.LogConsume}, 0, 10)
					return err
				}},
				{"self-stat-30d", func() error { _, err := s.StatLogs(ctx, model.LogFilter{UserID: 42}); return err }},
				{"admin-stat-model-day", func() error {
					_, err := s.StatLogs(ctx, model.LogFilter{ModelName: "model-5", Start: now - 86400, End: now})
					return err
				}},
				{"self-dashboard-7d", func() error { _, err := s.Dashboard(ctx, 42, now-7*86400); return err }},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkLedger measures reserve+settle pairs per second with the
// group-committing flusher writing to each database underneath:
//
//	go test -run '^$' -bench BenchmarkLedger -benchtime 3s ./model/
func BenchmarkLedger(b *testing.B) {
	for _, db := range benchDatabases() {
		b.Run(db, func(b *testing.B) {
			app := testkit.Start(b, db, nil)
			s := app.Store
			ctx := context.Background()
			const accounts = 100
			accts := make([]model.Account, accounts)
			for i := range accts {
				u := &model.User{Username: testkit.Name("bench"), Password: "x"}
				if err := s.CreateUser(ctx, u); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Ledger.Credit(ctx, u.ID, 0, 1<<50, nil, nil); err != nil {
					b.Fatal(err)
				}
				tok := &model.Token{UserID: u.ID, Name: "t", RemainQuota: 1 << 50, ExpiredTime: -1}
				model.NewTokenKey(tok)
				if err := s.CreateToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
				accts[i] = model.Account{UserID: u.ID, TokenID: tok.ID}
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					a := accts[next.Add(1)%accounts]
					r, err := s.Ledger.Reserve(ctx, a, 1000)
					if err != nil {
						b.Fatal(err)
					}
					r.Settle(700, &model.Log{ModelName: "m", PromptTokens: 100, CompletionTokens: 50})
				}
			})
			if err := s.Ledger.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "settles/s")
		})
	}
}
