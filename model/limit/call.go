package limit

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Call is the rules one caller's calls are judged by (its token's, its
// user's and its group's), as token auth found them. The relay admits
// each call with it where the ledger reserves.
type Call struct {
	L     *Limiter
	Rules []Rule
	// args are the rules' script arguments, boxed once (NewCall).
	args *ruleArgs
}

// NewCall is the Call for rules, all of which limit something; build it
// once and share it between the calls it judges (it is not changed).
func NewCall(l *Limiter, rules []Rule) *Call {
	return &Call{L: l, Rules: rules, args: boxRules(rules)}
}

// Admit judges one call holding estimate tokens, writes the rate-limit
// headers into h, and returns the ticket to settle (nil when nothing
// limits the caller) or the 429 to answer.
func (c *Call) Admit(ctx context.Context, h http.Header, estimate int64) (*Ticket, error) {
	return c.Start(ctx, estimate).Wait(h)
}

// Start begins admitting one call (see Limiter.Start).
func (c *Call) Start(ctx context.Context, estimate int64) *Pending {
	return c.L.start(ctx, c.Rules, c.args, estimate)
}

// Wait finishes the admission: it writes the rate-limit headers into h and
// returns the ticket to settle, or the 429 to answer.
func (p *Pending) Wait(h http.Header) (*Ticket, error) {
	t, st, ref := p.Result()
	WriteHeaders(h, st, ref)
	if ref != nil {
		return nil, ref.Error()
	}
	return t, nil
}

// WriteHeaders sets OpenAI's rate-limit headers for st, and on a refusal
// Retry-After (whole seconds, rounded up) and retry-after-ms, which
// OpenAI's SDKs read first. It is on every limited answer, so the values
// share one string and one slice backing.
func WriteHeaders(h http.Header, st State, ref *Refusal) {
	var keys [8]string
	var ends [8]int
	var buf [160]byte
	b, n := buf[:0], 0
	put := func(k string, b []byte) {
		keys[n], ends[n] = k, len(b)
		n++
	}
	if st.LimitRequests > 0 {
		b = strconv.AppendInt(b, st.LimitRequests, 10)
		put("X-Ratelimit-Limit-Requests", b)
		b = strconv.AppendInt(b, st.RemainingRequests, 10)
		put("X-Ratelimit-Remaining-Requests", b)
		b = appendReset(b, st.ResetRequests)
		put("X-Ratelimit-Reset-Requests", b)
	}
	if st.LimitTokens > 0 {
		b = strconv.AppendInt(b, st.LimitTokens, 10)
		put("X-Ratelimit-Limit-Tokens", b)
		b = strconv.AppendInt(b, st.RemainingTokens, 10)
		put("X-Ratelimit-Remaining-Tokens", b)
		b = appendReset(b, st.ResetTokens)
		put("X-Ratelimit-Reset-Tokens", b)
	}
	if ref != nil {
		d := max(ref.RetryAfter, time.Millisecond)
		b = strconv.AppendInt(b, int64(math.Ceil(d.Seconds())), 10)
		put("Retry-After", b)
		b = strconv.AppendInt(b, d.Milliseconds(), 10)
		put("Retry-After-Ms", b)
	}
	if n == 0 {
		return
	}
	all := string(b)
	vals := make([]string, n)
	from := 0
	for i := range n {
		vals[i] = all[from:ends[i]]
		from = ends[i]
		h[keys[i]] = vals[i : i+1 : i+1]
	}
}
