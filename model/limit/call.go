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
}

// Admit judges one call holding estimate tokens, writes the rate-limit
// headers into h, and returns the ticket to settle (nil when nothing
// limits the caller) or the 429 to answer.
func (c *Call) Admit(ctx context.Context, h http.Header, estimate int64) (*Ticket, error) {
	return c.Start(ctx, estimate).Wait(h)
}

// Start begins admitting one call (see Limiter.Start).
func (c *Call) Start(ctx context.Context, estimate int64) *Pending {
	return c.L.Start(ctx, c.Rules, estimate)
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
// OpenAI's SDKs read first.
func WriteHeaders(h http.Header, st State, ref *Refusal) {
	if st.LimitRequests > 0 {
		h["X-Ratelimit-Limit-Requests"] = []string{strconv.FormatInt(st.LimitRequests, 10)}
		h["X-Ratelimit-Remaining-Requests"] = []string{strconv.FormatInt(st.RemainingRequests, 10)}
		h["X-Ratelimit-Reset-Requests"] = []string{FormatReset(st.ResetRequests)}
	}
	if st.LimitTokens > 0 {
		h["X-Ratelimit-Limit-Tokens"] = []string{strconv.FormatInt(st.LimitTokens, 10)}
		h["X-Ratelimit-Remaining-Tokens"] = []string{strconv.FormatInt(st.RemainingTokens, 10)}
		h["X-Ratelimit-Reset-Tokens"] = []string{FormatReset(st.ResetTokens)}
	}
	if ref != nil {
		d := max(ref.RetryAfter, time.Millisecond)
		h["Retry-After"] = []string{strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)}
		h["Retry-After-Ms"] = []string{strconv.FormatInt(d.Milliseconds(), 10)}
	}
}
