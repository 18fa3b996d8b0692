package relay

import (
	"fmt"
	"log/slog"
	"sync"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/pricing"
)

// Price is a call's price; relay/pricing computes with it.
type Price = pricing.Price

func priceOf(snap *model.OptionSnapshot, modelName, group string) Price {
	mr, _ := model.ModelRatioOf(snap, modelName)
	return Price{
		Model: mr, Completion: model.CompletionRatioOf(snap, modelName), Group: model.GroupRatio(snap, group),
		Cache: model.CacheRatioOf(snap, modelName), CacheCreation: model.CacheCreationRatio(snap),
	}
}

// unpriced is the refusal of a model without a price. UnknownModelRatio
// is 0 by default, so an unpriced model is refused rather than billed at
// zero or at a guess; the message tells the operator both ways out.
// Calls and channel tests are refused alike, before anything goes
// upstream.
func unpriced(modelName string) *errs.Error {
	return errs.Forbidden("model %s has no price on this relay: an admin must set its price in the ModelRatio option (and CompletionRatio for its output), or set UnknownModelRatio above 0 to bill every unpriced model at that flat ratio as One API does", modelName).WithCode("model_price_unset")
}

// priceLog says in the log, once per model and process, that a model has
// no price, so a client retrying an unpriced model does not flood it.
// Its zero value is ready.
type priceLog struct{ seen sync.Map }

func (p *priceLog) once(modelName string, refused bool) bool {
	_, seen := p.seen.LoadOrStore(priceLogKey{modelName, refused}, true)
	return !seen
}

type priceLogKey struct {
	model   string
	refused bool
}

// checkPrice refuses a model ModelRatio does not price unless
// UnknownModelRatio is above 0, in which case it bills at that ratio (One
// API's habit, 30 there). Either way the log says it once per model.
func (r *Relay) checkPrice(snap *model.OptionSnapshot, modelName string) error {
	ratio, known := model.ModelRatioOf(snap, modelName)
	if known {
		return nil
	}
	if ratio <= 0 {
		if r.priceLog.once(modelName, true) {
			slog.Warn("model refused: it has no price; set its ModelRatio, or UnknownModelRatio above 0 to bill unpriced models at a flat ratio", "model", modelName)
		}
		return unpriced(modelName)
	}
	if r.priceLog.once(modelName, false) {
		slog.Warn("model has no price: billed at UnknownModelRatio; set its ModelRatio", "model", modelName, "unknown_model_ratio", ratio)
	}
	return nil
}

// PriceWarning is what an admin is told about modelName's price after a
// passing channel test: "" when ModelRatio has one, else that its calls
// bill at UnknownModelRatio (a test only passes unpriced when that is
// above 0).
func PriceWarning(snap *model.OptionSnapshot, modelName string) string {
	ratio, known := model.ModelRatioOf(snap, modelName)
	if known {
		return ""
	}
	return fmt.Sprintf("model %s has no price: its calls bill at UnknownModelRatio %g until an admin sets its ModelRatio", modelName, ratio)
}
