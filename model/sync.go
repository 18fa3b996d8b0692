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
		reload := time.NewTicker(s.Cfg.SyncFrequency)
		defer reload.Stop()
		sweep := time.NewTicker(TokenSweepInterval)
		defer sweep.Stop()
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
