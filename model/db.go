// Package model holds Switchyard's GORM models and every query, the caches
// in front of them and their invalidation, and the quota ledger.
package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"switchyard/common/config"
)

// Dialect names the SQL database behind a *gorm.DB.
type Dialect string

// The three supported databases.
const (
	SQLite   Dialect = "sqlite"
	MySQL    Dialect = "mysql"
	Postgres Dialect = "postgres"
)

// DialectOf says which database a DSN selects: empty is SQLite, a
// postgres:// (or postgresql://) prefix PostgreSQL, a sqlite: prefix
// SQLite at the path after it, anything else MySQL.
func DialectOf(dsn string) Dialect {
	switch {
	case dsn == "", strings.HasPrefix(dsn, "sqlite:"):
		return SQLite
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres
	default:
		return MySQL
	}
}

// sqlitePathOf is the file a "sqlite:" DSN names: "sqlite:logs.db",
// "sqlite:///var/lib/yard/logs.db" and "sqlite://logs.db" all work, so a
// single-node install can keep LOG_SQL_DSN's logs in a second file.
func sqlitePathOf(dsn string) string {
	if p, ok := strings.CutPrefix(dsn, "sqlite://"); ok {
		return p
	}
	return strings.TrimPrefix(dsn, "sqlite:")
}

// openDB opens one database. sqlitePath is used when dsn is empty.
func openDB(cfg config.Config, dsn, sqlitePath string) (*gorm.DB, Dialect, error) {
	if dsn != "" && DialectOf(dsn) == SQLite {
		sqlitePath = sqlitePathOf(dsn)
		if sqlitePath == "" {
			return nil, SQLite, errors.New(`a "sqlite:" DSN needs a file path after it`)
		}
	}
	gcfg := &gorm.Config{
		Logger:                                   logger.Default.LogMode(logger.Silent),
		PrepareStmt:                              true,
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           true,
	}
	d := DialectOf(dsn)
	var dial gorm.Dialector
	switch d {
	case SQLite:
		// WAL lets readers run beside the single writer; busy_timeout makes
		// writers queue instead of failing with SQLITE_BUSY. synchronous
		// NORMAL is SQLite's advice for WAL: a commit survives the process
		// being killed, and only an OS crash or power loss can take back
		// the last commits (the ledger then under-charges, never twice);
		// FULL paid an fsync on every group commit.
		sep := "?"
		if strings.Contains(sqlitePath, "?") {
			sep = "&"
		}
		pinMallocThreshold()
		dial = sqlite.Open(sqlitePath + sep + "_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=off&_txlock=immediate")
	case Postgres:
		dial = postgres.New(postgres.Config{DSN: withPostgresTimeouts(dsn, statementTimeout(cfg)), PreferSimpleProtocol: false})
	default:
		if !strings.Contains(dsn, "parseTime") {
			if strings.Contains(dsn, "?") {
				dsn += "&parseTime=true"
			} else {
				dsn += "?parseTime=true"
			}
		}
		if !strings.Contains(dsn, "charset") {
			dsn += "&charset=utf8mb4"
		}
		// The driver's socket timeouts bound every read and write, so a
		// database that stops answering fails a statement instead of
		// holding it (and its caller) for ever.
		// They sit a little past the statement's own deadline, which
		// fires first and reads as a timeout (503) rather than a broken
		// connection.
		t := (statementTimeout(cfg) + 5*time.Second).String()
		for _, p := range []string{"timeout=10s", "readTimeout=" + t, "writeTimeout=" + t} {
			if !strings.Contains(dsn, strings.SplitN(p, "=", 2)[0]+"=") {
				dsn += "&" + p
			}
		}
		dial = mysql.Open(dsn)
	}
	db, err := gorm.Open(dial, gcfg)
	if err != nil {
		return nil, d, fmt.Errorf("open %s database: %w", d, err)
	}
	if err := boundStatements(db, statementTimeout(cfg)); err != nil {
		return nil, d, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, d, err
	}
	if d == SQLite {
		// One writer at a time is SQLite's rule; a small pool keeps readers
		// concurrent without piling up writers on the lock.
		sqlDB.SetMaxOpenConns(8)
	} else {
		sqlDB.SetMaxIdleConns(cfg.SQLMaxIdleConns)
		sqlDB.SetMaxOpenConns(cfg.SQLMaxOpenConns)
		sqlDB.SetConnMaxLifetime(cfg.SQLMaxLifetime)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, d, fmt.Errorf("reach %s database: %w", d, err)
	}
	return db, d, nil
}

// statementTimeout is SQL_STATEMENT_TIMEOUT, 30 s when a hand-built
// config left it zero.
func statementTimeout(cfg config.Config) time.Duration {
	if cfg.SQLStatementTimeout > 0 {
		return cfg.SQLStatementTimeout
	}
	return 30 * time.Second
}

