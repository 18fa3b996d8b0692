package relay

import (
	"context"
	"log/slog"
	"time"

	"switchyard/model"
)

// judge records what a failure says about the channel and key of l: a
// penalised failure counts toward a cooldown (or, with ChannelDemoteEnabled,
// a demotion); a dead key disables that key of a multi-key channel, and
// otherwise the channel (or demotes it) when AutomaticDisableChannelEnabled
// is on.
func (r *Relay) judge(l *lease, f *failure, snap *model.OptionSnapshot) {
	if f.clientGone {
		return
	}
	ch := l.ch
	demote, demoteFor := snap.ChannelDemotion()
	if f.penalize {
		threshold := snap.Int("ChannelCooldownFailures")
		if demote {
			if ch.Health.FailedDemoting(time.Now(), threshold, demoteFor) {
				slog.Warn("channel demoted after repeated failures", "channel_id", ch.ID, "for", demoteFor)
				r.retestAfter(ch.ID, demoteFor)
			}
		} else {
			ch.Health.Failed(time.Now(), threshold, time.Duration(snap.Int("ChannelCooldownSeconds"))*time.Second)
		}
	}
	if !f.disable || !snap.Bool("AutomaticDisableChannelEnabled") {
		return
	}
	reason := scrub(f.err.Error(), ch.Key)
	if ch.Keys.Multi() {
		// One dead key of several: the channel serves on with the others.
		ch.Keys.MarkDead(l.key)
		key := ch.Keys.Keys[l.key]
		go r.disableKey(ch.ID, l.key, key, reason)
		return
	}
	// Off the request path: no relayed call waits for a database write.
	go r.disableChannel(ch.ID, reason)
}

// disableChannel disables channel id automatically, or with
// ChannelDemoteEnabled demotes it instead until a test passes.
func (r *Relay) disableChannel(id int, reason string) {
	if on, d := r.store.Options.Get().ChannelDemotion(); on {
		if ch := r.store.Channels.ByID(id); ch != nil {
			if ch.Health.Demote(time.Now(), d) {
				slog.Warn("channel demoted instead of disabled", "channel_id", id, "reason", reason, "for", d)
				r.retestAfter(id, d)
			}
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.bg, 10*time.Second)
	defer cancel()
	changed, err := r.store.SetChannelStatus(ctx, id, model.ChannelAutoDisabled)
	if err != nil {
		slog.Error("automatic channel disable failed", "channel_id", id, "err", err)
		return
	}
	if changed {
		slog.Warn("channel disabled automatically", "channel_id", id, "reason", reason)
		r.notifyDisabled(id, reason)
	}
}

// disableKey records key index i of channel id as dead; the channel goes
// too when it was its last live key.
func (r *Relay) disableKey(id, i int, key, reason string) {
	ctx, cancel := context.WithTimeout(r.bg, 10*time.Second)
	defer cancel()
	keyChanged, chanDisabled, err := r.store.DisableChannelKey(ctx, id, key, reason)
	if err != nil {
		slog.Error("automatic key disable failed", "channel_id", id, "key_index", i, "err", err)
		return
	}
	if keyChanged {
		slog.Warn("channel key disabled automatically", "channel_id", id, "key_index", i, "reason", reason)
	}
	if chanDisabled {
		slog.Warn("channel disabled automatically: no live key left", "channel_id", id)
		r.notifyDisabled(id, "no live key left; the last one failed: "+reason)
	}
}

// retestAfter tests a demoted channel once its cool-down is over: a pass
// brings it back (TestChannel restores it), a failure demotes it again.
func (r *Relay) retestAfter(id int, d time.Duration) {
	time.AfterFunc(d, func() {
		if r.bg.Err() != nil {
			return
		}
		ch := r.store.Channels.ByID(id)
		if ch == nil || !ch.Health.Demoted() {
			return
		}
		if _, err := r.TestChannel(r.bg, id, ""); err != nil {
			_, d := r.store.Options.Get().ChannelDemotion()
			ch.Health.Demote(time.Now(), d)
			slog.Info("demoted channel failed its test; stays demoted", "channel_id", id, "err", err)
			r.retestAfter(id, d)
		}
	})
}

// restore ends a demotion after a passing test of key i, and brings that
// key back if it had been disabled (a multi-key channel whose every key
// was disabled is tested with its first).
func (r *Relay) restore(ctx context.Context, ch *model.RelayChannel, i int) {
	if ch.Health.Restore() {
		slog.Info("demoted channel back after a passing test", "channel_id", ch.ID)
	}
	if ch.Keys.Multi() && ch.Keys.Dead(i) {
		if ok, err := r.store.EnableChannelKey(context.WithoutCancel(ctx), ch.ID, ch.Keys.Keys[i]); err != nil {
			slog.Error("enabling a key after a passing test failed", "channel_id", ch.ID, "key_index", i, "err", err)
		} else if ok {
			slog.Info("channel key enabled again after a passing test", "channel_id", ch.ID, "key_index", i)
		}
	}
}
