// Package limit counts requests and tokens against per-subject limits
// (issue 11): requests per minute, tokens per minute, requests per day and
// requests in flight, for tokens, users, groups and channels alike.
//
// A call is admitted once for every subject that limits it, all or none:
// Admit checks every rule and, only when all pass, counts one request and
// holds the call's token estimate on each. Settle replaces the estimate
// with the tokens the call really used and frees its parallel slot.
//
// Windows are fixed and follow the clock: a minute starts at :00 and a
// day at 00:00 UTC, as LiteLLM's limits do. Fixed windows are exact (a
// limit of N admits N in a window, never N+1) and cost one counter per
// window; their price is a burst of up to 2N across a boundary. Tokens
// count in the minute the call settles in; while a call is in flight its
// estimate is held against every window, so a burst of long calls cannot
// overrun a TPM limit before any of them settles.
//
// Without Redis the counters live in this process (limits hold per node).
// With Redis they live there and every node shares them: Admit and Settle
// are one Lua script each, riding the ledger's own round trips, however
// many subjects a call touches (redis.go says how estimates are held).
// While a limit has plenty of room, a node is granted a slice of it and
// admits calls from that in memory, with no script at all; near the end
// of a limit every call is judged in Redis again (allowance.go).
// While Redis fails, calls are counted in memory on the node, so an outage
// softens limits to per node instead of refusing or freeing every call.
package limit

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis/v8"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// Rule is one subject's limits; a zero field is no limit of that kind.
type Rule struct {
	// Subject names the counters: "t:<token id>", "u:<user id>",
	// "g:<group>", "c:<channel id>".
	Subject  string
	RPM      int64
	TPM      int64
	RPD      int64
	Parallel int64
}

// Limited reports whether the rule limits anything.
func (r Rule) Limited() bool { return r.RPM > 0 || r.TPM > 0 || r.RPD > 0 || r.Parallel > 0 }

// Limiter holds the counters. Build one with New and share it.
type Limiter struct {
	mem    *memory
	rdb    *redis.Client
	prefix string
	node   string
	now    atomic.Pointer[func() time.Time]
	// downUntil (unix ns, real time) skips Redis for a moment after it
	// failed, so an outage does not cost every call a dial timeout.
	downUntil atomic.Int64
	stop      chan struct{}
	// queue feeds the Redis pipeline (pipe.go); drained is closed when
	// the pipeline has applied everything queued before Close.
	queue   chan *redisOp
	drained chan struct{}
	closeMu sync.RWMutex
	closed  bool
	once    sync.Once
	// holding is this node's calls in flight whose estimates count in
	// Redis against a TPM limit; carried is the last minute they were
	// carried into (redis.go, carry).
	hmu     sync.Mutex
	holding map[*Ticket]struct{}
	carried atomic.Int64
	// allow is this node's slices of the counters in Redis, by subject
	// (*allowance; allowance.go).
	allow sync.Map
}

// New builds a limiter. rdb nil keeps every counter in memory; otherwise
// counters live in Redis under prefix + "rl:".
func New(rdb *redis.Client, prefix string) *Limiter {
	l := &Limiter{mem: newMemory(), rdb: rdb, prefix: prefix + "rl:", node: crypto.RandomString(12), stop: make(chan struct{}),
		queue: make(chan *redisOp, 4*maxBatch), drained: make(chan struct{}), holding: map[*Ticket]struct{}{}}
	now := time.Now
	l.now.Store(&now)
	l.carried.Store(minuteOf(now()))
	// Beat once before the first call: holds of a node without a heartbeat
	// are dropped by every other node.
	l.heartbeat()
	go l.background()
	if rdb != nil {
		l.loadScripts()
		go l.pipeline()
	} else {
		close(l.drained)
	}
	return l
}

// SetClock replaces the clock the windows follow (tests move it across a
// window instead of waiting for one). nil restores time.Now.
func (l *Limiter) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	l.now.Store(&now)
}

// Now is the limiter's clock.
func (l *Limiter) Now() time.Time { return (*l.now.Load())() }

