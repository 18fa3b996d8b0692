// Package testkit starts the whole Switchyard application behind a real
// HTTP server on a fresh database, for the integration tests.
//
// ForEachDB runs a test body once per database: SQLite (a temp file),
// MySQL/MariaDB and PostgreSQL (a new database created per app and dropped
// afterwards). The MySQL and PostgreSQL runs also use Redis, as a
// multi-node deployment does. A database that cannot be reached fails the
// test loudly; nothing is skipped. The servers are found through
//
//	TEST_MYSQL_DSN     default root@tcp(127.0.0.1:3306)/
//	TEST_POSTGRES_DSN  default postgres://root@127.0.0.1:5432/test?sslmode=disable
//	TEST_REDIS_URL     default redis://127.0.0.1:6379/0
//
// and TEST_DATABASES (comma list of sqlite, mysql, postgres; default all)
// narrows a local run.
package testkit

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // test database admin
	_ "github.com/jackc/pgx/v5/stdlib" // test database admin

	"switchyard/common/config"
	"switchyard/common/crypto"
	"switchyard/controller"
	"switchyard/model"
	"switchyard/router"
)

// RootPassword is root's password in every test app.
const RootPassword = "root-password-for-tests"

// Databases lists the databases ForEachDB runs on.
func Databases() []string {
	if v := os.Getenv("TEST_DATABASES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"sqlite", "mysql", "postgres"}
}

// ForEachDB runs fn as a parallel subtest per database, each with its own
// app built from env (extra environment, applied over the test defaults).
func ForEachDB(t *testing.T, env map[string]string, fn func(t *testing.T, app *App)) {
	t.Helper()
	for _, db := range Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fn(t, Start(t, db, env))
		})
	}
}

// App is one running Switchyard.
type App struct {
	// URL is the base URL of the server, without a trailing slash.
	URL string
	// DB names the database: sqlite, mysql or postgres.
	DB     string
	Cfg    config.Config
	Store  *model.Store
	Server *httptest.Server
}

// Start builds an app on a fresh database of the given kind. Rate limits
// are off unless env turns them on; the fixture models are priced
// (package fixtureprice). Everything is torn down by t.Cleanup.
func Start(t testing.TB, db string, env map[string]string) *App {
	t.Helper()
	vars := Env(t, db, env)
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("testkit: config: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := model.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("testkit: open %s store: %v", db, err)
	}
	h := &controller.Handler{Cfg: cfg, Store: store, Started: time.Now()}
	srv := httptest.NewServer(router.New(cfg, store, h))
	t.Cleanup(func() {
		srv.Close()
		if err := store.Close(); err != nil {
			t.Errorf("testkit: close store: %v", err)
		}
	})
	app := &App{URL: srv.URL, DB: db, Cfg: cfg, Store: store, Server: srv}
	priceFixtures(t, app)
	return app
}

// Env is the environment of a test app on a fresh database of the given
// kind (created now, dropped when the test ends), with env applied over
// the test defaults: what Start configures itself from, and what a
// Switchyard process started by StartProcess gets.
func Env(t testing.TB, db string, env map[string]string) map[string]string {
	t.Helper()
	vars := map[string]string{
		"INITIAL_ROOT_PASSWORD":     RootPassword,
		"SESSION_SECRET":            "test-session-secret",
		"GLOBAL_API_RATE_LIMIT":     "0",
		"GLOBAL_WEB_RATE_LIMIT":     "0",
		"CRITICAL_RATE_LIMIT":       "0",
		"TURNSTILE_VERIFY_URL":      "http://127.0.0.1:1/unset",
		"REDIS_KEY_PREFIX":          "sytest:" + crypto.RandomString(8) + ":",
		"SQLITE_PATH":               "",
		"BCRYPT_COST":               "4",
		"SQL_MAX_OPEN_CONNS":        "10",
		"SQL_MAX_IDLE_CONNS":        "10",
		"SHUTDOWN_TIMEOUT":          "5",
		"INITIAL_ROOT_ACCESS_TOKEN": "",
	}
	switch db {
	case "sqlite":
		vars["SQLITE_PATH"] = filepath.Join(t.TempDir(), "switchyard.db")
	case "mysql":
		vars["SQL_DSN"] = freshMySQL(t)
		vars["REDIS_CONN_STRING"] = redisURL(t)
	case "postgres":
		vars["SQL_DSN"] = freshPostgres(t)
		vars["REDIS_CONN_STRING"] = redisURL(t)
	default:
		t.Fatalf("testkit: unknown database %q", db)
	}
	for k, v := range env {
		vars[k] = v
	}
	return vars
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func redisURL(t testing.TB) string { return RedisURL() }

// RedisURL is the Redis the tests use (TEST_REDIS_URL).
func RedisURL() string { return envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/0") }

// freshMySQL creates a database for one app and returns its DSN.
func freshMySQL(t testing.TB) string {
	t.Helper()
	base := envOr("TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/")
	admin, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatalf("testkit: MySQL DSN %q: %v", base, err)
	}
	defer admin.Close()
	name := "sy_" + strings.ToLower(crypto.RandomString(12))
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("testkit: MySQL/MariaDB is required at %s (TEST_MYSQL_DSN) and could not create a database: %v", base, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("mysql", base)
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name)
			a.Close()
		}
	})
	i := strings.LastIndex(base, "/")
	return base[:i+1] + name
}

// freshPostgres creates a database for one app and returns its DSN.
func freshPostgres(t testing.TB) string {
	t.Helper()
	base := envOr("TEST_POSTGRES_DSN", "postgres://root@127.0.0.1:5432/test?sslmode=disable")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("testkit: PostgreSQL DSN %q: %v", base, err)
	}
	defer admin.Close()
	name := "sy_" + strings.ToLower(crypto.RandomString(12))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("testkit: PostgreSQL is required at %s (TEST_POSTGRES_DSN) and could not create a database: %v", base, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testkit: TEST_POSTGRES_DSN: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Name makes a unique, valid username with the given prefix.
func Name(prefix string) string {
	return fmt.Sprintf("%s%s", prefix, strings.ToLower(crypto.RandomString(8)))
}

func init() {
	// Request logs would drown test output; TEST_LOG=1 brings them back.
	if os.Getenv("TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}

// Reopen opens a second store on app's databases, as the next start of a
// process that died would. It is closed by t.Cleanup.
func Reopen(t testing.TB, app *App) *model.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := model.Open(ctx, app.Cfg)
	if err != nil {
		t.Fatalf("testkit: reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Eventually waits until cond holds, checking every few milliseconds, and
// fails the test naming what did not happen once timeout passes. It waits
// on state, never on time alone.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Settle waits until every reservation of the app is settled and flushes
// its ledger, so consume logs and balances hold every call made. A call
// whose client left (an abandoned stream, a cancelled request) settles
// when its upstream call ends, after the client has gone.
func (a *App) Settle(t testing.TB) {
	t.Helper()
	Eventually(t, 20*time.Second, "every reservation settles", func() bool { return a.Store.Ledger.OpenReservations() == 0 })
	if err := a.Store.Ledger.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}
