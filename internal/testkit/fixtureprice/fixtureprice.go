// Package fixtureprice prices the made-up model names the tests relay
// ("m", "a", "alias", ...). A relay refuses a model without a price (403
// model_price_unset; UnknownModelRatio is 0 by default), so every test
// app prices these as an operator prices a model before serving it:
// testkit.Start does it for the integration tests and the relay
// package's harness for its own. Real model names keep their default list
// prices, and any other made-up name is refused as in production: a new
// test that relays one adds it to Models or sets ModelRatio itself.
//
// TestUnpricedModelIsRefused (controller/price_test.go) pins the default
// with a name that is not here.
//
// It is a package of its own, importing nothing of ours, so that the
// relay package's own tests can use it without an import cycle through
// testkit.
package fixtureprice

import (
	"encoding/json"
	"fmt"
)

// Ratio is the price of every fixture model: One API's unknown-model
// ratio, so that the sums the tests wrote when unpriced models billed at
// 30 still hold.
const Ratio = 30

// Models are the fixture names. Prefixes price their variants as
// ModelRatio always does ("claude" covers "claude-x", not
// "claude-sonnet-4-5", which has its own default price).
var Models = []string{
	"m", "a", "b", "c", "n", "x", "up", "inner", "other", "alias", "real", "real-model",
	"shared-model", "broken-model", "claude", "gpt-test", "gpt-41-mini", "gemini-tts",
}

// Merge adds Models at Ratio to modelRatio, the ModelRatio option's JSON,
// and returns the new value.
func Merge(modelRatio string) (string, error) {
	ratios := map[string]float64{}
	if err := json.Unmarshal([]byte(modelRatio), &ratios); err != nil {
		return "", fmt.Errorf("fixtureprice: ModelRatio: %w", err)
	}
	for _, m := range Models {
		ratios[m] = Ratio
	}
	b, err := json.Marshal(ratios)
	return string(b), err
}
