package sse

import (
	"bytes"
	"io"
	"net/http"
	"switchyard/internal/raceflag"
	"testing"
)

// loop replays one stream forever.
type loop struct {
	b []byte
	i int
}

func (l *loop) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.b[l.i:])
		n += c
		l.i = (l.i + c) % len(l.b)
	}
	return n, nil
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Flush()                      {}

var _ io.Reader = (*loop)(nil)

// Reading and writing a relayed event allocates nothing in steady state,
// named events (Anthropic's) included.
func TestEventsAllocateNothing(t *testing.T) {
	stream := []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n")
	r := NewReader(&loop{b: stream}, 0)
	defer r.Close()
	w := NewWriter(&discard{h: http.Header{}})
	w.Start()
	n := testing.AllocsPerRun(1000, func() {
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Name != "" {
			err = w.Named(ev.Name, ev.Data)
		} else {
			err = w.Data(ev.Data)
		}
		if err != nil || !bytes.Contains(ev.Data, []byte(`"delta"`)) {
			t.Fatal(err)
		}
	})
	if n != 0 && !raceflag.Enabled {
		t.Fatalf("%v allocations per event", n)
	}
}
