package channeltype

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Issue 10's list: every One API type with an OpenAI-compatible endpoint
// today, plus Google's and Amazon's own.
func TestCatalogueHasOneAPIsTypes(t *testing.T) {
	want := map[int]string{
		16: KindOpenAI, 17: KindOpenAI, 19: KindOpenAI, 23: KindOpenAI, 24: KindGemini, 26: KindOpenAI, 27: KindOpenAI,
		31: KindOpenAI, 32: KindOpenAI, 33: KindBedrock, 35: KindOpenAI, 37: KindOpenAI, 38: KindOpenAI, 40: KindOpenAI,
		41: KindOpenAI, 42: KindVertex, 47: KindOpenAI, 48: KindOpenAI, 49: KindOpenAI, 50: KindOpenAI, 51: KindOpenAI,
	}
	for n, kind := range want {
		ty, ok := Get(n)
		if !ok || ty.Adaptor != kind {
			t.Errorf("type %d: %+v %v, want kind %s", n, ty, ok, kind)
			continue
		}
		for _, p := range []string{ty.Vendor.PathPrefix, ty.Vendor.ChatPath, ty.Vendor.RerankPath} {
			if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
				t.Errorf("type %d: path %q must start with / and not end with one", n, p)
			}
		}
		if kind == KindOpenAI && !ty.BaseURLRequired && len(ty.Models) == 0 {
			t.Errorf("type %d has no default models", n)
		}
	}
	for _, n := range []int{33, 42, 37} {
		if ty, _ := Get(n); len(ty.Config) == 0 {
			t.Errorf("type %d reads its credentials from the config but lists no config keys", n)
		}
	}
}

// The README's channel-type table names every type the registry serves.
func TestREADMEListsEveryType(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, ty := range All() {
		if !strings.Contains(string(raw), "\n| "+strconv.Itoa(ty.Number)+" | ") {
			t.Errorf("README's channel-type table lacks type %d (%s)", ty.Number, ty.Name)
		}
	}
}