// Close stops the background work (heartbeat, memory sweep) and ends this
// node's heartbeat, so other nodes drop its holds at once.
func (l *Limiter) Close() {
	l.once.Do(func() {
		l.closeMu.Lock()
		l.closed = true
		l.closeMu.Unlock()
		close(l.stop)
		<-l.drained
		if l.rdb != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			l.rdb.Del(ctx, l.prefix+"node:"+l.node)
			cancel()
		}
	})
}

// Shared reports whether counters live in Redis (limits hold across nodes).
func (l *Limiter) Shared() bool { return l.rdb != nil }

// Heartbeat timing: a node's holds (parallel slots, held estimates) count
// only while its heartbeat key lives, so a node that dies frees them within
// nodeTTL.
const (
	nodeBeat = 10 * time.Second
	nodeTTL  = 30 * time.Second
	// redisRetry is how long calls are counted in memory after Redis
	// failed, before Redis is asked again.
	redisRetry = time.Second
)

func (l *Limiter) background() {
	beat := time.NewTicker(nodeBeat)
	defer beat.Stop()
	// Calls carry their estimates into a new minute on their own; this
	// does it for a node that gets no call at the minute's turn.
	carry := time.NewTicker(time.Second)
	defer carry.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-beat.C:
			l.heartbeat()
			l.mem.sweep(l.Now())
			l.sweepAllowances(l.Now())
		case <-carry.C:
			if l.rdb != nil {
				l.carry(l.Now())
			}
		}
	}
}

func (l *Limiter) heartbeat() {
	if l.rdb == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.rdb.Set(ctx, l.prefix+"node:"+l.node, "1", nodeTTL).Err(); err != nil {
		slog.Warn("rate-limit heartbeat failed", "err", err)
	}
}

// Kind names what refused a call.
type Kind string

// The kinds of limit.
const (
	KindRPM      Kind = "requests per minute"
	KindTPM      Kind = "tokens per minute"
	KindRPD      Kind = "requests per day"
	KindParallel Kind = "requests in parallel"
)

// Usage is what a subject had used when a call was judged, before it.
type usage struct {
	minReqs, dayReqs, minTokens, held, parallel int64
	// The slices of the counters the admit script handed this node
	// (allowance.go).
	grantReqs, grantDay, grantTokens int64
	// What the call hands back of this node's slices (allowance.go).
	backReqs, backDay, backTokens int64
}

// State is what the rate-limit headers report: the tightest request limit
// (per minute or per day) and the tightest token limit among the rules,
// after this call. Zero limits mean no limit of that kind applies.
type State struct {
	LimitRequests, RemainingRequests int64
	ResetRequests                    time.Duration
	LimitTokens, RemainingTokens     int64
	ResetTokens                      time.Duration
}

// Refusal is why a call was refused: the error rendered to the client
// (429) and when to come back.
type Refusal struct {
	Subject    string
	Kind       Kind
	Limit      int64
	RetryAfter time.Duration
}

// Error is the 429 for the client. Subjects are named by kind, never by id
// of another user's object.
func (r *Refusal) Error() *errs.Error {
	who := "this API key"
	switch r.Subject[0] {
	case 'u':
		who = "your account"
	case 'g':
		who = "your group"
	case 'c':
		who = "the channel"
	}
	return errs.TooManyRequests("rate limit reached: %s allows %d %s; retry after %s", who, r.Limit, r.Kind, r.RetryAfter.Round(time.Millisecond)).WithCode("rate_limit_exceeded")
}

// Ticket is an admitted call, settled exactly once.
type Ticket struct {
	l        *Limiter
	rules    []Rule
	estimate int64
	shared   bool
	settled  atomic.Bool
	// heldIn is the minute whose Redis counter holds the estimate (-1:
	// none, or settled).
	heldIn atomic.Int64
	// local: admitted in minute from this node's slices (allowance.go).
	local  bool
	minute int64
}

// Admit judges a call against rules (those that limit nothing are
// ignored). It returns a ticket when every rule admits the call, or a
// Refusal; the State is filled either way for the headers.
func (l *Limiter) Admit(ctx context.Context, rules []Rule, estimate int64) (*Ticket, State, *Refusal) {
	return l.Start(ctx, rules, estimate).Result()
}

