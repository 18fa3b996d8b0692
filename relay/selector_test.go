package relay

import (
	"math/rand/v2"
	"testing"
	"time"

	"switchyard/model"
	"switchyard/model/limit"
)

func chans(weights ...int) []*model.RelayChannel {
	out := make([]*model.RelayChannel, len(weights))
	for i, w := range weights {
		out[i] = &model.RelayChannel{ID: i + 1, Weight: w, Health: &model.ChannelHealth{}}
	}
	return out
}

// TestWeightedSplitInsideATier counts picks, never times them: with
// weights 1:3:6 over 20,000 draws each share must land within 2 points.
func TestWeightedSplitInsideATier(t *testing.T) {
	cs := chans(1, 3, 6)
	tiers := []model.Tier{{Priority: 0, Channels: cs}}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[int]int{}
	const n = 20000
	for i := 0; i < n; i++ {
		ch := pickCh(tiers, nil, time.Now(), rng.IntN)
		counts[ch.ID]++
		ch.Health.Release()
	}
	for id, want := range map[int]float64{1: 0.1, 2: 0.3, 3: 0.6} {
		got := float64(counts[id]) / n
		if got < want-0.02 || got > want+0.02 {
			t.Fatalf("channel %d got %.3f of picks, want %.2f (counts %v)", id, got, want, counts)
		}
	}
}

func TestZeroWeightsSplitEvenly(t *testing.T) {
	cs := chans(0, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	counts := map[int]int{}
	for i := 0; i < 10000; i++ {
		ch := pickCh([]model.Tier{{Channels: cs}}, nil, time.Now(), rng.IntN)
		counts[ch.ID]++
		ch.Health.Release()
	}
	if counts[1] < 4700 || counts[2] < 4700 {
		t.Fatalf("uneven split %v", counts)
	}
}

func TestPickSkipsTriedCoolingAndFullChannels(t *testing.T) {
	now := time.Now()
	high := chans(1, 1, 1)
	low := &model.RelayChannel{ID: 9, Health: &model.ChannelHealth{}}
	high[1].Health.Failed(now, 1, time.Minute) // cooling
	high[2].MaxInflight = 1
	high[2].Health.Acquire(1) // full
	tiers := []model.Tier{{Priority: 5, Channels: high}, {Priority: 0, Channels: []*model.RelayChannel{low}}}
	if ch := pickCh(tiers, nil, now, rand.IntN); ch.ID != 1 {
		t.Fatalf("picked %d, want the only available high-tier channel 1", ch.ID)
	}
	if ch := pickCh(tiers, []int{1}, now, rand.IntN); ch.ID != 9 {
		t.Fatalf("picked %d, want the lower tier once the high tier is used up", ch.ID)
	}
	// With everything else tried, a cooling channel beats no answer; a full
	// one never is picked.
	if ch := pickCh(tiers, []int{1, 9}, now, rand.IntN); ch == nil || ch.ID != 2 {
		t.Fatalf("picked %v, want cooling channel 2 as the last resort", ch)
	}
	if ch := pickCh(tiers, []int{1, 2, 9}, now, rand.IntN); ch != nil {
		t.Fatalf("picked %d from a full channel", ch.ID)
	}
}

func TestCooldownAfterConsecutiveFailures(t *testing.T) {
	h := &model.ChannelHealth{}
	now := time.Now()
	h.Failed(now, 3, time.Minute)
	h.Failed(now, 3, time.Minute)
	h.Succeeded()
	h.Failed(now, 3, time.Minute)
	h.Failed(now, 3, time.Minute)
	if h.Cooling(now) {
		t.Fatal("cooling after failures that were not consecutive")
	}
	h.Failed(now, 3, time.Minute)
	if !h.Cooling(now) || h.Cooling(now.Add(2*time.Minute)) {
		t.Fatal("cooldown does not start at the threshold or does not end")
	}
}

// pickCh is pick with no cap hook, returning the channel.
func pickCh(tiers []model.Tier, tried []int, now time.Time, intn func(int) int) *model.RelayChannel {
	l := pick(tiers, picker{tried: tried, now: now, intn: intn})
	if l == nil {
		return nil
	}
	return l.ch
}

// TestDemotedChannelServesOnlyWhenNothingElseCan pins issue 11's softer
// failure: a demoted channel of the highest tier comes after every channel
// of every lower tier, and still beats no answer.
func TestDemotedChannelServesOnlyWhenNothingElseCan(t *testing.T) {
	now := time.Now()
	high := chans(1)
	low := &model.RelayChannel{ID: 9, Health: &model.ChannelHealth{}}
	high[0].Health.Demote(now, time.Minute)
	tiers := []model.Tier{{Priority: 5, Channels: high}, {Priority: 0, Channels: []*model.RelayChannel{low}}}
	if ch := pickCh(tiers, nil, now, rand.IntN); ch.ID != 9 {
		t.Fatalf("picked %d, want the lower tier over the demoted channel", ch.ID)
	}
	ch := pickCh(tiers, []int{9}, now, rand.IntN)
	if ch == nil || ch.ID != 1 {
		t.Fatalf("picked %v, want the demoted channel as the last resort", ch)
	}
	ch.Health.Release()
	if !high[0].Health.Restore() || pickCh(tiers, nil, now, rand.IntN).ID != 1 {
		t.Fatal("a restored channel does not lead its tier again")
	}
}

// TestCappedChannelIsSkippedNotFailed: a channel whose cap refuses the call
// is passed over for the next one, and its in-flight slot is given back.
func TestCappedChannelIsSkippedNotFailed(t *testing.T) {
	cs := chans(1, 1)
	cs[0].RPMLimit = 1
	p := picker{now: time.Now(), intn: func(int) int { return 0 }, admit: func(ch *model.RelayChannel) (*limit.Ticket, bool) { return nil, ch.ID != 1 }}
	l := pick([]model.Tier{{Channels: cs}}, p)
	if l == nil || l.ch.ID != 2 {
		t.Fatalf("picked %v, want channel 2 with channel 1 at its cap", l)
	}
	if cs[0].Health.Inflight() != 0 {
		t.Fatal("the capped channel kept an in-flight slot")
	}
}
