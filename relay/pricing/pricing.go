// Package pricing is the one place a relayed call is priced: a Price (the
// model's, completion, group and cache ratios in One API's unit) and the
// neutral usage give the quota, in integers that saturate instead of
// wrapping. It imports nothing of the data layer, so it is fuzzed alone.
package pricing

import (
	"math"
	"math/bits"

	"switchyard/relay/adaptor"
)

// Price is what one call of a model costs a group, in One API's terms: a
// token at ModelRatio 1 costs 1 quota ($0.002 / 1K tokens at the default
// QuotaPerUnit of 500000 per dollar). Completion prices completion tokens
// against prompt tokens; Cache and CacheCreation price prompt tokens that
// were cache reads and cache writes.
type Price struct {
	Model         float64
	Completion    float64
	Group         float64
	Cache         float64
	CacheCreation float64
}

// ratioScale is the fixed point of ratios in Cost: a millionth.
const ratioScale = 1_000_000

// scaled is r in millionths, rounded, saturating; NaN and negatives are 0.
func scaled(r float64) uint64 {
	if !(r > 0) {
		return 0
	}
	if r >= float64(math.MaxUint64)/ratioScale {
		return math.MaxUint64
	}
	return uint64(math.Round(r * ratioScale))
}

func tokens(n int) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64(n)
}

func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// Cost is what usage costs at p, in quota: (uncached prompt + cache reads
// × Cache + cache writes × CacheCreation + completion × Completion) ×
// Model × Group, rounded up; a priced call never costs less than 1. It is
// computed in integers (ratios in millionths, 128-bit products) and
// saturates at math.MaxInt64, so no figure a client or an upstream sends
// can wrap it negative. This is the one place a call is priced.
func (p Price) Cost(u adaptor.Usage) int64 {
	cached, created := tokens(u.CachedTokens), tokens(u.CacheCreationTokens)
	prompt := tokens(u.PromptTokens)
	uncached := uint64(0)
	if prompt > cached+created && cached+created >= cached {
		uncached = prompt - cached - created
	}
	w := satMul(uncached, ratioScale)
	w = satAdd(w, satMul(cached, scaled(p.Cache)))
	w = satAdd(w, satMul(created, scaled(p.CacheCreation)))
	w = satAdd(w, satMul(tokens(u.CompletionTokens), scaled(p.Completion)))
	mg := scaled(p.Model * p.Group)
	if mg == 0 {
		return 0
	}
	if w == math.MaxUint64 {
		// The weighted tokens alone overflowed: the cost is beyond any
		// balance.
		return math.MaxInt64
	}
	// w × mg / ratioScale², rounded up, in 128 bits.
	const d = ratioScale * ratioScale
	hi, lo := bits.Mul64(w, mg)
	if hi >= d {
		return math.MaxInt64
	}
	q, rem := bits.Div64(hi, lo, d)
	if rem > 0 {
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	if q == 0 {
		return 1
	}
	return int64(q)
}

// Quota prices prompt and completion tokens without cache detail.
func (p Price) Quota(prompt, completion int) int64 {
	return p.Cost(adaptor.Usage{PromptTokens: prompt, CompletionTokens: completion})
}

// Image prices n images: an image costs ModelRatio × 1000 tokens at
// the standard size, scaled by size and quality as OpenAI's price list is.
func (p Price) Image(modelName, size, quality string, n int) int64 {
	if n <= 0 {
		n = 1
	}
	f := 1.0
	switch modelName {
	case "gpt-image-1":
		// OpenAI's list: low, medium and high cost about 1/4, 1 and 4
		// times medium's $0.042 at 1024x1024; the tall and wide sizes
		// about 1.5 times.
		switch quality {
		case "low":
			f = 0.25
		case "high":
			f = 4
		}
		if size == "1024x1536" || size == "1536x1024" {
			f *= 1.5
		}
	case "dall-e-2":
		switch size {
		case "256x256":
			f = 0.8
		case "512x512":
			f = 0.9
		}
	default:
		large := size == "1024x1792" || size == "1792x1024"
		switch {
		case quality == "hd" && large:
			f = 3
		case quality == "hd" || large:
			f = 2
		}
	}
	// As tokens at completion ratio 1: 1000 × f × n, priced by Cost.
	return Price{Model: p.Model, Group: p.Group}.Cost(adaptor.Usage{PromptTokens: int(math.Ceil(1000 * f * float64(n)))})
}

// Estimate is the quota reserved before a call goes upstream: the prompt
// counted locally plus the completion budget (max_tokens, else the
// PreConsumedQuota option read as tokens), priced. A huge max_tokens
// saturates: the reservation then takes the whole balance, which serves
// one such call at a time instead of wrapping to a negative hold.
func (p Price) Estimate(req *adaptor.Request, prompt int, preConsumed int) int64 {
	budget := req.MaxTokens
	if budget <= 0 {
		budget = preConsumed
	}
	switch req.Mode {
	case adaptor.ModeEmbeddings, adaptor.ModeModerations, adaptor.ModeSpeech:
		budget = 0
	case adaptor.ModeTranscription, adaptor.ModeTranslation:
		budget = preConsumed
	}
	return p.Quota(prompt, budget)
}