// Pending is an admission under way: with Redis its round trip is out, so
// the caller can do other work (the ledger's reservation) meanwhile, or it
// rides on that work's own round trip (Board).
type Pending struct {
	l        *Limiter
	rules    []Rule
	estimate int64
	now      time.Time
	op       *redisOp
	// queued is set once op went to the limiter's queue; rode holds its
	// answer when it went on another round trip instead.
	queued bool
	rode   *redis.Cmd

	t   *Ticket
	st  State
	ref *Refusal
	// ticket and used back t and the store's answer (no allocation of
	// their own for up to three rules).
	ticket Ticket
	used   [3]usage
}

// Start begins judging a call; Result or Wait finishes it. A nil Pending
// (nothing limits the call) admits it.
func (l *Limiter) Start(ctx context.Context, rules []Rule, estimate int64) *Pending {
	active := rules
	for i, r := range rules {
		if !r.Limited() {
			// Copy only when some rule limits nothing.
			active = slices.Clone(rules[:i])
			for _, r := range rules[i+1:] {
				if r.Limited() {
					active = append(active, r)
				}
			}
			break
		}
	}
	if len(active) == 0 {
		return nil
	}
	p := &Pending{l: l, rules: active, estimate: max(estimate, 0), now: l.Now()}
	if l.rdb != nil && time.Now().UnixNano() >= l.downUntil.Load() {
		carried := l.carry(p.now)
		if !carried && l.takeLocal(p) {
			return p
		}
		p.op = l.admitOp(active, p.usedBuf(), p.estimate, p.now)
		if carried || !rideable(active) {
			p.enqueue(ctx)
		}
		return p
	}
	used := p.usedBuf()
	ok := l.mem.admit(active, used, p.estimate, p.now)
	p.decide(used, ok, false)
	return p
}

func (p *Pending) usedBuf() []usage {
	if len(p.rules) <= len(p.used) {
		return p.used[:len(p.rules)]
	}
	return make([]usage, len(p.rules))
}

// Result waits for the admission's answer.
func (p *Pending) Result() (*Ticket, State, *Refusal) {
	if p == nil {
		return nil, State{}, nil
	}
	if p.op != nil {
		op := p.op
		p.op = nil
		cmd := p.rode
		if cmd != nil && isNoScript(cmd.Err()) {
			// Redis forgot the scripts: load them and go by the queue.
			p.l.loadScripts()
			cmd = nil
		}
		if cmd == nil {
			if !p.queued {
				p.op = op
				p.enqueue(context.Background())
				p.op = nil
			}
			cmd = <-op.done
		}
		used := p.usedBuf()
		ok, err := finishRedis(cmd, used)
		if err != nil {
			p.l.downUntil.Store(time.Now().Add(redisRetry).UnixNano())
			slog.Warn("rate limits fall back to this node: redis failed", "err", err, "retry_in", redisRetry)
			ok = p.l.mem.admit(p.rules, used, p.estimate, p.now)
			p.decide(used, ok, false)
		} else {
			p.decide(used, ok, true)
		}
	}
	return p.t, p.st, p.ref
}

// enqueue sends the admission by the limiter's own queue.
func (p *Pending) enqueue(ctx context.Context) {
	p.op.done = make(chan *redis.Cmd, 1)
	p.queued = true
	p.l.do(ctx, p.op)
}

// Board puts the admission on pipe, a round trip to the limiter's Redis
// that the caller is about to make anyway (the ledger's reservation), in
// place of the limiter's own queue: one round trip for both, and no hop
// through the queue's worker, which under load cost more than the trip
// (issue 11's benchmark). It reports whether it did; Result reads the
// answer once pipe ran.
//
// A call's settle rides the ledger's settlement in the same way
// (Settles), which returns before the answer leaves, so a client's next
// call finds its last one settled whichever way its own admission goes.
// An admission that limits parallel requests still goes by the queue,
// behind any settle that could not ride (the ledger was offline): a
// parallel slot seen taken refuses the call, where a settle seen late
// only holds the last call's estimate a moment instead of its tokens.
func (p *Pending) Board(ctx context.Context, pipe redis.Pipeliner) bool {
	if !p.Boards() {
		return false
	}
	p.rode = p.op.script.EvalSha(ctx, pipe, nil, p.op.args...)
	return true
}

// Boards reports whether Board would board the admission.
func (p *Pending) Boards() bool { return p != nil && p.op != nil && !p.queued && p.rode == nil }

