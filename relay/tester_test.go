package relay

import (
	"context"
	"testing"
	"time"

	"switchyard/common/config"
	"switchyard/internal/fakeupstream"
	"switchyard/model"
)

func channelStatus(t *testing.T, h *harness, id int) int {
	t.Helper()
	ch, err := h.store.ChannelByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ch.Status
}

func TestPassingTestEnablesAnAutoDisabledChannel(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	h := newHarness(t, config.Config{})
	id := h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "m", Status: model.ChannelAutoDisabled})
	ctx := context.Background()
	if _, err := h.relay.TestChannel(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if s := channelStatus(t, h, id); s != model.ChannelAutoDisabled {
		t.Fatalf("enabled with AutomaticEnableChannelEnabled off: status %d", s)
	}
	h.setOption("AutomaticEnableChannelEnabled", "true")
	if _, err := h.relay.TestChannel(ctx, id, "m"); err != nil {
		t.Fatal(err)
	}
	if s := channelStatus(t, h, id); s != model.ChannelEnabled {
		t.Fatalf("status %d after a passing test", s)
	}
	if len(h.store.Channels.Tiers("default", "m")) != 1 {
		t.Fatal("the re-enabled channel is not in the index")
	}
	// A channel disabled by hand stays disabled whatever its tests say.
	manual := h.addChannel(model.Channel{Name: "b", BaseURL: up.URL, Models: "m", Status: model.ChannelManuallyDisabled})
	if _, err := h.relay.TestChannel(ctx, manual, ""); err != nil {
		t.Fatal(err)
	}
	if s := channelStatus(t, h, manual); s != model.ChannelManuallyDisabled {
		t.Fatalf("a hand-disabled channel changed to %d", s)
	}
}

func TestSlowOrDeadChannelIsDisabledByItsTest(t *testing.T) {
	slow := fakeupstream.Start(fakeupstream.Behavior{Delay: 300 * time.Millisecond})
	defer slow.Close()
	dead := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 429, FailCode: "insufficient_quota"})
	defer dead.Close()
	h := newHarness(t, config.Config{})
	h.setOption("AutomaticDisableChannelEnabled", "true")
	h.setOption("ChannelDisableThreshold", "0.1")
	slowID := h.addChannel(model.Channel{Name: "slow", BaseURL: slow.URL, Models: "m"})
	deadID := h.addChannel(model.Channel{Name: "dead", BaseURL: dead.URL, Models: "m"})
	ctx := context.Background()
	if _, err := h.relay.TestChannel(ctx, slowID, ""); err == nil {
		t.Fatal("a test slower than the threshold passed")
	}
	if _, err := h.relay.TestChannel(ctx, deadID, ""); err == nil {
		t.Fatal("a test of a channel out of quota passed")
	}
	for _, id := range []int{slowID, deadID} {
		if s := channelStatus(t, h, id); s != model.ChannelAutoDisabled {
			t.Fatalf("channel %d status %d", id, s)
		}
	}
}

// A channel test speaks each channel's own format: it is built in neutral
// terms and every adaptor writes it its way.
func TestChannelTestsSpeakEachFormat(t *testing.T) {
	claude := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-k"})
	defer claude.Close()
	azure := fakeupstream.StartAzure(fakeupstream.Behavior{Key: "az-k"}, "gpt-4o", "text-embedding-3-small")
	defer azure.Close()
	h := newHarness(t, config.Config{})
	ctx := context.Background()
	c := h.addChannel(model.Channel{Type: 14, Name: "claude", Key: "sk-ant-k", BaseURL: claude.URL, Models: "claude-sonnet-4-5"})
	if _, err := h.relay.TestChannel(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	if b := string(claude.LastBody()); b != `{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}` {
		t.Fatalf("anthropic test body %s", b)
	}
	a := h.addChannel(model.Channel{Type: 3, Name: "azure", Key: "az-k", BaseURL: azure.URL, Models: "gpt-4o,text-embedding-3-small"})
	for _, m := range []string{"gpt-4o", "text-embedding-3-small"} {
		if _, err := h.relay.TestChannel(ctx, a, m); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	if azure.CallsTo("/openai/deployments/text-embedding-3-small/embeddings") != 1 {
		t.Fatal("the embedding test missed its deployment")
	}
	// Balances: an Anthropic channel has none to read.
	if _, err := h.relay.UpdateBalance(ctx, c); err != ErrNoBalance {
		t.Fatalf("anthropic balance: %v", err)
	}
}