// withPostgresTimeouts adds a server-side statement_timeout and a
// connect_timeout to a postgres:// DSN unless it sets them.
func withPostgresTimeouts(dsn string, stmt time.Duration) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("statement_timeout") == "" {
		// Past the client-side deadline, which fires first (see openDB).
		q.Set("statement_timeout", strconv.FormatInt((stmt+5*time.Second).Milliseconds(), 10))
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "10")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

const boundKey = "switchyard:statement_bound"

// bound is what the before-callback saves for the after-callback.
type bound struct {
	parent context.Context
	cancel context.CancelFunc
}

// boundStatements gives every statement that runs without a deadline one
// of d (a gorm callback around each create, query, update, delete and raw
// call), so no query waits on a database that stopped answering for
// longer than SQL_STATEMENT_TIMEOUT, whichever driver it goes through.
// Statements in a request inherit the request's context and get the bound
// on top of it. The statement's own context is put back afterwards, since
// a chained *gorm.DB (q.Count then q.Find) reuses its Statement.
func boundStatements(db *gorm.DB, d time.Duration) error {
	before := func(tx *gorm.DB) {
		ctx := tx.Statement.Context
		if ctx == nil {
			ctx = context.Background()
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
			return
		}
		bctx, cancel := context.WithTimeout(ctx, d)
		tx.Statement.Context = bctx
		tx.InstanceSet(boundKey, bound{parent: ctx, cancel: cancel})
	}
	after := func(tx *gorm.DB) {
		if v, ok := tx.InstanceGet(boundKey); ok {
			b := v.(bound)
			b.cancel()
			tx.Statement.Context = b.parent
			tx.Statement.Settings.Delete(fmt.Sprintf("%p", tx.Statement) + boundKey)
		}
	}
	cb := db.Callback()
	// Row and Rows hand back a cursor that is read after their callback
	// returns, so they are left to the drivers' socket timeouts.
	return errors.Join(
		cb.Create().Before("gorm:begin_transaction").Register("switchyard:bound", before),
		cb.Create().After("gorm:commit_or_rollback_transaction").Register("switchyard:unbound", after),
		cb.Update().Before("gorm:begin_transaction").Register("switchyard:bound", before),
		cb.Update().After("gorm:commit_or_rollback_transaction").Register("switchyard:unbound", after),
		cb.Delete().Before("gorm:begin_transaction").Register("switchyard:bound", before),
		cb.Delete().After("gorm:commit_or_rollback_transaction").Register("switchyard:unbound", after),
		cb.Query().Before("gorm:query").Register("switchyard:bound", before),
		cb.Query().After("gorm:after_query").Register("switchyard:unbound", after),
		cb.Raw().Before("gorm:raw").Register("switchyard:bound", before),
		cb.Raw().After("gorm:raw").Register("switchyard:unbound", after),
	)
}

// mainModels are migrated in the main database; logModels in the log one.
var (
	mainModels []any
	logModels  []any
)

// registerModels adds tables to the migration; each model file calls it
// from init, so the list lives beside the types.
func registerModels(models ...any)    { mainModels = append(mainModels, models...) }
func registerLogModels(models ...any) { logModels = append(logModels, models...) }

// preMigrator is a model that readies rows and indexes an older version
// left for what AutoMigrate is about to do (User's outside ids).
type preMigrator interface{ beforeAutoMigrate(db *gorm.DB) error }

// postMigrator is a model that finishes what AutoMigrate cannot say in a
// tag (a collation on one database only).
type postMigrator interface{ afterAutoMigrate(db *gorm.DB) error }

func migrate(db *gorm.DB, models []any) error {
	for _, m := range models {
		if p, ok := m.(preMigrator); ok {
			if err := p.beforeAutoMigrate(db); err != nil {
				return fmt.Errorf("migrate %T: %w", m, err)
			}
		}
		if err := db.AutoMigrate(m); err != nil {
			return fmt.Errorf("migrate %T: %w", m, err)
		}
		if p, ok := m.(postMigrator); ok {
			if err := p.afterAutoMigrate(db); err != nil {
				return fmt.Errorf("migrate %T: %w", m, err)
			}
		}
	}
	return nil
}

// IsUniqueViolation reports whether err is a duplicate-key error.
func IsUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) || (err != nil && strings.Contains(strings.ToLower(err.Error()), "unique constraint"))
}

// notFound reports whether err means no row matched.
func notFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// likePattern escapes a user's keyword for a `LIKE ? ESCAPE '!'` match
// anywhere in the column. '!' is the escape because a backslash means
// different things in MySQL's and PostgreSQL's string literals.
func likePattern(keyword string) string { return "%" + escapeLike(keyword) + "%" }

// escapeLike escapes LIKE's wildcards with '!'.
func escapeLike(s string) string {
	return strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`).Replace(s)
}

// logStart notes which databases this process uses.
func logStart(d, ld Dialect, separate bool) {
	slog.Info("database ready", "dialect", string(d), "log_dialect", string(ld), "separate_log_db", separate)
}
