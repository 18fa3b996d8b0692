package sse

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// chunked hands out its input n bytes per Read.
type chunked struct {
	s string
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[k:]
	return k, nil
}

// sources are the ways an upstream's bytes can arrive: at once, a byte
// at a time, with the end on the last data, and in pieces around the
// reader's buffer sizes.
var sources = map[string]func(string) io.Reader{
	"whole":    func(s string) io.Reader { return strings.NewReader(s) },
	"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
	"data+EOF": func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
	"511":      func(s string) io.Reader { return &chunked{s, smallSize - 1} },
	"513":      func(s string) io.Reader { return &chunked{s, smallSize + 1} },
	"4097":     func(s string) io.Reader { return &chunked{s, largeSize + 1} },
}

func readAll(t *testing.T, src io.Reader, max int) ([]Event, error) {
	t.Helper()
	r := NewReader(src, max)
	defer r.Close()
	var out []Event
	for {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		ev.Data = append([]byte(nil), ev.Data...)
		out = append(out, ev)
		if ev.Done {
			return out, nil
		}
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		data    []string
		done    bool
		wantErr error
	}{
		{name: "openai stream ends with DONE", in: "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n", data: []string{`{"a":1}`, `{"b":2}`}, done: true},
		{name: "CRLF line endings", in: "data: x\r\n\r\ndata: [DONE]\r\n\r\n", data: []string{"x"}, done: true},
		{name: "comments and keep-alives are skipped", in: ": keep-alive\n\ndata: x\n\n: ping\n\ndata: [DONE]\n\n", data: []string{"x"}, done: true},
		{name: "multi-line data joins with newline", in: "data: a\ndata: b\n\n", data: []string{"a\nb"}, wantErr: io.EOF},
		{name: "no space after colon", in: "data:x\n\n", data: []string{"x"}, wantErr: io.EOF},
		{name: "clean end without DONE is EOF", in: "data: x\n\n", data: []string{"x"}, wantErr: io.EOF},
		{name: "cut inside an event", in: "data: x\n\ndata: {\"partial\"", data: []string{"x"}, wantErr: ErrStreamCut},
		{name: "cut after a data line before its blank line", in: "data: x\n\ndata: y\n", data: []string{"x"}, wantErr: ErrStreamCut},
		{name: "line over the limit", in: "data: " + strings.Repeat("z", 20000) + "\n\n", max: 10000, wantErr: ErrEventTooLarge},
		{name: "long line under the limit spans buffers", in: "data: " + strings.Repeat("z", 20000) + "\n\n", data: []string{strings.Repeat("z", 20000)}, wantErr: io.EOF},
		{name: "lines around the buffer sizes", in: "data: " + strings.Repeat("a", smallSize-7) + "\n\ndata: " + strings.Repeat("b", smallSize) + "\n\ndata: " + strings.Repeat("c", largeSize) + "\n\ndata: [DONE]\n\n",
			data: []string{strings.Repeat("a", smallSize-7), strings.Repeat("b", smallSize), strings.Repeat("c", largeSize)}, done: true},
		{name: "unicode split across reads", in: "data: {\"t\":\"héllo 世界 🎉\"}\n\ndata: [DONE]\n\n", data: []string{`{"t":"héllo 世界 🎉"}`}, done: true},
	}
	for _, tt := range tests {
		for how, src := range sources {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				testReaderCase(t, src(tt.in), tt.max, tt.data, tt.done, tt.wantErr)
			})
		}
	}
}

func testReaderCase(t *testing.T, src io.Reader, max int, data []string, wantDone bool, wantErr error) {
	t.Helper()
	evs, err := readAll(t, src, max)
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want %v", err, wantErr)
	}
	if wantErr == nil && err != nil {
		t.Fatalf("err = %v", err)
	}
	var got []string
	done := false
	for _, ev := range evs {
		if ev.Done {
			done = true
			continue
		}
		got = append(got, string(ev.Data))
	}
	if strings.Join(got, "|") != strings.Join(data, "|") {
		t.Fatalf("data = %q, want %q", got, data)
	}
	if done != wantDone {
		t.Fatalf("done = %v, want %v", done, wantDone)
	}
}

// blocked serves its events, then blocks in Read as an open stream does.
type blocked struct {
	s       string
	waiting chan struct{}
}

func (b *blocked) Read(p []byte) (int, error) {
	if b.s == "" {
		close(b.waiting)
		select {}
	}
	n := copy(p, b.s)
	b.s = b.s[n:]
	return n, nil
}

// TestWaitingHoldsNoLargeBuffer: a reader waiting for its upstream's next
// event holds only its small buffer, even after a burst that needed the
// large one.
func TestWaitingHoldsNoLargeBuffer(t *testing.T) {
	burst := strings.Repeat("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", 40)
	src := &blocked{s: burst, waiting: make(chan struct{})}
	r := NewReader(src, 0)
	got := make(chan int)
	go func() {
		n := 0
		for {
			if _, err := r.Next(); err != nil {
				return
			}
			n++
			if n == 40 {
				got <- n
			}
		}
	}()
	<-got
	<-src.waiting
	// The reader's goroutine is now parked in Read; it set its buffers
	// before calling it.
	if r.large != nil || len(r.buf) != smallSize {
		t.Fatalf("a waiting reader holds a %d-byte buffer (large %v)", len(r.buf), r.large != nil)
	}
}

func TestReaderNamedEvents(t *testing.T) {
	evs, err := readAll(t, strings.NewReader("event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\n"), 0)
	if !errors.Is(err, io.EOF) || len(evs) != 2 || evs[0].Name != "message_start" || evs[1].Name != "ping" {
		t.Fatalf("events %+v err %v", evs, err)
	}
}

// TestHeadersGoOutWithTheFirstEvent: Start commits the headers without
// flushing them, so they leave in one write with the first event (a
// flush of their own cost each stream a write and its client a wake-up
// before the first token).
func TestHeadersGoOutWithTheFirstEvent(t *testing.T) {
	rec := httptest.NewRecorder()
	w := NewWriter(rec)
	w.Start()
	if rec.Flushed || !w.Started() {
		t.Fatalf("after Start: flushed %v, started %v", rec.Flushed, w.Started())
	}
	if err := w.Data([]byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed || rec.Code != 200 || rec.Body.String() != "data: {\"x\":1}\n\n" {
		t.Fatalf("after the first event: flushed %v, status %d, body %q", rec.Flushed, rec.Code, rec.Body.String())
	}
}

func TestWriterFramesAndFlushes(t *testing.T) {
	rec := httptest.NewRecorder()
	w := NewWriter(rec)
	w.Start()
	_ = w.KeepAlive()
	_ = w.Data([]byte(`{"x":1}`))
	_ = w.Done()
	if got, want := rec.Body.String(), ": keep-alive\n\ndata: {\"x\":1}\n\ndata: [DONE]\n\n"; got != want {
		t.Fatalf("body %q, want %q", got, want)
	}
	if !rec.Flushed {
		t.Fatal("writer did not flush")
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	// What the writer emits, the reader reads back.
	evs, err := readAll(t, strings.NewReader(rec.Body.String()), 0)
	if err != nil || len(evs) != 2 || string(evs[0].Data) != `{"x":1}` || !evs[1].Done {
		t.Fatalf("round trip %+v %v", evs, err)
	}
}
