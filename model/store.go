package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis/v8"
	"gorm.io/gorm"

	"switchyard/common/config"
	"switchyard/common/crypto"
	"switchyard/model/limit"
)

// Store is the data layer of one process: the databases, Redis when
// configured, the caches in front of them and the ledger. main builds one
// and hands it down.
type Store struct {
	Cfg     config.Config
	DB      *gorm.DB
	LogDB   *gorm.DB
	Dialect Dialect
	// LogDialect is LogDB's dialect (equal to Dialect when logs share the DB).
	LogDialect Dialect
	// Redis is nil when REDIS_CONN_STRING is empty.
	Redis *redis.Client
	// Bus spreads cache invalidations to this node and, with Redis, to all.
	Bus *Bus
	// Options is the runtime option snapshot.
	Options *Options
	// Sealer encrypts channel keys at rest.
	Sealer *crypto.Sealer
	// Users caches user status, role and group for the hot path.
	Users *UserCache
	// Tokens caches relay tokens by key hash.
	Tokens *TokenCache
	// Ledger owns every quota balance (ledger.go).
	Ledger *Ledger
	// Codes holds one-time email codes and reset tokens.
	Codes *Codes
	// Channels is the in-memory abilities index the relay selects from.
	Channels *ChannelIndex
	// FirstRootPassword is root's random password when this start created
	// root with one (no INITIAL_ROOT_PASSWORD); main prints it once. It is
	// never stored in clear.
	FirstRootPassword string
	// Limits counts calls against rate limits (model/limits.go).
	Limits *limit.Limiter

	closers []func() error
	closeMu sync.Once
	killed  atomic.Bool
	tool    bool
}

// Open connects to the databases and Redis, migrates the schema (on the
// master node) and loads the caches.
func Open(ctx context.Context, cfg config.Config) (*Store, error) {
	return open(ctx, cfg, false)
}

// OpenTool opens a store for a command-line tool (switchyard channel …)
// that runs beside a serving node: it does not register as a ledger node
// (so a single node without Redis does not refuse it, nor it the node),
// recovers nothing and flushes nothing. It must not reserve quota.
func OpenTool(ctx context.Context, cfg config.Config) (*Store, error) {
	return open(ctx, cfg, true)
}

func open(ctx context.Context, cfg config.Config, tool bool) (*Store, error) {
	s := &Store{Cfg: cfg, Sealer: crypto.NewSealer(cfg.CryptoSecret), tool: tool}
	db, d, err := openDB(cfg, cfg.SQLDSN, cfg.SQLitePath)
	if err != nil {
		return nil, err
	}
	s.DB, s.Dialect = db, d
	s.addCloser(func() error { sqlDB, _ := db.DB(); return sqlDB.Close() })
	s.LogDB, s.LogDialect = db, d
	if cfg.LogSQLDSN != "" {
		ldb, ld, err := openDB(cfg, cfg.LogSQLDSN, "")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("LOG_SQL_DSN: %w", err)
		}
		s.LogDB, s.LogDialect = ldb, ld
		s.addCloser(func() error { sqlDB, _ := ldb.DB(); return sqlDB.Close() })
	}
	if cfg.RedisConnString != "" {
		opt, err := redis.ParseURL(cfg.RedisConnString)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("REDIS_CONN_STRING: %w", err)
		}
		// Bounded waits, so an unreachable Redis sends the ledger to its
		// local shares within seconds (unless the URL says otherwise).
		if opt.DialTimeout == 0 {
			opt.DialTimeout = 2 * time.Second
		}
		if opt.ReadTimeout == 0 {
			opt.ReadTimeout = 2 * time.Second
		}
		if opt.WriteTimeout == 0 {
			opt.WriteTimeout = 2 * time.Second
		}
		if opt.MaxRetries == 0 {
			opt.MaxRetries = 1
		}
		s.Redis = redis.NewClient(opt)
		if err := s.Redis.Ping(ctx).Err(); err != nil {
			s.Close()
			return nil, fmt.Errorf("REDIS_CONN_STRING: reach redis: %w", err)
		}
		s.addCloser(s.Redis.Close)
	}
	if cfg.IsMaster() {
		if err := migrate(s.DB, mainModels); err != nil {
			s.Close()
			return nil, err
		}
		if err := migrate(s.LogDB, logModels); err != nil {
			s.Close()
			return nil, err
		}
	}
	logStart(s.Dialect, s.LogDialect, cfg.LogSQLDSN != "")
	s.Bus = newBus(s.Redis, cfg.RedisKeyPrefix)
	s.addCloser(func() error { s.Bus.Close(); return nil })
	if s.Options, err = loadOptions(ctx, s.DB, s.Bus); err != nil {
		s.Close()
		return nil, err
	}
	s.Users = newUserCache(s.DB, s.Bus)
	s.Codes = newCodes(s.Redis, cfg.RedisKeyPrefix)
	s.Tokens = newTokenCache(s.DB, s.Bus)
	if s.Ledger, err = newLedger(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	s.addCloser(func() error {
		if s.killed.Load() {
			return nil
		}
		return s.Ledger.close()
	})
	for _, hook := range openHooks {
		if err := hook(ctx, s); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// openHooks run at the end of Open, in registration order; model files
// that own a cache or a background worker register one from init.
var openHooks []func(context.Context, *Store) error

func onOpen(hook func(context.Context, *Store) error) { openHooks = append(openHooks, hook) }

func (s *Store) addCloser(f func() error) { s.closers = append(s.closers, f) }

// Close stops background work and closes connections, last opened first.
func (s *Store) Close() error {
	var err error
	s.closeMu.Do(func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			if e := s.closers[i](); e != nil {
				err = errors.Join(err, e)
			}
		}
	})
	return err
}

// Kill stops the store as kill -9 would stop the process, seen from
// after its heartbeat expired: the ledger's queue and unwritten
// checkpoints are dropped, not written, the node's ledger_nodes row is
// aged past dbNodeTTL (the only write), and the connections close. Crash
// tests use it; Close is the clean stop.
func (s *Store) Kill() {
	s.killed.Store(true)
	s.Ledger.kill()
	s.DB.Model(&LedgerNode{}).Where("id = ?", s.Ledger.node).Update("beat_at", 0)
	s.Close()
}

// Ping checks that the main database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// logf is a small helper for background workers.
func logf(msg string, args ...any) { slog.Info(msg, args...) }
