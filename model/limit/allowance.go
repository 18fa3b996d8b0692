package limit

import (
	"context"
	"sync"
	"time"
)

// Allowances: with Redis, a call whose limits have plenty of room needs no
// round trip of its own (issue 11's benchmark: two scripts per call cost
// a tenth of the relay's throughput).
//
// When the admit script admits a call, it also hands this node a slice of
// what each counter has left in the window: 1/grantShare of the room, at
// most grantCalls calls' worth (requests, or this call's estimate in
// tokens), and none when that would be less than a sixteenth of the cap.
// The slice is counted in Redis at once, as if spent, so other nodes see
// it taken; this node then admits calls from it in memory until it runs
// out, and the next call goes to Redis again (and may get a new slice).
// So a limit never admits more than it allows across nodes. What a slice
// costs is the other side: units a node holds and does not use are lost
// to everyone for the rest of the window. That is bounded by the share
// (a slice is at most 1/16 of what was left) and reaches nothing small:
// a slice needs room for 64 requests (or 64 estimates) to exist at all,
// so limits near their end, and small limits, are judged in Redis call by
// call and stay exact (a limit of 10 admits 10).
//
// A call that finds a slice too small for it (tokens left below its
// estimate, or a limit changed since the grant) takes it back and hands it
// to Redis in its admit script, so the remainder is not lost while the
// node keeps calling; only a node that stops calling strands a slice.
//
// Tokens settle against the slice too: a call that used less than its
// estimate gives the rest back to it, one that used more takes the excess
// from it, and what the slice cannot cover is added to Redis by the queue
// (nobody waits). A call that spans a minute's turn is carried and
// settled in Redis as before (redis.go). Parallel limits are never
// sliced: a slot is judged in Redis every time.
const (
	grantShare = 16
	grantCalls = 64
)

// slot is this node's slice of one counter in one window.
type slot struct {
	window int64 // minute or day number; 0: none
	limit  int64 // the limit it was granted under (a changed limit voids it)
	left   int64 // granted and not yet used
	seen   int64 // the counter in Redis right after the grant
}

// valid reports whether s covers need units of a counter limited by limit
// in window w.
func (s *slot) valid(w, limit, need int64) bool {
	return s.window == w && s.limit == limit && s.left >= need
}

// add puts a grant of g units into s; seen is the counter after it.
func (s *slot) add(w, limit, g, seen int64) {
	if s.window != w || s.limit != limit {
		*s = slot{window: w, limit: limit}
	}
	s.left += g
	s.seen = seen
}

// reclaim empties s when it is of window w but cannot serve need units
// under limit, and returns what it held.
func (s *slot) reclaim(w, limit, need int64) int64 {
	if s.window != w || (s.limit == limit && s.left >= need) {
		return 0
	}
	back := s.left
	s.left = 0
	return back
}

// allowance is this node's slices of one subject's counters.
type allowance struct {
	mu            sync.Mutex
	reqs, day, tk slot
	// dead is set by the sweep that dropped it from the limiter's map; a
	// grant for a dead allowance goes to a fresh one.
	dead bool
}

func (l *Limiter) allowance(subject string) *allowance {
	if v, ok := l.allow.Load(subject); ok {
		return v.(*allowance)
	}
	return nil
}

// takeLocal admits p from this node's slices when every counter of every
// rule has room in them, filling p as the Redis path would; it reports
// whether it did.
func (l *Limiter) takeLocal(p *Pending) bool {
	if !rideable(p.rules) {
		// A parallel slot is judged in Redis, and a slice granted before
		// the rule gained one must not skip it.
		return false
	}
	minute, day := minuteOf(p.now), dayOf(p.now)
	used := p.usedBuf()
	for i, r := range p.rules {
		a := l.allowance(r.Subject)
		if a == nil || !a.take(r, minute, day, p.estimate, &used[i]) {
			l.giveBack(p.rules[:i], minute, day, p.estimate)
			return false
		}
	}
	st, ref := judge(p.rules, used, p.estimate, p.now)
	if ref != nil {
		// Not reached while the slices were granted under these limits;
		// Redis judges it exactly.
		l.giveBack(p.rules, minute, day, p.estimate)
		return false
	}
	p.st = st
	p.ticket = Ticket{l: l, rules: p.rules, estimate: p.estimate, shared: true, local: true, minute: minute}
	p.t = &p.ticket
	p.t.heldIn.Store(-1)
	if tokenLimited(p.rules) {
		p.t.heldIn.Store(minute)
		l.hold(p.t)
	}
	return true
}

// take takes one request and estimate tokens from a's slices for rule r,
// all or none, and fills u with the counters as this node sees them.
func (a *allowance) take(r Rule, minute, day, estimate int64, u *usage) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dead || (r.RPM > 0 && !a.reqs.valid(minute, r.RPM, 1)) || (r.RPD > 0 && !a.day.valid(day, r.RPD, 1)) ||
		(r.TPM > 0 && !a.tk.valid(minute, r.TPM, estimate)) {
		return false
	}
	*u = usage{}
	if r.RPM > 0 {
		u.minReqs = a.reqs.seen - a.reqs.left
		a.reqs.left--
	}
	if r.RPD > 0 {
		u.dayReqs = a.day.seen - a.day.left
		a.day.left--
	}
	if r.TPM > 0 {
		u.minTokens = a.tk.seen - a.tk.left
		a.tk.left -= estimate
	}
	return true
}

