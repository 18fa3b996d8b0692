// Command switchyard is a self-hosted LLM API relay: one binary serving
// the management API, the /v1 relay and the web console.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/cli"
	"switchyard/common/config"
	"switchyard/controller"
	"switchyard/middleware"
	"switchyard/model"
	"switchyard/router"
)

func main() {
	if cli.IsCommand(os.Args[1:]) {
		os.Exit(cli.Run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, hooks{})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		os.Exit(1)
	}
}

// hooks are run's seams for tests; main passes the zero value.
type hooks struct {
	// logOut receives the structured log; nil means os.Stderr.
	logOut io.Writer
	// ready, when set, is called with the listen address once the server
	// accepts connections.
	ready func(addr string)
	// routes, when set, adds routes to the engine before serving.
	routes func(*gin.Engine)
	// shutdown, when set, is called once shutdown has begun and the
	// listener is closed.
	shutdown func()
}

// writeDeadline sets a write deadline of d on every request that is not
// relayed (/v1…, whose streams may run for minutes and are bounded by
// RELAY_TIMEOUT and STREAM_IDLE_TIMEOUT instead), so a client that stops
// reading a management reply or an asset cannot hold its connection.
func writeDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/v1" && !strings.HasPrefix(p, "/v1/") && !strings.HasPrefix(p, "/v1beta/") {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}

// run serves until ctx ends, then stops accepting, lets in-flight
// requests finish for up to SHUTDOWN_TIMEOUT, cuts what is left and closes
// the stores.
func run(ctx context.Context, args []string, getenv func(string) string, hk hooks) error {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	logOut := hk.logOut
	if logOut == nil {
		logOut = os.Stderr
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})))
	// Access lines are written in batches (middleware/accesslog.go); the
	// last ones leave before run returns.
	defer middleware.FlushAccessLog()
	raiseFileLimit()
	if cfg.SessionSecretRandom {
		slog.Warn("SESSION_SECRET is not set: sessions end when the process does, and several nodes cannot share them")
	}

	store, err := model.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()

	h := &controller.Handler{Cfg: cfg, Store: store, Started: time.Now()}
	engine := router.New(cfg, store, h)
	if hk.routes != nil {
		hk.routes(engine)
	}
	srv := &http.Server{
		Addr:              net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		Handler:           writeDeadline(engine, cfg.ServerWriteTimeout),
		ReadHeaderTimeout: min(10*time.Second, cfg.ServerReadTimeout),
		ReadTimeout:       cfg.ServerReadTimeout,
		IdleTimeout:       cfg.ServerIdleTimeout,
		// No WriteTimeout: it would cut every stream at that age.
		// writeDeadline bounds the other replies per request.
	}
	if hk.shutdown != nil {
		srv.RegisterOnShutdown(hk.shutdown)
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	slog.Info("switchyard listening", "addr", ln.Addr().String(), "version", controller.Version)
	printWelcome(logOut, cfg.Host, ln.Addr(), store.FirstRootPassword)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if hk.ready != nil {
		hk.ready(ln.Addr().String())
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// Connections still busy past the deadline are closed: their
		// clients learn at once and their handlers' contexts end.
		slog.Warn("shutdown deadline passed: closing the connections still open")
		_ = srv.Close()
	}
	// store.Close (deferred) flushes the ledger and closes the databases.
	return nil
}

// printWelcome writes, in plain text beside the JSON log, where the console
// is and, on the start that created root with a random password, that
// password: the two things a newcomer needs before anything else.
func printWelcome(w io.Writer, host string, addr net.Addr, rootPassword string) {
	port := "3000"
	if a, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	}
	shown := host
	if shown == "" || shown == "0.0.0.0" || shown == "::" {
		shown = "localhost"
	}
	msg := fmt.Sprintf("\n  Switchyard is running. Open the console at http://%s/\n", net.JoinHostPort(shown, port))
	if host == "" {
		msg += "  (listening on every interface; set HOST=127.0.0.1 or --host 127.0.0.1 to keep it to this machine)\n"
	}
	if rootPassword != "" {
		msg += "\n  Sign in as root with this one-time password, then change it in the console (Settings):\n" +
			"      username: root\n" +
			"      password: " + rootPassword + "\n" +
			"  It is shown only now and is not stored in clear.\n"
	}
	fmt.Fprintln(w, msg)
}
