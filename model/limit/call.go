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

var (
	requestHeaders = [3]string{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"}
	tokenHeaders   = [3]string{"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"}
)

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
	for _, w := range [2]struct {
		limit, remaining int64
		reset            time.Duration
		names            *[3]string
	}{
		{st.LimitRequests, st.RemainingRequests, st.ResetRequests, &requestHeaders},
		{st.LimitTokens, st.RemainingTokens, st.ResetTokens, &tokenHeaders},
	} {
		if w.limit <= 0 {
			continue
		}
		b = strconv.AppendInt(b, w.limit, 10)
		put(w.names[0], b)
		b = strconv.AppendInt(b, w.remaining, 10)
		put(w.names[1], b)
		b = appendReset(b, w.reset)
		put(w.names[2], b)
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
