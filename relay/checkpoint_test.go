package relay

import (
	"context"
	"testing"
	"time"

	"switchyard/common/config"
	"switchyard/internal/fakeupstream"
	"switchyard/model"
)

// TestOpenStreamsAreCheckpointedForACrash pins the relay's half of issue
// 13's defect 10: a crash billed nothing of the streams that were open.
// A stream that runs for seconds records its charge so far on its
// reservation about once a second (the ledger makes it durable and
// charges it after a crash; model's checkpoint tests pin that half), and
// its settlement is still the one consume log.
func TestOpenStreamsAreCheckpointedForACrash(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 4, ChunkDelay: 700 * time.Millisecond})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "gpt-4o"})

	s := h.client().Chat.Completions.NewStreaming(context.Background(), chatParams("gpt-4o"))
	for s.Next() {
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	h.settledAll()
	h.ledger.mu.Lock()
	cps, logs := append([]model.Log(nil), h.ledger.checkpoints...), append([]model.Log(nil), h.ledger.logs...)
	h.ledger.mu.Unlock()
	if len(cps) == 0 {
		t.Fatal("a stream of more than two seconds was never checkpointed")
	}
	if len(logs) != 1 {
		t.Fatalf("%d consume logs, want the settlement's one", len(logs))
	}
	last := cps[len(cps)-1]
	if last.Quota <= 0 || last.CompletionTokens <= 0 || !last.IsStream || last.RequestID != "req-1" || last.ChannelID == 0 {
		t.Fatalf("checkpoint %+v does not describe the stream so far", last)
	}
	if logs[0].CompletionTokens != 4 || logs[0].PromptTokens != 9 {
		t.Fatalf("the settlement %+v is not the upstream's usage: a checkpoint must not replace it", logs[0])
	}
}
