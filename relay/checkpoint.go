package relay

import (
	"time"

	"switchyard/model"
	"switchyard/relay/adaptor"
)

// checkpointEvery is how often an open stream's charge so far is made
// durable, so that a crash bills what the client received (issue 13,
// defect 10: 50 open streams that had delivered 2,300 tokens were charged
// nothing after a kill -9).
const checkpointEvery = time.Second

// checkpoint records on the call's reservation what the stream has
// delivered so far: the upstream's usage where it gave some (OpenAI's comes
// only at the end, Anthropic's input tokens at the start), else the prompt
// counted once by the tokenizer and the text so far by its byte estimate.
// The ledger writes it with its next group commit, never once per event,
// and the settlement replaces it: it is what a crash bills, not the bill.
func (r *Relay) checkpoint(c *call, u *adaptor.Usage) {
	c.checkpointed = time.Now()
	cp, ok := c.res.(Checkpointer)
	if !ok || c.channel == nil {
		return
	}
	if c.exactPrompt == 0 {
		c.exactPrompt = r.exactPrompt(c)
	}
	so := adaptor.Usage{PromptTokens: c.exactPrompt, CompletionTokens: approxTokensOf(len(c.text))}
	if u != nil {
		if u.PromptTokens > 0 {
			so.PromptTokens = u.PromptTokens
		}
		so.CompletionTokens = max(so.CompletionTokens, u.CompletionTokens)
		so.CachedTokens, so.CacheCreationTokens, so.ReasoningTokens = u.CachedTokens, u.CacheCreationTokens, u.ReasoningTokens
	}
	cost := c.price.Cost(so)
	if !c.ckRecorded {
		// The record once, then only the figures: a new record every
		// second was most of a held stream's garbage (issue 14).
		c.ckRecorded = true
		cp.Checkpoint(cost, c.consumeLog(so, cost))
		return
	}
	cp.CheckpointFigures(cost, model.StreamFigures{Prompt: so.PromptTokens, Completion: so.CompletionTokens,
		Cached: so.CachedTokens, CacheCreation: so.CacheCreationTokens, Reasoning: so.ReasoningTokens})
}