// reclaim empties, into used's back fields for the admit script to
// return to Redis, the slices under rules that cannot serve a call of
// estimate tokens.
func (l *Limiter) reclaim(rules []Rule, used []usage, minute, day, estimate int64) {
	for i, r := range rules {
		used[i] = usage{}
		a := l.allowance(r.Subject)
		if a == nil {
			continue
		}
		a.mu.Lock()
		if r.RPM > 0 {
			used[i].backReqs = a.reqs.reclaim(minute, r.RPM, 1)
		}
		if r.RPD > 0 {
			used[i].backDay = a.day.reclaim(day, r.RPD, 1)
		}
		if r.TPM > 0 {
			used[i].backTokens = a.tk.reclaim(minute, r.TPM, estimate)
		}
		a.mu.Unlock()
	}
}

// giveBack returns what take took for rules.
func (l *Limiter) giveBack(rules []Rule, minute, day, estimate int64) {
	for _, r := range rules {
		a := l.allowance(r.Subject)
		if a == nil {
			continue // swept since (only when the clock jumped)
		}
		a.mu.Lock()
		if r.RPM > 0 && a.reqs.window == minute {
			a.reqs.left++
		}
		if r.RPD > 0 && a.day.window == day {
			a.day.left++
		}
		if r.TPM > 0 && a.tk.window == minute {
			a.tk.left += estimate
		}
		a.mu.Unlock()
	}
}

// grant puts the slices the admit script handed out (in used) into this
// node's allowances.
func (l *Limiter) grant(rules []Rule, used []usage, estimate int64, now time.Time) {
	minute, day := minuteOf(now), dayOf(now)
	for i, r := range rules {
		u := used[i]
		if u.grantReqs <= 0 && u.grantDay <= 0 && u.grantTokens <= 0 {
			continue
		}
		for {
			a := l.allowance(r.Subject)
			if a == nil {
				v, _ := l.allow.LoadOrStore(r.Subject, &allowance{})
				a = v.(*allowance)
			}
			a.mu.Lock()
			if a.dead {
				a.mu.Unlock()
				continue
			}
			if u.grantReqs > 0 {
				a.reqs.add(minute, r.RPM, u.grantReqs, u.minReqs+1+u.grantReqs)
			}
			if u.grantDay > 0 {
				a.day.add(day, r.RPD, u.grantDay, u.dayReqs+1+u.grantDay)
			}
			if u.grantTokens > 0 {
				a.tk.add(minute, r.TPM, u.grantTokens, u.minTokens+estimate+u.grantTokens)
			}
			a.mu.Unlock()
			break
		}
	}
}

// grantCaps are the largest slices the admit script may hand out for a
// call holding estimate tokens under rules: none where a parallel limit
// sends every call to Redis anyway.
func grantCaps(rules []Rule, estimate int64) (reqs, tokens int64) {
	if !rideable(rules) {
		return 0, 0
	}
	return grantCalls, grantCalls * estimate
}

// settleLocal settles t, admitted from this node's slices, against them:
// the estimate it took is replaced by tokens. It reports false when the
// call's minute has turned (its estimate was carried into Redis, or its
// tokens belong to a new minute): Redis settles it then.
func (l *Limiter) settleLocal(ctx context.Context, t *Ticket, tokens int64, now time.Time) bool {
	minute := minuteOf(now)
	if !t.local || t.minute != minute || !t.heldIn.CompareAndSwap(minute, -1) {
		return false
	}
	l.unhold(t)
	for _, r := range t.rules {
		if r.TPM <= 0 {
			continue
		}
		debt := tokens - t.estimate
		if a := l.allowance(r.Subject); a != nil {
			a.mu.Lock()
			if a.tk.window == minute {
				a.tk.left -= debt
				debt = max(-a.tk.left, 0)
				a.tk.left = max(a.tk.left, 0)
			}
			a.mu.Unlock()
		}
		if debt > 0 {
			// More than the slice had: the rest is counted in Redis.
			l.do(ctx, l.tokensOp(r, debt, now))
		}
	}
	return true
}

// tokensOp counts tokens into one rule's minute in Redis (the settle
// script with nothing else to do).
func (l *Limiter) tokensOp(r Rule, tokens int64, now time.Time) *redisOp {
	args := []any{l.prefix, l.node, minuteOf(now), tokens, 1, r.Subject, "1", "0"}
	return &redisOp{script: settleScript, args: args, settled: settledOp{l: l, rules: []Rule{r}, tokens: tokens, now: now}}
}

// sweepAllowances drops allowances whose windows are all over.
func (l *Limiter) sweepAllowances(now time.Time) {
	minute, day := minuteOf(now), dayOf(now)
	l.allow.Range(func(k, v any) bool {
		a := v.(*allowance)
		a.mu.Lock()
		if a.reqs.window < minute && a.tk.window < minute && a.day.window < day {
			a.dead = true
			l.allow.Delete(k)
		}
		a.mu.Unlock()
		return true
	})
}

// tokenLimited reports whether any rule limits tokens per minute.
func tokenLimited(rules []Rule) bool {
	for _, r := range rules {
		if r.TPM > 0 {
			return true
		}
	}
	return false
}
