package middleware

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The access log's lines are handed to the log's handler off the request's
// goroutine. Formatting one (and, in production, writing it to stderr)
// took about 5 µs on the connection's goroutine after the answer had left,
// and net/http reads a keep-alive connection's next request only when the
// handler has returned: at concurrency 1 that was a third of the relay's
// added latency (issue 14). A line now waits at most accessLogDelay, in a
// batch that the first line of the batch arms a timer for, so an idle node
// wakes for nothing and no request wakes a goroutine. Lines keep their
// order and their own time; other log lines are written at once, so an
// access line may follow a warning logged after it. A node killed with -9
// loses the lines of its last accessLogDelay; a node that stops normally
// writes them all (FlushAccessLog).

// accessLogDelay bounds how late an access line is written.
const accessLogDelay = 20 * time.Millisecond

// maxPendingLines bounds the batch: a request that finds it full writes
// the batch itself, so a log that cannot keep up slows requests down as it
// did before, instead of growing without bound.
const maxPendingLines = 4096

type accessLog struct {
	mu      sync.Mutex
	pending []slog.Record
	spare   []slog.Record
	armed   bool
	// writing serialises batches, so lines leave in the order they came.
	writing sync.Mutex
}

var access accessLog

// add queues r for the default handler.
func (a *accessLog) add(r slog.Record) {
	a.mu.Lock()
	a.pending = append(a.pending, r)
	full := len(a.pending) >= maxPendingLines
	arm := !a.armed && !full
	if arm {
		a.armed = true
	}
	a.mu.Unlock()
	switch {
	case full:
		a.flush()
	case arm:
		time.AfterFunc(accessLogDelay, a.flush)
	}
}

// flush writes every queued line.
func (a *accessLog) flush() {
	a.writing.Lock()
	defer a.writing.Unlock()
	a.mu.Lock()
	batch := a.pending
	a.pending, a.spare = a.spare[:0], nil
	a.armed = false
	a.mu.Unlock()
	h := slog.Default().Handler()
	for i := range batch {
		_ = h.Handle(context.Background(), batch[i])
		batch[i] = slog.Record{}
	}
	a.mu.Lock()
	if cap(batch) <= maxPendingLines {
		a.spare = batch[:0]
	}
	a.mu.Unlock()
}

// FlushAccessLog writes the access lines not yet written. The server calls
// it once it has stopped serving; tests call it before they read the log.
func FlushAccessLog() { access.flush() }
