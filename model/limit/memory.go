package limit

import (
	"sync"
	"time"
)

// memory keeps the counters of one node. One mutex guards them all: a call
// touches a handful of subjects for well under a microsecond, and one lock
// makes "all rules or none" trivially atomic.
type memory struct {
	mu   sync.Mutex
	subj map[string]*counters
}

type counters struct {
	minute, minReqs, minTokens int64
	day, dayReqs               int64
	held, parallel             int64
}

func newMemory() *memory { return &memory{subj: map[string]*counters{}} }

// roll moves c's windows to now's, dropping counts of windows past.
func (c *counters) roll(now time.Time) {
	if m := minuteOf(now); c.minute != m {
		c.minute, c.minReqs, c.minTokens = m, 0, 0
	}
	if d := dayOf(now); c.day != d {
		c.day, c.dayReqs = d, 0
	}
}

func (m *memory) get(subject string, now time.Time) *counters {
	c := m.subj[subject]
	if c == nil {
		c = &counters{}
		m.subj[subject] = c
	}
	c.roll(now)
	return c
}

// admit judges and counts a call, filling used (one per rule) with what
// each subject had used before it.
func (m *memory) admit(rules []Rule, used []usage, estimate int64, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := true
	for i, r := range rules {
		c := m.get(r.Subject, now)
		used[i] = usage{minReqs: c.minReqs, dayReqs: c.dayReqs, minTokens: c.minTokens, held: c.held, parallel: c.parallel}
		if (r.RPM > 0 && c.minReqs >= r.RPM) || (r.RPD > 0 && c.dayReqs >= r.RPD) ||
			(r.TPM > 0 && !tokensFit(r.TPM, used[i], estimate)) || (r.Parallel > 0 && c.parallel >= r.Parallel) {
			ok = false
		}
	}
	if !ok {
		return false
	}
	for _, r := range rules {
		c := m.get(r.Subject, now)
		c.minReqs++
		c.dayReqs++
		if r.TPM > 0 {
			c.held += estimate
		}
		if r.Parallel > 0 {
			c.parallel++
		}
	}
	return true
}

func (m *memory) settle(rules []Rule, estimate, tokens int64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rules {
		c := m.get(r.Subject, now)
		if r.TPM > 0 {
			c.held -= estimate
			c.minTokens += tokens
		}
		if r.Parallel > 0 {
			c.parallel--
		}
	}
}

// count adds settled tokens without touching holds (their hold lives in
// Redis, which failed at settlement).
func (m *memory) count(rules []Rule, tokens int64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rules {
		if r.TPM > 0 {
			m.get(r.Subject, now).minTokens += tokens
		}
	}
}

// sweep forgets subjects with nothing in flight whose windows are over, so
// the map holds only subjects active today.
func (m *memory) sweep(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, c := range m.subj {
		if c.held == 0 && c.parallel == 0 && c.day != dayOf(now) {
			delete(m.subj, k)
		}
	}
}
