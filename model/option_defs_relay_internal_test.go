package model

import "testing"

// TestLookupRatio: an exact entry wins; else the longest entry that the
// model name extends at a separator (-, : or @); never a bare prefix.
func TestLookupRatio(t *testing.T) {
	m := map[string]float64{"gpt-4o": 1.25, "gpt-4o-mini": 0.075, "claude-3-5-sonnet": 1.5, "llama3": 0.1, "o1": 7.5}
	for _, tc := range []struct {
		model string
		want  float64
		ok    bool
	}{
		{"gpt-4o", 1.25, true},
		{"gpt-4o-2024-08-06", 1.25, true},
		{"gpt-4o-mini-2024-07-18", 0.075, true},
		{"gpt-4o-mini", 0.075, true},
		{"claude-3-5-sonnet@20241022", 1.5, true},
		{"llama3:70b", 0.1, true},
		{"o1-preview", 7.5, true},
		{"gpt-4omni", 0, false},
		{"o1x", 0, false},
		{"gpt", 0, false},
		{"-gpt-4o", 0, false},
		{"", 0, false},
		{"模型-gpt-4o", 0, false},
	} {
		got, ok := lookupRatio(m, tc.model)
		if got != tc.want || ok != tc.ok {
			t.Errorf("lookupRatio(%q) = %v, %v; want %v, %v", tc.model, got, ok, tc.want, tc.ok)
		}
	}
}
