package relay

import (
	"context"
	"slices"
	"time"

	"switchyard/model"
	"switchyard/model/limit"
)

// lease is one attempt's hold on a channel: the channel, which of its keys
// to send, and the channel cap's ticket (settled with the call's tokens).
// The in-flight slot taken on the channel is given back by the engine
// with Health.Release after the attempt.
type lease struct {
	ch *model.RelayChannel
	// key indexes ch.Keys.Keys (0 for a single-key channel).
	key    int
	ticket *limit.Ticket
}

// upstream is the channel as this attempt sends to it: with its key.
func (l *lease) upstream() *model.RelayChannel { return l.ch.WithKey(l.key) }

// picker is what a pick needs besides the tiers.
type picker struct {
	tried []int
	now   time.Time
	intn  func(int) int
	// admit takes a capped channel's RPM/TPM slot for the call; a channel
	// at its cap is skipped like a busy one. nil admits every channel.
	admit func(*model.RelayChannel) (*limit.Ticket, bool)
}

// pick chooses a channel for one attempt and takes an in-flight slot on it.
// Tiers are tried highest priority first; inside a tier the pick is
// weighted random by weight (all zero weights mean equal chances).
// Channels already tried, cooling down, at their in-flight limit, at their
// RPM/TPM cap or without a live key are skipped. Demoted channels
// (ChannelDemoteEnabled) serve only when no other channel of any tier can.
// When every untried channel is cooling, the cooldown is ignored: a tired
// channel beats no answer.
func pick(tiers []model.Tier, p picker) *lease {
	for _, ignoreCooling := range []bool{false, true} {
		for _, demoted := range []bool{false, true} {
			for _, tier := range tiers {
				if l := pickInTier(tier.Channels, p, ignoreCooling, demoted); l != nil {
					return l
				}
			}
		}
	}
	return nil
}

func pickInTier(chans []*model.RelayChannel, p picker, ignoreCooling, demoted bool) *lease {
	var stack [16]*model.RelayChannel
	cands := stack[:0]
	for _, c := range chans {
		if c.Health.Demoted() != demoted || !available(c, p, ignoreCooling) {
			continue
		}
		cands = append(cands, c)
	}
	for len(cands) > 0 {
		i := weightedIndex(cands, p.intn)
		if l := take(cands[i], -1, p); l != nil {
			return l
		}
		// Lost a race for the last slot, or at its cap: draw again.
		cands = append(cands[:i], cands[i+1:]...)
	}
	return nil
}

// available reports whether c may be drawn for this attempt.
func available(c *model.RelayChannel, p picker, ignoreCooling bool) bool {
	if slices.Contains(p.tried, c.ID) || (!ignoreCooling && c.Health.Cooling(p.now)) {
		return false
	}
	if c.MaxInflight > 0 && c.Health.Inflight() >= int64(c.MaxInflight) {
		return false
	}
	return c.Keys == nil || !c.Keys.Multi() || c.Keys.Live() > 0
}

// take holds c for one attempt: an in-flight slot, a key (key when it is
// live, else the channel's own choice) and its cap. nil when any is
// refused.
func take(c *model.RelayChannel, key int, p picker) *lease {
	if !c.Health.Acquire(c.MaxInflight) {
		return nil
	}
	l := &lease{ch: c}
	if c.Keys.Multi() {
		if key < 0 || c.Keys.Dead(key) || key >= len(c.Keys.Keys) {
			key = c.Keys.Pick(p.intn)
		}
		if key < 0 {
			c.Health.Release()
			return nil
		}
		l.key = key
	}
	if (c.RPMLimit > 0 || c.TPMLimit > 0) && p.admit != nil {
		t, ok := p.admit(c)
		if !ok {
			c.Health.Release()
			return nil
		}
		l.ticket = t
	}
	return l
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

// choose picks the channel and key for the next attempt of c: with sticky
// routing on, the ones that served the token's last call of this model
// while they are available; otherwise (or when they are not) pick.
func (r *Relay) choose(ctx context.Context, c *call, snap *model.OptionSnapshot, tiers []model.Tier, tried []int) *lease {
	p := picker{tried: tried, now: time.Now(), intn: r.intn, admit: func(ch *model.RelayChannel) (*limit.Ticket, bool) {
		t, _, ref := r.store.Limits.Admit(ctx, []limit.Rule{{Subject: model.ChannelSubject(ch.ID), RPM: ch.RPMLimit, TPM: ch.TPMLimit}}, c.estTokens)
		return t, ref == nil
	}}
	if on, _ := snap.StickyRouting(); on && c.caller.TokenID > 0 {
		if id, key, ok := r.store.Channels.Sticky.Get(c.caller.TokenID, c.req.Model, p.now); ok {
			if l := stickyLease(tiers, id, key, p); l != nil {
				return l
			}
		}
	}
	return pick(tiers, p)
}

// stickyLease holds channel id (and key) if it still serves this call's
// tiers and is available and not demoted.
func stickyLease(tiers []model.Tier, id, key int, p picker) *lease {
	for _, tier := range tiers {
		for _, ch := range tier.Channels {
			if ch.ID == id {
				if ch.Health.Demoted() || !available(ch, p, false) {
					return nil
				}
				return take(ch, key, p)
			}
		}
	}
	return nil
}

// pinnedLease holds the channel an admin pinned with sk-…-<id>: no cap,
// cooldown or in-flight limit applies, but a live key is still chosen.
func (r *Relay) pinnedLease(ch *model.RelayChannel) *lease {
	ch.Health.Acquire(0)
	l := &lease{ch: ch}
	if ch.Keys.Multi() {
		l.key = max(ch.Keys.Pick(r.intn), 0)
	}
	return l
}

// endAttempt records what one attempt says about its channel and key, and
// keeps the lease of the attempt that produced the answer for settlement.
// It reports whether the channel may be tried again in this call: its key
// died and other keys of it live.
func (r *Relay) endAttempt(ctx context.Context, c *call, l *lease, f *failure, snap *model.OptionSnapshot) bool {
	if f == nil || c.served {
		if c.lease != nil && c.lease != l {
			c.lease.ticket.Settle(ctx, 0)
		}
		c.lease = l
	} else {
		l.ticket.Settle(ctx, 0)
	}
	if f != nil {
		r.judge(l, f, snap)
		return f.disable && l.ch.Keys.Multi() && l.ch.Keys.Dead(l.key) && l.ch.Keys.Live() > 0
	}
	l.ch.Health.Succeeded()
	if on, ttl := snap.StickyRouting(); on && c.caller.TokenID > 0 {
		r.store.Channels.Sticky.Set(c.caller.TokenID, c.req.Model, l.ch.ID, l.key, time.Now(), ttl)
	}
	return false
}
