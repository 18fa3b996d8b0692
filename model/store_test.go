package model_test

import (
	"os"
	"path/filepath"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestSeparateLogDatabase pins LOG_SQL_DSN: the logs table lives only in
// the log database, rows are written and read there, and the main
// database has no logs table. The log database is a SQLite file beside
// each main database, so the SQLite run uses two files.
func TestSeparateLogDatabase(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			logFile := filepath.Join(t.TempDir(), "logs.db")
			app := testkit.Start(t, db, map[string]string{"LOG_SQL_DSN": "sqlite://" + logFile})
			if app.Store.LogDB == app.Store.DB || app.Store.LogDialect != model.SQLite {
				t.Fatalf("logs share the main database (log dialect %s)", app.Store.LogDialect)
			}
			if _, err := os.Stat(logFile); err != nil {
				t.Fatalf("log database file: %v", err)
			}
			if app.Store.DB.Migrator().HasTable("logs") {
				t.Fatal("the main database has a logs table")
			}
			if !app.Store.LogDB.Migrator().HasTable("logs") || app.Store.LogDB.Migrator().HasTable("users") {
				t.Fatal("the log database does not hold exactly the logs")
			}

			root := app.Root(t)
			user := app.NewUser(t, model.RoleCommon)
			root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": 777}).Want(t, 200, true)
			var n int64
			app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", user.UserID, model.LogManage).Count(&n)
			if n != 1 {
				t.Fatalf("manage log rows in the log database = %d, want 1", n)
			}
			var rows []model.Log
			root.Do("GET", "/api/log/?type=3", nil).Want(t, 200, true).Decode(t, &rows)
			found := false
			for _, r := range rows {
				found = found || r.UserID == user.UserID
			}
			if !found {
				t.Fatalf("GET /api/log/ does not read the log database: %+v", rows)
			}
		})
	}
}

func TestLogsShareTheMainDatabaseByDefault(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	if app.Store.LogDB != app.Store.DB || !app.Store.DB.Migrator().HasTable("logs") {
		t.Fatal("without LOG_SQL_DSN the logs table should be in the main database")
	}
}
