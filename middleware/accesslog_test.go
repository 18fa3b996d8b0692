package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// lineRecorder is a slog handler that keeps what reaches it.
type lineRecorder struct {
	mu    sync.Mutex
	lines []map[string]string
	// wrote gets a signal (dropped when one is pending) per line.
	wrote chan struct{}
}

func (l *lineRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *lineRecorder) WithGroup(string) slog.Handler            { return l }
func (l *lineRecorder) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, m)
	l.mu.Unlock()
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return nil
}

func (l *lineRecorder) all() []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]map[string]string(nil), l.lines...)
}

// recordLog points the default logger at a recorder for the test.
func recordLog(t *testing.T) *lineRecorder {
	rec := &lineRecorder{wrote: make(chan struct{}, 1)}
	old := slog.Default()
	slog.SetDefault(slog.New(rec))
	t.Cleanup(func() {
		FlushAccessLog()
		slog.SetDefault(old)
	})
	return rec
}

func TestAccessLinesAreWrittenInOrderOffTheRequest(t *testing.T) {
	rec := recordLog(t)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(RequestID(), Logger(), Recovery())
	r.GET("/n/:i", func(c *gin.Context) { c.String(http.StatusTeapot, c.Param("i")) })
	srv := httptest.NewServer(r)
	defer srv.Close()

	const n = 50
	for i := range n {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/n/%d", srv.URL, i), nil)
		req.Header.Set("X-Request-Id", fmt.Sprintf("req-%03d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The batch's timer writes them within accessLogDelay; the flush makes
	// the test independent of when that is.
	FlushAccessLog()
	lines := rec.all()
	if len(lines) != n {
		t.Fatalf("%d access lines for %d requests: %v", len(lines), n, lines)
	}
	for i, l := range lines {
		want := map[string]string{"msg": "request", "request_id": fmt.Sprintf("req-%03d", i), "method": "GET", "path": fmt.Sprintf("/n/%d", i), "status": "418", "ip": "127.0.0.1"}
		for k, v := range want {
			if l[k] != v {
				t.Fatalf("line %d: %s = %q, want %q (%v)", i, k, l[k], v, l)
			}
		}
	}
}

func TestAccessLinesLeaveWithoutAFlush(t *testing.T) {
	rec := recordLog(t)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	access.add(r)
	select {
	case <-rec.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("a queued access line was never written by its batch's timer")
	}
}

func TestAFullBatchIsWrittenByTheRequestThatFillsIt(t *testing.T) {
	rec := recordLog(t)
	FlushAccessLog()
	// Hold the writer, as a log that cannot keep up would: the timer's
	// flush waits, and the request that fills the batch writes it itself
	// once the writer is free, so the queue never outgrows its bound.
	access.writing.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range maxPendingLines {
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.Int("i", i))
			access.add(r)
		}
	}()
	// The filling request is blocked in its flush once the queue holds
	// the bound; nothing signals that, so the test looks, up to a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		access.mu.Lock()
		n := len(access.pending)
		access.mu.Unlock()
		if n == maxPendingLines {
			break
		}
		if n > maxPendingLines {
			t.Fatalf("%d lines queued, over the bound of %d", n, maxPendingLines)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue stopped at %d lines", n)
		}
		runtime.Gosched()
	}
	access.writing.Unlock()
	wg.Wait()
	FlushAccessLog()
	lines := rec.all()
	if len(lines) != maxPendingLines {
		t.Fatalf("%d lines written, want %d", len(lines), maxPendingLines)
	}
	for i, l := range lines {
		if l["i"] != fmt.Sprint(i) {
			t.Fatalf("line %d is %v: out of order", i, l)
		}
	}
}
