package model

import (
	"context"
	"log/slog"
	"time"
)

// TokenSweepInterval is how often the master flips expired tokens' status.
const TokenSweepInterval = time.Minute

// startBackground runs the periodic jobs: the SYNC_FREQUENCY reload of
// options and caches on every node (a safety net behind invalidation), and
// on the master the sweep that marks expired tokens.
func startBackground(ctx context.Context, s *Store) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := s.Cfg.SyncFrequency
		if every <= 0 {
			every = 10 * time.Minute
		}
		reload := time.NewTicker(every)
		defer reload.Stop()
		sweep := time.NewTicker(TokenSweepInterval)
		defer sweep.Stop()
		analyze := time.NewTicker(time.Hour)
		defer analyze.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload.C:
				if err := s.Options.Reload(ctx); err != nil {
					slog.Warn("periodic option reload failed", "err", err)
				}
				s.Users.Flush()
				s.Tokens.Flush()
				s.Ledger.FlushPeriodConfs()
			case <-analyze.C:
				if s.Cfg.IsMaster() {
					if err := s.AnalyzeLogs(ctx); err != nil {
						slog.Warn("refreshing log table statistics failed", "err", err)
					}
				}
			case <-sweep.C:
				if s.Cfg.IsMaster() {
					if _, err := s.SweepExpiredTokens(ctx); err != nil {
						slog.Warn("expired-token sweep failed", "err", err)
					}
				}
			}
		}
	}()
	s.addCloser(func() error { cancel(); <-done; return nil })
	return nil
}

// SweepExpiredTokens marks enabled tokens past their expiry as expired and
// returns how many it changed.
func (s *Store) SweepExpiredTokens(ctx context.Context) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&Token{}).
		Where("status = ? AND expired_time <> -1 AND expired_time <= ?", TokenEnabled, time.Now().Unix()).
		Update("status", TokenExpired)
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected > 0 {
		s.Bus.Publish(ctx, TopicToken, "*")
	}
	return res.RowsAffected, nil
}

func init() { onOpen(startBackground) }

// AnalyzeLogs refreshes the query planner's statistics of the logs table,
// so filtered log queries pick the matching (filter, created_at) index.
// PostgreSQL and MySQL also refresh them on their own; SQLite only when
// asked, which the master does hourly.
func (s *Store) AnalyzeLogs(ctx context.Context) error {
	var stmt string
	switch s.LogDialect {
	case SQLite:
		stmt = "ANALYZE logs"
	case Postgres:
		stmt = "ANALYZE logs"
	default:
		stmt = "ANALYZE TABLE logs"
	}
	return s.LogDB.WithContext(ctx).Exec(stmt).Error
}
