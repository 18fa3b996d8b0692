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
