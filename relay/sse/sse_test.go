package sse

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string, max int) ([]Event, error) {
	t.Helper()
	r := NewReader(strings.NewReader(in), max)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := readAll(t, tt.in, tt.max)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && err != nil {
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
			if strings.Join(got, "|") != strings.Join(tt.data, "|") {
				t.Fatalf("data = %q, want %q", got, tt.data)
			}
			if done != tt.done {
				t.Fatalf("done = %v, want %v", done, tt.done)
			}
		})
	}
}

func TestReaderNamedEvents(t *testing.T) {
	evs, err := readAll(t, "event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\n", 0)
	if !errors.Is(err, io.EOF) || len(evs) != 2 || evs[0].Name != "message_start" || evs[1].Name != "ping" {
		t.Fatalf("events %+v err %v", evs, err)
	}
}

func TestWriterFramesAndFlushes(t *testing.T) {
	rec := httptest.NewRecorder()
	w := NewWriter(rec)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
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
	evs, err := readAll(t, rec.Body.String(), 0)
	if err != nil || len(evs) != 2 || string(evs[0].Data) != `{"x":1}` || !evs[1].Done {
		t.Fatalf("round trip %+v %v", evs, err)
	}
}
