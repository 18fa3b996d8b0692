package model

import (
	"math"
	"testing"

	"switchyard/common/channeltype"
)

// The list prices reach the option defaults, converted to One API's unit,
// whatever order the package's init functions run in.
func TestListPricesAreTheDefaults(t *testing.T) {
	ratios := parseRatioMap(optionDefs["ModelRatio"].Default)
	completions := parseRatioMap(optionDefs["CompletionRatio"].Default)
	cases := []struct {
		model             string
		ratio, completion float64
	}{
		{"gemini-2.5-flash", 0.15, 2.5 / 0.3},
		{"gemini-2.5-pro", 0.625, 8},
		{"claude-sonnet-4-5", 1.5, 5},
		{"gpt-5", 0.625, 8},
		{"glm-4.6", 0.3, 2.2 / 0.6},
	}
	for _, c := range cases {
		if r := ratios[c.model]; r != c.ratio {
			t.Errorf("%s: ModelRatio %v, want %v", c.model, r, c.ratio)
		}
		if r := completions[c.model]; math.Abs(r-c.completion) > 1e-9 {
			t.Errorf("%s: CompletionRatio %v, want %v", c.model, r, c.completion)
		}
	}
	// Vertex AI names Claude "claude-sonnet-4-5@20250929": it prices by prefix.
	if r, ok := lookupRatio(ratios, "claude-sonnet-4-5@20250929"); !ok || r != 1.5 {
		t.Errorf("Vertex Claude name: %v %v", r, ok)
	}
	if r := parseRatioMap(optionDefs["CacheRatio"].Default)["gemini-2.0-flash"]; r != 0.25 {
		t.Errorf("gemini-2.0-flash CacheRatio %v", r)
	}
	if _, ok := ratios["gpt-4o"]; !ok {
		t.Error("One API's own defaults were lost")
	}
}

// An unpriced model is refused (UnknownModelRatio is 0 by default), so
// every model a channel type offers by default has a price: a new
// channel of any type serves its default models without the operator
// editing ratios.
func TestEveryDefaultModelHasAPrice(t *testing.T) {
	ratios := parseRatioMap(optionDefs["ModelRatio"].Default)
	for _, ty := range channeltype.All() {
		for _, m := range ty.Models {
			if _, ok := lookupRatio(ratios, m); !ok {
				t.Errorf("type %d (%s): default model %s has no price", ty.Number, ty.Name, m)
			}
		}
	}
}
