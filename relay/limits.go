package relay

import (
	"context"

	"switchyard/model"
	"switchyard/model/limit"
	"switchyard/relay/adaptor"
)

// Limits admits a call against the caller's rate limits (issue 11). The
// engine starts the admission where the ledger reserves, with the call's
// token estimate (with Redis its round trip overlaps the reservation's),
// waits for it, and settles the ticket exactly once where the ledger
// settles, with the prompt + completion tokens the call used. A nil Limits
// is no limit. *limit.Call is the implementation token auth builds.
type Limits interface {
	// Start begins the admission. Its Wait writes the rate-limit headers
	// and returns the ticket, or the 429 (an *errs.Error) that refuses.
	Start(ctx context.Context, estimate int64) *limit.Pending
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
	case adaptor.ModeEmbeddings, adaptor.ModeModerations, adaptor.ModeSpeech, adaptor.ModeImages, adaptor.ModeImageEdit:
		budget = 0
	}
	return int64(prompt) + int64(max(budget, 0))
}

// admitStart begins judging c against its caller's limits; nil (no
// limits) admits. Pending.Wait on nil returns a nil ticket, and Settle on
// a nil ticket does nothing.
func (r *Relay) admitStart(ctx context.Context, c *call) *limit.Pending {
	if c.caller.Limits == nil {
		return nil
	}
	return c.caller.Limits.Start(ctx, c.estTokens)
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

// settle settles the call's reservation and its rate limits (the caller's
// ticket and the serving channel's cap) with the tokens it used. A ledger
// that can carry the limits on its own round trip (AlongSettler) does, so
// both are applied when settle returns, in one trip to Redis.
func (r *Relay) settle(ctx context.Context, c *call, res Reservation, t *limit.Ticket, cost int64, log *model.Log) int64 {
	as, ok := res.(AlongSettler)
	if !ok || (t == nil && (c.lease == nil || c.lease.ticket == nil)) {
		r.settleLimits(ctx, c, t)
		return res.Settle(cost, log)
	}
	c.settles = limit.Settles{Tokens: c.tokens}
	c.settles.Tickets[0] = t
	if c.lease != nil {
		c.settles.Tickets[1] = c.lease.ticket
		c.lease = nil
	}
	return as.SettleAlong(cost, log, &c.settles)
}
