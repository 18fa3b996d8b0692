package testkit

import (
	"net/http/httptest"
	"testing"
	"time"

	"switchyard/controller"
	"switchyard/router"
)

// SecondNode starts another app on app's databases and Redis, as a second
// node behind a load balancer: its own store (caches, ledger) and its own
// HTTP server. It needs Redis in app's configuration unless the test
// wants the refusal of a second node without Redis.
func SecondNode(t testing.TB, app *App) *App {
	t.Helper()
	store := Reopen(t, app)
	h := &controller.Handler{Cfg: app.Cfg, Store: store, Started: time.Now()}
	srv := httptest.NewServer(router.New(app.Cfg, store, h))
	t.Cleanup(srv.Close)
	return &App{URL: srv.URL, DB: app.DB, Cfg: app.Cfg, Store: store, Server: srv}
}
