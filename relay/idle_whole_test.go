package relay

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go"

	"switchyard/common/config"
	"switchyard/internal/fakeupstream"
	"switchyard/model"
)

// A whole answer (or an error body) whose upstream sends its headers and
// then stalls is cut after STREAM_IDLE_TIMEOUT, as a stream is: issue 13,
// defect 5 said RELAY_TIMEOUT ended only the wait for headers, so such an
// upstream held the client and its reservation for ever. The cut is a
// failed attempt: retried elsewhere, and not billed.
func TestStalledWholeAnswerIsCut(t *testing.T) {
	for _, status := range []int{200, 500} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var calls atomic.Int64
			stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, `{"id":"chatcmpl-1","object":`)
				w.(http.Flusher).Flush()
				<-r.Context().Done() // never finishes the body
			}))
			defer stall.Close()
			good := fakeupstream.Start(fakeupstream.Behavior{})
			defer good.Close()

			h := newHarness(t, config.Config{StreamIdleTimeout: time.Second, RelayTimeout: time.Minute})
			h.setOption("RetryTimes", "1")
			h.addChannel(model.Channel{Name: "stalls", BaseURL: stall.URL, Models: "m", Priority: 5})
			h.addChannel(model.Channel{Name: "good", BaseURL: good.URL, Models: "m"})
			resp, err := h.client().Chat.Completions.New(context.Background(), chatParams("m"))
			if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" || calls.Load() != 1 {
				t.Fatalf("%v, stalling upstream called %d", err, calls.Load())
			}

			only := newHarness(t, config.Config{StreamIdleTimeout: time.Second, RelayTimeout: time.Minute})
			only.addChannel(model.Channel{Name: "stalls", BaseURL: stall.URL, Models: "m"})
			_, err = only.client().Chat.Completions.New(context.Background(), chatParams("m"))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode < 500 {
				t.Fatalf("a stalled body answered %v, want a 5xx", err)
			}
			only.settledAll()
			if open, _, logs, _ := only.ledger.snapshot(); open != 0 || len(logs) != 0 {
				t.Fatalf("after a stalled body: %d reservations open, %d consume logs", open, len(logs))
			}
		})
	}
}
