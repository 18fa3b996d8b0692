package relay

import (
	"context"
	"net/http"

	"switchyard/model/limit"
	"switchyard/relay/adaptor"
)

// Limits admits a call against the caller's rate limits (issue 11). The
// engine calls Admit where the ledger reserves, with the call's token
// estimate, and settles the ticket exactly once where the ledger settles,
// with the prompt + completion tokens the call used. A nil Limits is no
// limit. *limit.Call is the implementation token auth builds.
type Limits interface {
	// Admit writes the rate-limit headers into h and returns the ticket,
	// or the 429 (an *errs.Error) that refuses the call.
	Admit(ctx context.Context, h http.Header, estimate int64) (*limit.Ticket, error)
}

// tokenEstimate is the tokens a call holds against TPM limits while in
// flight: the prompt counted locally plus the completion budget, as the
// quota estimate counts them.
func tokenEstimate(req *adaptor.Request, prompt, preConsumed int) int64 {
	budget := req.MaxTokens
	if budget <= 0 {
		budget = preConsumed
	}
	switch req.Mode {
	case adaptor.ModeEmbeddings, adaptor.ModeModerations, adaptor.ModeSpeech, adaptor.ModeImages:
		budget = 0
	}
	return int64(prompt) + int64(max(budget, 0))
}

// admit judges c against its caller's limits. The ticket is nil when
// nothing limits the caller; Settle on nil does nothing.
func (r *Relay) admit(ctx context.Context, w http.ResponseWriter, c *call, estimate int64) (*limit.Ticket, error) {
	if c.caller.Limits == nil {
		return nil, nil
	}
	return c.caller.Limits.Admit(ctx, w.Header(), estimate)
}

// settleLimits settles the caller's ticket and the serving channel's cap
// with the tokens the call used (0 when it failed).
func (r *Relay) settleLimits(ctx context.Context, c *call, t *limit.Ticket) {
	t.Settle(ctx, c.tokens)
	if c.lease != nil {
		c.lease.ticket.Settle(ctx, c.tokens)
		c.lease = nil
	}
}
