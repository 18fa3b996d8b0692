package model

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// RelayChannel is what the relay needs of an enabled channel: the plain key,
// the parsed mapping and its health. It is immutable once built; a channel
// change builds a new one.
type RelayChannel struct {
	ID   int
	Type int
	Name string
	// Key is the key to send: the channel's one key, or for a multi-key
	// channel its first (WithKey gives the one selection chose).
	Key string
	// Keys holds every key of the channel and their live state.
	Keys *KeySet
	// RPMLimit and TPMLimit cap the channel (0: none).
	RPMLimit, TPMLimit int64
	BaseURL            string
	Priority           int64
	Weight             int
	Status             int
	MaxInflight        int
	Models             []string
	ModelMapping       map[string]string
	// TestModel is the channel's test_model ("" for the default).
	TestModel string
	// Other is the channel's `other` field (Azure's api-version).
	Other string
	// Headers are the extra headers its config sets (channel_headers.go);
	// shared, so read only.
	Headers http.Header
	// Settings are the config's values, its secrets opened, as text
	// (ConfigStrings), read once per reload rather than per call; shared,
	// so read only.
	Settings map[string]string
	// Proxy is the proxy its calls go through (ConfigProxy); nil is none.
	// Shared, so read only.
	Proxy *url.URL
	// Health is shared by every RelayChannel built for this channel id, so
	// in-flight counts and cooldowns survive reloads.
	Health *ChannelHealth
}

// WithKey is the channel as one call sees it: Key set to key i of a
// multi-key channel. A single-key channel is returned as it is.
func (c *RelayChannel) WithKey(i int) *RelayChannel {
	if !c.Keys.Multi() || i < 0 || i >= len(c.Keys.Keys) || c.Keys.Keys[i] == c.Key {
		return c
	}
	cp := *c
	cp.Key = c.Keys.Keys[i]
	return &cp
}

// LiveKey is the index of a key that is not disabled (the first), or 0.
func (c *RelayChannel) LiveKey() int {
	if c.Keys == nil {
		return 0
	}
	for i := range c.Keys.Keys {
		if !c.Keys.Dead(i) {
			return i
		}
	}
	return 0
}

// UpstreamModel is the name to send upstream for model.
func (c *RelayChannel) UpstreamModel(model string) string {
	if m, ok := c.ModelMapping[model]; ok && m != "" {
		return m
	}
	return model
}

// ChannelHealth is a channel's live state on this node, all in atomics:
// requests in flight, consecutive failures and the end of a cooldown.
type ChannelHealth struct {
	inflight  atomic.Int64
	failures  atomic.Int64
	coolUntil atomic.Int64 // unix nanoseconds
	// demoted is set while the channel serves only after every other tier
	// (ChannelDemoteEnabled); demoteUntil is the earliest a test may
	// bring it back.
	demoted     atomic.Bool
	demoteUntil atomic.Int64 // unix nanoseconds
	// keyTurn is a multi-key channel's polling turn.
	keyTurn atomic.Uint64
}

// Demote puts the channel below every tier, for at least d. It reports
// whether the channel was not demoted already.
func (h *ChannelHealth) Demote(now time.Time, d time.Duration) bool {
	h.demoteUntil.Store(now.Add(d).UnixNano())
	h.failures.Store(0)
	return h.demoted.CompareAndSwap(false, true)
}

// Demoted reports whether the channel is demoted.
func (h *ChannelHealth) Demoted() bool { return h.demoted.Load() }

// DemotionOver reports whether a demoted channel's cool-down has passed,
// so that a test may bring it back.
func (h *ChannelHealth) DemotionOver(now time.Time) bool {
	return h.demoted.Load() && h.demoteUntil.Load() <= now.UnixNano()
}

// Restore ends a demotion (after a passing test). It reports whether the
// channel was demoted.
func (h *ChannelHealth) Restore() bool {
	h.failures.Store(0)
	return h.demoted.CompareAndSwap(true, false)
}

// FailedDemoting counts a failure like Failed; the threshold-th in a row
// demotes the channel for d instead of cooling it. It reports whether this
// failure demoted it.
func (h *ChannelHealth) FailedDemoting(now time.Time, threshold int64, d time.Duration) bool {
	if threshold <= 0 {
		return false
	}
	if h.failures.Add(1) >= threshold {
		return h.Demote(now, d)
	}
	return false
}

// Inflight is the number of requests on the channel now.
func (h *ChannelHealth) Inflight() int64 { return h.inflight.Load() }

// Cooling reports whether the channel rests after failures at now.
func (h *ChannelHealth) Cooling(now time.Time) bool { return h.coolUntil.Load() > now.UnixNano() }

