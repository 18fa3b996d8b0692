package testkit

import (
	"net/url"
	"strings"
	"testing"

	"switchyard/internal/faultproxy"
)

// Database server addresses the fault tests put a proxy in front of.
const (
	MySQLAddr    = "127.0.0.1:3306"
	PostgresAddr = "127.0.0.1:5432"
)

// FreshDSN creates a fresh mysql or postgres database (dropped when the
// test ends) and returns its DSN, dialled through proxy when proxy is not
// nil.
func FreshDSN(t testing.TB, db string, proxy *faultproxy.Proxy) string {
	t.Helper()
	var dsn string
	switch db {
	case "mysql":
		dsn = freshMySQL(t)
		if proxy != nil {
			i, j := strings.Index(dsn, "tcp("), strings.Index(dsn, ")/")
			dsn = dsn[:i+4] + proxy.Addr() + dsn[j:]
		}
	case "postgres":
		dsn = freshPostgres(t)
		if proxy != nil {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			u.Host = proxy.Addr()
			dsn = u.String()
		}
	default:
		t.Fatalf("testkit: FreshDSN: %q has no server to proxy", db)
	}
	return dsn
}

// ServerAddr is where db's server listens (for a faultproxy target).
func ServerAddr(db string) string {
	if db == "postgres" {
		return PostgresAddr
	}
	return MySQLAddr
}
