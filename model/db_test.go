package model

import "testing"

func TestDialectOf(t *testing.T) {
	for dsn, want := range map[string]Dialect{
		"":                                  SQLite,
		"sqlite:logs.db":                    SQLite,
		"sqlite:///var/lib/yard/logs.db":    SQLite,
		"postgres://u:p@db:5432/yard":       Postgres,
		"postgresql://u@db/yard":            Postgres,
		"u:p@tcp(db:3306)/yard":             MySQL,
		"root@tcp(127.0.0.1:3306)/yard?x=1": MySQL,
	} {
		if got := DialectOf(dsn); got != want {
			t.Errorf("DialectOf(%q) = %s, want %s", dsn, got, want)
		}
	}
	for dsn, want := range map[string]string{
		"sqlite:logs.db":                 "logs.db",
		"sqlite://logs.db":               "logs.db",
		"sqlite:///var/lib/yard/logs.db": "/var/lib/yard/logs.db",
	} {
		if got := sqlitePathOf(dsn); got != want {
			t.Errorf("sqlitePathOf(%q) = %q, want %q", dsn, got, want)
		}
	}
}
