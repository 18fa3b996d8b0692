package relay

import (
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
