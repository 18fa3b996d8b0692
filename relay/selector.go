package relay

import (
	"slices"
	"time"

	"switchyard/model"
)

// pick chooses a channel for one attempt and takes an in-flight slot on it.
// Tiers are tried highest priority first; inside a tier the pick is
// weighted random by weight (all zero weights mean equal chances).
// Channels already tried, cooling down or at their in-flight limit are
// skipped. When every untried channel is cooling, the cooldown is ignored:
// a tired channel beats no answer. intn(n) returns a number in [0, n).
func pick(tiers []model.Tier, tried []int, now time.Time, intn func(int) int) *model.RelayChannel {
	for _, ignoreCooling := range []bool{false, true} {
		for _, tier := range tiers {
			if ch := pickInTier(tier.Channels, tried, now, ignoreCooling, intn); ch != nil {
				return ch
			}
		}
	}
	return nil
}

func pickInTier(chans []*model.RelayChannel, tried []int, now time.Time, ignoreCooling bool, intn func(int) int) *model.RelayChannel {
	var stack [16]*model.RelayChannel
	cands := stack[:0]
	for _, c := range chans {
		if slices.Contains(tried, c.ID) || (!ignoreCooling && c.Health.Cooling(now)) {
			continue
		}
		if c.MaxInflight > 0 && c.Health.Inflight() >= int64(c.MaxInflight) {
			continue
		}
		cands = append(cands, c)
	}
	for len(cands) > 0 {
		i := weightedIndex(cands, intn)
		c := cands[i]
		if c.Health.Acquire(c.MaxInflight) {
			return c
		}
		// Lost a race for the last slot: drop it and draw again.
		cands = append(cands[:i], cands[i+1:]...)
	}
	return nil
}

func weightedIndex(cands []*model.RelayChannel, intn func(int) int) int {
	total := 0
	for _, c := range cands {
		total += max(c.Weight, 0)
	}
	if total == 0 {
		return intn(len(cands))
	}
	n := intn(total)
	for i, c := range cands {
		n -= max(c.Weight, 0)
		if n < 0 {
			return i
		}
	}
	return len(cands) - 1
}