// Acquire takes one in-flight slot unless max (>0) are taken.
func (h *ChannelHealth) Acquire(max int) bool {
	for {
		n := h.inflight.Load()
		if max > 0 && n >= int64(max) {
			return false
		}
		if h.inflight.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release gives back a slot taken by Acquire.
func (h *ChannelHealth) Release() { h.inflight.Add(-1) }

// Succeeded clears the failure count.
func (h *ChannelHealth) Succeeded() {
	if h.failures.Load() != 0 {
		h.failures.Store(0)
	}
}

// Failed counts a failure; the threshold-th in a row starts a cooldown.
func (h *ChannelHealth) Failed(now time.Time, threshold int64, cooldown time.Duration) {
	if threshold <= 0 || cooldown <= 0 {
		return
	}
	if h.failures.Add(1) >= threshold {
		h.failures.Store(0)
		h.coolUntil.Store(now.Add(cooldown).UnixNano())
	}
}

// Tier is the channels serving one (group, model) at one priority.
type Tier struct {
	Priority int64
	Channels []*RelayChannel
}

type channelSnapshot struct {
	byID map[int]*RelayChannel
	// tiers maps group → model → tiers, highest priority first.
	tiers map[string]map[string][]Tier
}

// ChannelIndex is the in-memory abilities index: (group, model) → priority
// tiers of enabled channels. The relay reads it without locks; a channel
// change (here or, through the bus, on another node) rebuilds it whole.
type ChannelIndex struct {
	s   *Store
	cur atomic.Pointer[channelSnapshot]

	healthMu sync.Mutex
	health   map[int]*ChannelHealth

	reloadMu sync.Mutex
	pending  atomic.Bool

	// Sticky is the sticky-routing memory of this node.
	Sticky StickyRoutes
	// keyMu serialises this node's writes of key_status (channel_keys.go).
	keyMu sync.Mutex
}

func init() {
	onOpen(func(ctx context.Context, s *Store) error {
		idx := &ChannelIndex{s: s, health: map[int]*ChannelHealth{}}
		idx.cur.Store(&channelSnapshot{byID: map[int]*RelayChannel{}, tiers: map[string]map[string][]Tier{}})
		if err := idx.Reload(ctx); err != nil {
			return err
		}
		s.Channels = idx
		s.Bus.Subscribe(TopicChannels, func(string) { idx.reloadSoon() })
		// The bus carries every change at once; the periodic reload is the
		// safety net for a missed message (ARCHITECTURE.md).
		stop := make(chan struct{})
		go idx.syncEvery(s.Cfg.SyncFrequency, stop)
		s.AtClose(func() { close(stop) })
		return nil
	})
}

func (x *ChannelIndex) syncEvery(every time.Duration, stop <-chan struct{}) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := x.Reload(context.Background()); err != nil {
				logf("periodic channel reload failed", "err", err)
			}
		}
	}
}

// reloadSoon reloads in the background, folding bursts of invalidations
// into one reload (bus handlers must not block).
func (x *ChannelIndex) reloadSoon() {
	if !x.pending.CompareAndSwap(false, true) {
		return
	}
	go func() {
		x.pending.Store(false)
		if err := x.Reload(context.Background()); err != nil {
			logf("channel index reload failed", "err", err)
		}
	}()
}

// Health returns the live state of channel id (created on first use).
func (x *ChannelIndex) Health(id int) *ChannelHealth {
	x.healthMu.Lock()
	defer x.healthMu.Unlock()
	h := x.health[id]
	if h == nil {
		h = &ChannelHealth{}
		x.health[id] = h
	}
	return h
}

// Reload reads every channel and swaps in a new index.
func (x *ChannelIndex) Reload(ctx context.Context) error {
	x.reloadMu.Lock()
	defer x.reloadMu.Unlock()
	rows, err := x.s.AllChannels(ctx)
	if err != nil {
		return err
	}
	snap := &channelSnapshot{byID: make(map[int]*RelayChannel, len(rows)), tiers: map[string]map[string][]Tier{}}
	for i := range rows {
		ch := &rows[i]
		key, err := x.s.Sealer.Open(ch.Key)
		if err != nil {
			logf("channel key does not open; channel skipped", "channel_id", ch.ID, "err", err)
			continue
		}
		config, err := openSecrets(x.s.Sealer, ch.Type, ch.Config)
		if err != nil {
			logf("channel config secret does not open; channel skipped", "channel_id", ch.ID, "err", err)
			continue
		}
		proxy, err := ConfigProxy(config)
		if err != nil {
			// Going direct could send calls where the operator said they
			// must not go.
			logf("channel proxy is not a valid proxy URL; channel skipped", "channel_id", ch.ID)
			continue
		}
		mapping, _ := ch.Mapping()
		headers, _ := ConfigHeaders(config)
		health := x.Health(ch.ID)
		keys := newKeySet(key, &ch.ChannelRouting, &health.keyTurn)
		if len(keys.Keys) > 0 {
			key = keys.Keys[0]
		}
		rc := &RelayChannel{
			ID: ch.ID, Type: ch.Type, Name: ch.Name, Key: key, Keys: keys, BaseURL: ch.EffectiveBaseURL(),
			RPMLimit: ch.RPMLimit, TPMLimit: ch.TPMLimit,
			Priority: ch.Priority, Weight: ch.Weight, Status: ch.Status, MaxInflight: ch.MaxInflight,
			Models: ch.ModelList(), ModelMapping: mapping, TestModel: ch.TestModel, Other: ch.Other, Health: health,
			Headers: headers, Settings: ConfigStrings(config), Proxy: proxy,
		}
		snap.byID[ch.ID] = rc
		if ch.Status != ChannelEnabled {
			continue
		}
		for _, a := range abilitiesOf(ch) {
			byModel := snap.tiers[a.Group]
			if byModel == nil {
				byModel = map[string][]Tier{}
				snap.tiers[a.Group] = byModel
			}
			tiers := byModel[a.Model]
			placed := false
			for t := range tiers {
				if tiers[t].Priority == a.Priority {
					tiers[t].Channels = append(tiers[t].Channels, rc)
					placed = true
					break
				}
			}
			if !placed {
				tiers = append(tiers, Tier{Priority: a.Priority, Channels: []*RelayChannel{rc}})
			}
			byModel[a.Model] = tiers
		}
	}
	for _, byModel := range snap.tiers {
		for _, tiers := range byModel {
			sort.Slice(tiers, func(i, j int) bool { return tiers[i].Priority > tiers[j].Priority })
		}
	}
	x.cur.Store(snap)
	return nil
}