// rideable reports whether an admission under rules may board another
// round trip (see Board).
func rideable(rules []Rule) bool {
	for _, r := range rules {
		if r.Parallel > 0 {
			return false
		}
	}
	return true
}

func isNoScript(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") }

func (p *Pending) decide(used []usage, ok, shared bool) {
	p.st, p.ref = judge(p.rules, used, p.estimate, p.now)
	if !ok {
		if p.ref == nil {
			// The store refused on state that moved after it answered.
			p.ref = &Refusal{Subject: p.rules[0].Subject, Kind: KindParallel, RetryAfter: time.Second}
		}
		return
	}
	p.ref = nil
	if shared {
		p.l.grant(p.rules, used, p.estimate, p.now)
	}
	p.ticket = Ticket{l: p.l, rules: p.rules, estimate: p.estimate, shared: shared}
	p.t = &p.ticket
	p.t.heldIn.Store(-1)
	if shared && tokenLimited(p.rules) {
		p.t.heldIn.Store(minuteOf(p.now))
		p.l.hold(p.t)
	}
}

// Settle counts tokens (prompt + completion) in the current minute in place
// of the estimate and frees the parallel slot. A nil ticket (no limits)
// does nothing; a second call does nothing.
func (t *Ticket) Settle(ctx context.Context, tokens int64) {
	if t == nil || !t.settled.CompareAndSwap(false, true) {
		return
	}
	tokens = max(tokens, 0)
	now := t.l.Now()
	if t.shared {
		if !t.settlesInRedis(ctx, tokens, now) {
			return
		}
		t.l.settleRedis(ctx, t, tokens, now)
		return
	}
	t.l.mem.settle(t.rules, t.estimate, tokens, now)
}

// Settles is what one call settles against rate limits when it ends: its
// caller's ticket and the serving channel's, with the tokens it used. A
// ledger that settles the call on Redis carries them on that round trip
// (Board, then Finish), so they are applied before the answer leaves and
// the client's next call, whichever way its admission goes, finds them
// applied; a ledger without Redis just calls Finish, which settles them
// the ordinary way.
type Settles struct {
	Tickets [2]*Ticket
	Tokens  int64
	rode    [2]*redis.Cmd
	ops     [2]*redisOp
	// done marks a ticket Board settled without Redis.
	done [2]bool
}

// Board puts the settle of each ticket kept in Redis on pipe, a round trip
// to the limiter's Redis the caller is about to make.
func (s *Settles) Board(ctx context.Context, pipe redis.Pipeliner) {
	if s == nil {
		return
	}
	tokens := max(s.Tokens, 0)
	for i, t := range s.Tickets {
		if t == nil || !t.shared || s.ops[i] != nil || !t.settled.CompareAndSwap(false, true) {
			continue
		}
		now := t.l.Now()
		if !t.settlesInRedis(ctx, tokens, now) {
			s.done[i] = true
			continue
		}
		s.ops[i] = t.l.settleOp(t, tokens, now)
		s.rode[i] = s.ops[i].script.EvalSha(ctx, pipe, nil, s.ops[i].args...)
	}
}

// Finish completes the settles once the boarded round trip ran: one Redis
// refused for want of the script runs again after loading it, one that
// failed falls back as a queued settle does, and a ticket that did not
// board settles now.
func (s *Settles) Finish(ctx context.Context) {
	if s == nil {
		return
	}
	for i, t := range s.Tickets {
		op := s.ops[i]
		if s.done[i] {
			continue
		}
		if op == nil {
			t.Settle(ctx, s.Tokens)
			continue
		}
		cmd := s.rode[i]
		if isNoScript(cmd.Err()) {
			t.l.loadScripts()
			cmd = op.script.Run(ctx, t.l.rdb, nil, op.args...)
		}
		if err := cmd.Err(); err != nil {
			op.failed(err)
		}
	}
}

// settlesInRedis settles a ticket kept in Redis where no round trip is
// needed, and reports whether the settle script must still run: not for
// a call admitted from this node's slices in the minute it settles in,
// nor for one whose rules count neither tokens nor parallel slots.
func (t *Ticket) settlesInRedis(ctx context.Context, tokens int64, now time.Time) bool {
	if t.l.settleLocal(ctx, t, tokens, now) {
		return false
	}
	for _, r := range t.rules {
		if r.TPM > 0 || r.Parallel > 0 {
			return true
		}
	}
	return false
}

func minuteOf(now time.Time) int64 { return now.Unix() / 60 }
func dayOf(now time.Time) int64    { return now.Unix() / 86400 }

func untilNextMinute(now time.Time) time.Duration {
	end := time.Unix((minuteOf(now)+1)*60, 0)
	return end.Sub(now)
}

func untilNextDay(now time.Time) time.Duration {
	end := time.Unix((dayOf(now)+1)*86400, 0)
	return end.Sub(now)
}

// judge computes the headers' state from what each rule had used before
// the call, and which rule refuses it, if any. The stores apply the same
// test atomically; judge only explains their answer.
func judge(rules []Rule, used []usage, estimate int64, now time.Time) (State, *Refusal) {
	var st State
	var ref *Refusal
	reqRemain, tokRemain := int64(math.MaxInt64), int64(math.MaxInt64)
	for i, r := range rules {
		u := used[i]
		if r.RPM > 0 {
			if left := r.RPM - u.minReqs - 1; left < reqRemain {
				reqRemain, st.LimitRequests, st.ResetRequests = left, r.RPM, untilNextMinute(now)
			}
			if ref == nil && u.minReqs >= r.RPM {
				ref = &Refusal{Subject: r.Subject, Kind: KindRPM, Limit: r.RPM, RetryAfter: untilNextMinute(now)}
			}
		}
		if r.RPD > 0 {
			if left := r.RPD - u.dayReqs - 1; left < reqRemain {
				reqRemain, st.LimitRequests, st.ResetRequests = left, r.RPD, untilNextDay(now)
			}
			if ref == nil && u.dayReqs >= r.RPD {
				ref = &Refusal{Subject: r.Subject, Kind: KindRPD, Limit: r.RPD, RetryAfter: untilNextDay(now)}
			}
		}
		if r.TPM > 0 {
			if left := r.TPM - u.minTokens - u.held - estimate; left < tokRemain {
				tokRemain, st.LimitTokens, st.ResetTokens = left, r.TPM, untilNextMinute(now)
			}
			if ref == nil && !tokensFit(r.TPM, u, estimate) {
				ref = &Refusal{Subject: r.Subject, Kind: KindTPM, Limit: r.TPM, RetryAfter: untilNextMinute(now)}
			}
		}
		if r.Parallel > 0 && ref == nil && u.parallel >= r.Parallel {
			// No window to wait for: a slot frees when a call ends.
			ref = &Refusal{Subject: r.Subject, Kind: KindParallel, Limit: r.Parallel, RetryAfter: time.Second}
		}
	}
	if st.LimitRequests > 0 {
		st.RemainingRequests = max(reqRemain, 0)
	}
	if st.LimitTokens > 0 {
		st.RemainingTokens = max(tokRemain, 0)
	}
	return st, ref
}

// tokensFit is the TPM test. A call whose estimate alone exceeds the limit
// still goes when nothing else is counted or held, so a small TPM serves
// one large call at a time instead of refusing it forever.
func tokensFit(tpm int64, u usage, estimate int64) bool {
	if u.minTokens+u.held == 0 {
		return true
	}
	return u.minTokens+u.held+estimate <= tpm
}

// FormatReset writes a reset duration as OpenAI's headers do ("1s",
// "6m0s", "20ms").
func FormatReset(d time.Duration) string { return string(appendReset(nil, d)) }

// appendReset appends FormatReset(d): time.Duration's String of d rounded
// to the millisecond, or whole milliseconds (at least 1) below a second.
func appendReset(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, "0s"...)
	}
	if d < time.Second {
		return append(strconv.AppendInt(b, max(d.Milliseconds(), 1), 10), "ms"...)
	}
	ms := int64(d.Round(time.Millisecond) / time.Millisecond)
	h, m, s, frac := ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000
	if h > 0 {
		b = append(strconv.AppendInt(b, h, 10), 'h')
	}
	if h > 0 || m > 0 {
		b = append(strconv.AppendInt(b, m, 10), 'm')
	}
	b = strconv.AppendInt(b, s, 10)
	if frac > 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return append(b, 's')
}
