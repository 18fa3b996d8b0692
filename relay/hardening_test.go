package relay

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go"

	"switchyard/common/config"
	"switchyard/internal/fakeupstream"
	"switchyard/model"
)

// A redirect would take the channel's key wherever it points: the relay
// never follows one, and the 3xx is a failed attempt that fails over.
func TestRedirectIsNeverFollowed(t *testing.T) {
	target := fakeupstream.Start(fakeupstream.Behavior{})
	defer target.Close()
	redirecting := fakeupstream.Start(fakeupstream.Behavior{Redirect: target.URL + "/v1/chat/completions"})
	defer redirecting.Close()
	good := fakeupstream.Start(fakeupstream.Behavior{})
	defer good.Close()
	h := newHarness(t, config.Config{})
	h.setOption("RetryTimes", "1")
	h.addChannel(model.Channel{Name: "redirects", BaseURL: redirecting.URL, Models: "m", Priority: 5})
	h.addChannel(model.Channel{Name: "good", BaseURL: good.URL, Models: "m"})
	if _, err := h.client().Chat.Completions.New(context.Background(), chatParams("m")); err != nil {
		t.Fatal(err)
	}
	if target.Calls() != 0 || redirecting.Calls() != 1 || good.Calls() != 1 {
		t.Fatalf("redirect target %d, redirecting %d, good %d", target.Calls(), redirecting.Calls(), good.Calls())
	}
	h2 := newHarness(t, config.Config{})
	h2.addChannel(model.Channel{Name: "redirects", BaseURL: redirecting.URL, Models: "m"})
	_, err := h2.client().Chat.Completions.New(context.Background(), chatParams("m"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || target.Calls() != 0 {
		t.Fatalf("err %v, target %d", err, target.Calls())
	}
}

// A 2xx whose body is not an answer in the channel's format is a failed
// attempt: retried elsewhere, and not billed.
func TestUnreadableAnswerFailsOverUnbilled(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  *fakeupstream.Server
		typ  int
	}{
		{"openai", fakeupstream.Start(fakeupstream.Behavior{NotJSON: true}), 8},
		{"anthropic", fakeupstream.StartAnthropic(fakeupstream.Behavior{NotJSON: true}), 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.bad.Close()
			good := fakeupstream.Start(fakeupstream.Behavior{})
			defer good.Close()
			h := newHarness(t, config.Config{})
			h.setOption("RetryTimes", "1")
			h.addChannel(model.Channel{Type: tc.typ, Name: "bad", BaseURL: tc.bad.URL, Models: "m", Priority: 5})
			h.addChannel(model.Channel{Name: "good", BaseURL: good.URL, Models: "m"})
			resp, err := h.client().Chat.Completions.New(context.Background(), chatParams("m"))
			if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" || tc.bad.Calls() != 1 {
				t.Fatalf("%v, bad called %d", err, tc.bad.Calls())
			}
			h.settledAll()
			_, _, logs, _ := h.ledger.snapshot()
			if len(logs) != 1 || logs[0].ChannelID == 0 {
				t.Fatalf("logs %+v", logs)
			}
			only := newHarness(t, config.Config{})
			only.addChannel(model.Channel{Type: tc.typ, Name: "bad", BaseURL: tc.bad.URL, Models: "m"})
			_, err = only.client().Chat.Completions.New(context.Background(), chatParams("m"))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
				t.Fatalf("err %v", err)
			}
			only.settledAll()
			if _, _, logs, _ := only.ledger.snapshot(); len(logs) != 0 {
				t.Fatal("an unreadable answer was billed")
			}
		})
	}
}

// A stream that stalls past STREAM_IDLE_TIMEOUT ends with an error event
// in the client's own format, the upstream call is cancelled, and the
// client is billed for what arrived.
func TestStalledStreamEndsWithAnErrorEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		up   *fakeupstream.Server
		typ  int
		run  func(h *harness) error
	}{
		{"openai client, openai channel", fakeupstream.Start(fakeupstream.Behavior{Chunks: 5, ChunkDelay: time.Minute}), 8, func(h *harness) error {
			s := h.client().Chat.Completions.NewStreaming(context.Background(), chatParams("m"))
			for s.Next() {
			}
			return s.Err()
		}},
		{"anthropic client, anthropic channel", fakeupstream.StartAnthropic(fakeupstream.Behavior{Chunks: 5, ChunkDelay: time.Minute}), 14, func(h *harness) error {
			s := h.anthropicClient().Messages.NewStreaming(context.Background(), messageParams("m"))
			for s.Next() {
			}
			return s.Err()
		}},
		{"anthropic client, openai channel", fakeupstream.Start(fakeupstream.Behavior{Chunks: 5, ChunkDelay: time.Minute}), 8, func(h *harness) error {
			s := h.anthropicClient().Messages.NewStreaming(context.Background(), messageParams("m"))
			for s.Next() {
			}
			return s.Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.up.Close()
			h := newHarness(t, config.Config{StreamIdleTimeout: time.Second})
			h.addChannel(model.Channel{Type: tc.typ, Name: "stalls", BaseURL: tc.up.URL, Models: "m"})
			err := tc.run(h)
			if err == nil || !strings.Contains(err.Error(), "sent nothing") {
				t.Fatalf("stream error %v", err)
			}
			waitFor(t, "the upstream call cancelled", func() bool { return tc.up.Cancelled() == 1 })
			h.settledAll()
			if _, _, logs, _ := h.ledger.snapshot(); len(logs) != 1 || logs[0].Quota == 0 {
				t.Fatalf("logs %+v", logs)
			}
		})
	}
}
