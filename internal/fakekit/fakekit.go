// Package fakekit holds what every fake upstream shares: the behaviour it
// answers with, which a test may replace while it serves, and a record of
// the calls it received.
package fakekit

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// Current is a fake's behaviour of type B. The zero value holds B's zero
// value; embed it and the fake has Set and Behavior.
type Current[B any] struct {
	mu sync.RWMutex
	b  B
}

// Set replaces the behaviour for calls that arrive from now on.
func (c *Current[B]) Set(b B) {
	c.mu.Lock()
	c.b = b
	c.mu.Unlock()
}

// Behavior is the current behaviour.
func (c *Current[B]) Behavior() B {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.b
}

// Call is a request a fake received.
type Call struct {
	// Path is the path as the fake records it (decoded, or escaped where
	// the wire format signs the escaped form).
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Recorder counts a fake's calls, in all and by name (a path, a method or
// an operation), and keeps the last one. The zero value is ready; embed
// it and the fake has Calls, CallsTo and Last.
type Recorder struct {
	total atomic.Int64
	by    sync.Map // name → *atomic.Int64
	last  atomic.Value
}

// Keep reads r's body, keeps r as the last call with path as its path,
// counts it and returns the body.
func (rc *Recorder) Keep(r *http.Request, path string) []byte {
	body, _ := io.ReadAll(r.Body)
	rc.total.Add(1)
	rc.last.Store(Call{Path: path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	return body
}

// Count counts a call under name.
func (rc *Recorder) Count(name string) {
	v, _ := rc.by.LoadOrStore(name, &atomic.Int64{})
	v.(*atomic.Int64).Add(1)
}

// Calls is the number of calls received.
func (rc *Recorder) Calls() int64 { return rc.total.Load() }

// CallsTo is the number of calls counted under name.
func (rc *Recorder) CallsTo(name string) int64 {
	if v, ok := rc.by.Load(name); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// Last is the last call received.
func (rc *Recorder) Last() Call {
	c, _ := rc.last.Load().(Call)
	return c
}
