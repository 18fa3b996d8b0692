package scan

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	``, ` `, `{}`, `[]`, ` { } `, `[ ]`, `{"a":1}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{1:2}`,
	`"x"`, `"`, `"\"`, `"\\"`, `"\/\b\f\n\r\t"`, `"\x"`, `"\u00e9"`, `"\u00e"`, `"\u00eg"`, `"\uD83D\uDE00"`, `"\ud800"`,
	"\"tab\there\"", "\"nl\nhere\"", "\"\x7f\"", "\"\xff\xfe\"", "\"é世\"",
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e10`, `1.5.5`, `2a`, `+1`,
	`true`, `false`, `null`, `tru`, `nul`, `nulll`, `True`, `true false`, `[true,false,null]`,
	`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":10}`,
	`{"a":[1,{"b":"}"},"x\"y"],"c":null,"d":true}`, `{"a":{"b":{"c":[[[]]]}}}`, `[[[]]`, `[]]`, `{}}`, `{"a":1}x`,
	" \t\r\n[1]\n", "\v[1]", "[1\x00]",
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

func TestValidNestingLimit(t *testing.T) {
	for _, d := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"k":`} {
			closing := "]"
			if open != "[" {
				closing = "}"
			}
			b := []byte(strings.Repeat(open, d) + "1" + strings.Repeat(closing, d))
			if got, want := Valid(b), json.Valid(b); got != want {
				t.Errorf("depth %d of %q: Valid = %v, encoding/json says %v", d, open, got, want)
			}
		}
	}
}

func TestValidAllocatesNothing(t *testing.T) {
	b := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi \u00e9"}],"n":-1.5e3}`)
	if n := testing.AllocsPerRun(100, func() { Valid(b) }); n != 0 {
		t.Fatalf("Valid allocated %v times", n)
	}
}

// FuzzValid: Valid and encoding/json.Valid give the same answer on any
// input.
func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func benchBody(n int) []byte {
	msg := strings.Repeat(`The quick brown fox jumps over the lazy dog, "quoted" and \n escaped. `, n/72+1)
	b, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{{"role": "system", "content": "Be brief."}, {"role": "user", "content": msg}}, "max_tokens": 100})
	return b
}

func BenchmarkValid(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1 << 10}, {"100KB", 100 << 10}} {
		body := benchBody(size.n)
		b.Run("scan-"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Valid(body)
			}
		})
		b.Run("encoding-json-"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				json.Valid(body)
			}
		})
	}
}