// Tiers returns the tiers serving model to group, highest priority first.
// The slice is shared: callers must not modify it.
func (x *ChannelIndex) Tiers(group, model string) []Tier {
	return x.cur.Load().tiers[group][model]
}

// ByID returns the channel with id, enabled or not, or nil.
func (x *ChannelIndex) ByID(id int) *RelayChannel { return x.cur.Load().byID[id] }

// All returns every channel in the index, by id.
func (x *ChannelIndex) All() []*RelayChannel {
	snap := x.cur.Load()
	out := make([]*RelayChannel, 0, len(snap.byID))
	for _, c := range snap.byID {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Models lists the models group can reach, sorted.
func (x *ChannelIndex) Models(group string) []string {
	byModel := x.cur.Load().tiers[group]
	out := make([]string, 0, len(byModel))
	for m := range byModel {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// AllModels lists every model any enabled channel serves, sorted.
func (x *ChannelIndex) AllModels() []string {
	seen := map[string]bool{}
	for _, byModel := range x.cur.Load().tiers {
		for m := range byModel {
			seen[m] = true
		}
	}
	return SortedKeys(seen)
}

// SortedKeys returns a set's members in order.
func SortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Len is the number of channels in the index (for metrics).
func (x *ChannelIndex) Len() int { return len(x.cur.Load().byID) }

// AtClose runs f when the store closes, before its connections do: workers
// built on the store (the relay's channel monitor) stop there.
func (s *Store) AtClose(f func()) { s.addCloser(func() error { f(); return nil }) }

// StickyRoutes remembers, per (token, model), the channel and key that
// served the token's last call, for sticky routing (StickyRoutingEnabled):
// providers' prompt caches are per key, so sending a conversation's next
// call to the same key keeps them warm. The memory is this node's; with
// several nodes behind a balancer that spreads a token's calls, each node
// keeps its own choice (see docs/ARCHITECTURE.md).
type StickyRoutes struct {
	mu        sync.Mutex
	m         map[stickyKey]stickyRoute
	nextSweep int
}

type stickyKey struct {
	token int
	model string
}

type stickyRoute struct {
	channel, key int
	until        int64 // unix nanoseconds
}

// Get returns the channel and key that served token's last call of model,
// if that was less than the sticky time ago.
func (s *StickyRoutes) Get(token int, model string, now time.Time) (channel, key int, ok bool) {
	s.mu.Lock()
	r, found := s.m[stickyKey{token, model}]
	s.mu.Unlock()
	if !found || r.until <= now.UnixNano() {
		return 0, 0, false
	}
	return r.channel, r.key, true
}

// Set records that channel and key served token's call of model, for ttl.
func (s *StickyRoutes) Set(token int, model string, channel, key int, now time.Time, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[stickyKey]stickyRoute{}
	}
	s.m[stickyKey{token, model}] = stickyRoute{channel: channel, key: key, until: now.Add(ttl).UnixNano()}
	if len(s.m) >= s.nextSweep {
		// Forget expired routes whenever the map doubles, so memory follows
		// the tokens active within the sticky time.
		n := now.UnixNano()
		for k, r := range s.m {
			if r.until <= n {
				delete(s.m, k)
			}
		}
		s.nextSweep = max(2*len(s.m), 1024)
	}
}

// Forget drops token's route for model (its channel failed).
func (s *StickyRoutes) Forget(token int, model string) {
	s.mu.Lock()
	delete(s.m, stickyKey{token, model})
	s.mu.Unlock()
}
