package openai

import "testing"

// TestWithModelFillsOnlyAMissingModel pins what the engines path does to a
// body: the path's model goes in only where the body names none, and every
// other byte stays as the client wrote it.
func TestWithModelFillsOnlyAMissingModel(t *testing.T) {
	for _, tc := range []struct{ name, in, model, want string }{
		{"no model", `{"input":"hi"}`, "m", `{"input":"hi","model":"m"}`},
		{"empty object", `{ }`, "m", `{"model":"m" }`},
		{"empty model", `{"model":"","input":"x"}`, "m", `{"model":"m","input":"x"}`},
		{"null model", `{"model":null}`, "m", `{"model":"m"}`},
		{"model named", `{"model":"b","input":"x"}`, "m", `{"model":"b","input":"x"}`},
		{"wrong type kept for the parser", `{"model":7}`, "m", `{"model":7}`},
		{"not an object", `["x"]`, "m", `["x"]`},
		{"malformed", `{"input":`, "m", `{"input":`},
		{"no path model", `{"input":"x"}`, "", `{"input":"x"}`},
		{"quotes escaped", `{}`, `a"b`, `{"model":"a\"b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(withModel([]byte(tc.in), tc.model)); got != tc.want {
				t.Fatalf("withModel(%s, %q) = %s, want %s", tc.in, tc.model, got, tc.want)
			}
		})
	}
}
