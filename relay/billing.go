package relay

import (
	"fmt"
	"log/slog"
	"math"
	"sync"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/adaptor"
)

// Price is what one call of a model costs a group, in One API's terms: a
// token at ModelRatio 1 costs 1 quota ($0.002 / 1K tokens at the default
// QuotaPerUnit of 500000 per dollar).
type Price struct {
	Model      float64
	Completion float64
	Group      float64
}

func priceOf(snap *model.OptionSnapshot, modelName, group string) Price {
	mr, _ := model.ModelRatioOf(snap, modelName)
	return Price{Model: mr, Completion: model.CompletionRatioOf(snap, modelName), Group: model.GroupRatio(snap, group)}
}

// unpriced is the refusal of a model without a price when
// UnknownModelRatio is 0: it would be billed at zero, which the relay
// never does silently. Calls and channel tests are refused alike.
func unpriced(modelName string) *errs.Error {
	return errs.Forbidden("model %s has no price on this relay: an admin must set its ModelRatio (and CompletionRatio) before it is served", modelName).WithCode("model_price_unset")
}

// warnedUnpriced remembers the models already logged as unpriced, so the
// log says it once per model and process, not once per call.
var warnedUnpriced sync.Map

// checkPrice refuses an unpriced model when UnknownModelRatio is 0 and
// logs, once per model, that it bills at UnknownModelRatio otherwise (One
// API's 30 by default, which makes a forgotten price obvious on the bill).
func checkPrice(snap *model.OptionSnapshot, modelName string) error {
	ratio, known := model.ModelRatioOf(snap, modelName)
	if known {
		return nil
	}
	if ratio <= 0 {
		slog.Warn("call refused: the model has no price and UnknownModelRatio is 0", "model", modelName)
		return unpriced(modelName)
	}
	if _, seen := warnedUnpriced.LoadOrStore(modelName, true); !seen {
		slog.Warn("model has no price: billed at UnknownModelRatio; set its ModelRatio", "model", modelName, "unknown_model_ratio", ratio)
	}
	return nil
}

// Quota is (prompt + completion × CompletionRatio) × ModelRatio ×
// GroupRatio, rounded up; a priced call never costs less than 1.
func (p Price) Quota(prompt, completion int) int64 {
	ratio := p.Model * p.Group
	q := int64(math.Ceil((float64(prompt) + float64(completion)*p.Completion) * ratio))
	if ratio > 0 && q <= 0 {
		q = 1
	}
	return q
}

// imageQuota prices n images: an image costs ModelRatio × 1000 tokens at
// the standard size, scaled by size and quality as OpenAI's price list is.
func (p Price) imageQuota(modelName, size, quality string, n int) int64 {
	if n <= 0 {
		n = 1
	}
	f := 1.0
	switch modelName {
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
	return int64(math.Ceil(p.Model * p.Group * 1000 * f * float64(n)))
}

// estimate is the quota reserved before a call goes upstream: the prompt
// counted locally plus the completion budget (max_tokens, else the
// PreConsumedQuota option read as tokens), priced.
func (p Price) estimate(req *adaptor.Request, prompt int, preConsumed int) int64 {
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

// PriceWarning is what an admin is told about modelName's price: "" when
// ModelRatio has one, else that calls bill at UnknownModelRatio.
func PriceWarning(snap *model.OptionSnapshot, modelName string) string {
	ratio, known := model.ModelRatioOf(snap, modelName)
	if known {
		return ""
	}
	return fmt.Sprintf("model %s has no price: its calls bill at UnknownModelRatio %g until an admin sets its ModelRatio", modelName, ratio)
}
