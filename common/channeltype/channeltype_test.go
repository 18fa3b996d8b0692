package channeltype

import (
	"net/url"
	"testing"
)

func TestRegistryRowsAreWhole(t *testing.T) {
	kinds := map[string]bool{KindOpenAI: true, KindAzure: true, KindAnthropic: true, KindGemini: true, KindVertex: true, KindBedrock: true}
	balances := map[string]bool{"": true, BalanceOpenAI: true, BalanceOpenRouter: true, BalanceDeepSeek: true, BalanceSiliconFlow: true}
	seen := map[int]bool{}
	for _, ty := range All() {
		t.Run(ty.Name, func(t *testing.T) {
			if seen[ty.Number] || ty.Number <= 0 {
				t.Fatalf("number %d repeated or not positive", ty.Number)
			}
			seen[ty.Number] = true
			if !kinds[ty.Adaptor] {
				t.Fatalf("adaptor kind %q unknown", ty.Adaptor)
			}
			if !balances[ty.Vendor.Balance] {
				t.Fatalf("balance style %q unknown", ty.Vendor.Balance)
			}
			u, err := url.Parse(ty.BaseURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("base URL %q", ty.BaseURL)
			}
			if ty.Other != "" && ty.OtherDefault == "" {
				t.Fatalf("the other field %q has no default", ty.Other)
			}
			if ty.Models == nil || ty.Config == nil {
				t.Fatal("nil lists render as null to the console")
			}
			if got, ok := Get(ty.Number); !ok || got.Name != ty.Name {
				t.Fatalf("Get(%d) = %+v, %v", ty.Number, got, ok)
			}
		})
	}
	if _, ok := Get(99); ok {
		t.Fatal("type 99 is not served")
	}
}
