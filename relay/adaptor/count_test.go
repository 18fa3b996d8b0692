package adaptor

import "testing"

// CountOf takes the first count field present and refuses anything that
// is not a whole count, so a strange answer is counted locally instead.
func TestCountOfReadsOnlyCounts(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
		ok   bool
	}{
		{`{"totalTokens":12,"totalBillableCharacters":40}`, 12, true},
		{`{"input_tokens":7}`, 7, true},
		{`{"totalTokens":null,"input_tokens":7}`, 7, true},
		{`{"totalTokens":0}`, 0, true},
		{`{"totalBillableCharacters":40}`, 0, false},
		{`{"totalTokens":-1}`, 0, false},
		{`{"totalTokens":"7"}`, 0, false},
		{`{"totalTokens":7.5}`, 0, false},
		{`[]`, 0, false},
		{`not json`, 0, false},
	} {
		n, err := CountOf([]byte(tc.body), "totalTokens", "input_tokens")
		if (err == nil) != tc.ok || n != tc.want {
			t.Errorf("CountOf(%s) = %d, %v", tc.body, n, err)
		}
	}
}
