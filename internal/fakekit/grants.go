package fakekit

import (
	"strconv"
	"sync"
)

// Grants is what a fake OAuth provider keeps between its steps: the
// redirect URL the app is registered with, the one-time codes its
// authorize page gave out (each to the redirect URL registered then) and
// the access tokens issued for them. Embed it and the fake has
// SetRedirectURI and Code. The zero value is ready; CodePrefix and
// TokenPrefix, set before the fake serves, make its codes and tokens look
// like the provider's.
type Grants[A any] struct {
	CodePrefix, TokenPrefix string

	mu          sync.Mutex
	redirectURI string
	codes       map[string]grant[A]
	tokens      map[string]A
	sequence    int64
}

type grant[A any] struct {
	account     A
	redirectURI string
}

// SetRedirectURI changes the app's registered redirect URL, for an app
// whose address is known only once it runs.
func (g *Grants[A]) SetRedirectURI(u string) {
	g.mu.Lock()
	g.redirectURI = u
	g.mu.Unlock()
}

// RedirectURI is the app's registered redirect URL.
func (g *Grants[A]) RedirectURI() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.redirectURI
}

// Code issues a one-time code for a, granted to the registered redirect
// URL, as the authorize page would.
func (g *Grants[A]) Code(a A) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.codes == nil {
		g.codes = map[string]grant[A]{}
	}
	c := g.next(g.CodePrefix)
	g.codes[c] = grant[A]{a, g.redirectURI}
	return c
}

// Redeem spends code, whatever the fake then decides about the request
// (a code is good for one try): its account and the redirect URL it was
// granted to, false when it was never issued or is spent already.
func (g *Grants[A]) Redeem(code string) (a A, redirectURI string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.codes[code]
	delete(g.codes, code)
	return gr.account, gr.redirectURI, ok
}

// Issue makes an access token that stands for a.
func (g *Grants[A]) Issue(a A) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tokens == nil {
		g.tokens = map[string]A{}
	}
	tok := g.next(g.TokenPrefix)
	g.tokens[tok] = a
	return tok
}

// Holder is the account an access token stands for, false for a token
// never issued.
func (g *Grants[A]) Holder(token string) (A, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok := g.tokens[token]
	return a, ok
}

// next is prefix and a number never used before; g.mu is held.
func (g *Grants[A]) next(prefix string) string {
	g.sequence++
	return prefix + strconv.FormatInt(g.sequence, 10)
}
