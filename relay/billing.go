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

// PriceWarning is what an admin is told about modelName's price: "" when
// ModelRatio has one, else that calls bill at UnknownModelRatio.
func PriceWarning(snap *model.OptionSnapshot, modelName string) string {
	ratio, known := model.ModelRatioOf(snap, modelName)
	if known {
		return ""
	}
	return fmt.Sprintf("model %s has no price: its calls bill at UnknownModelRatio %g until an admin sets its ModelRatio", modelName, ratio)
}
