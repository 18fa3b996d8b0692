package fakekit

import "sync"

// Approvals is who a fake sign-in provider's authorize page approves as:
// one queued account per visit, the last staying once the others are
// used. Embed it and the fake has Approve.
type Approvals[A any] struct {
	mu sync.Mutex
	q  []A
}

// Approve queues accounts, in the order the visits will approve them.
func (p *Approvals[A]) Approve(accounts ...A) {
	p.mu.Lock()
	p.q = append(p.q, accounts...)
	p.mu.Unlock()
}

// Next is the account the next visit approves, false when none is queued.
func (p *Approvals[A]) Next() (A, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var a A
	if len(p.q) == 0 {
		return a, false
	}
	a = p.q[0]
	if len(p.q) > 1 {
		p.q = p.q[1:]
	}
	return a, true
}
