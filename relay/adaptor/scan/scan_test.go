package scan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendString: on every valid JSON string, AppendString decodes what
// encoding/json decodes (for valid UTF-8 input and valid surrogates).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\nb\t\"q\"\\\/"`, `"\u00e9\u4e16\ud83d\ude00"`, `"\ud800x"`, `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		// Values come to AppendString as the scanner cut them: no space
		// around.
		v = bytes.TrimSpace(v)
		var want string
		if !json.Valid(v) || json.Unmarshal(v, &want) != nil {
			return
		}
		got := string(AppendString(nil, v))
		if got != want && validRunes(got) && validRunes(want) {
			t.Fatalf("%q: got %q, want %q", v, got, want)
		}
	})
}

func validRunes(s string) bool {
	for _, r := range s {
		if r == 0xFFFD {
			return false
		}
	}
	return true
}

func TestObjectAndArray(t *testing.T) {
	v := []byte(` { "a" : [1, {"b":"}"}, "x\"y"] , "c":null,"d":true} `)
	o, ok := ObjectOf(v)
	if !ok {
		t.Fatal("not an object")
	}
	var keys []string
	for k, val, more := o.Next(); more; k, val, more = o.Next() {
		keys = append(keys, string(k)+"="+string(val))
	}
	if len(keys) != 3 || keys[0] != `a=[1, {"b":"}"}, "x\"y"]` || keys[1] != "c=null" || keys[2] != "d=true" {
		t.Fatalf("%q", keys)
	}
	a, _ := ArrayOf([]byte(`[1, {"b":"}"}, "x\"y"]`))
	n := 0
	for _, more := a.Next(); more; _, more = a.Next() {
		n++
	}
	if n != 3 {
		t.Fatalf("%d elements", n)
	}
	if !Fold([]byte("MODEL"), "model") || Is([]byte("Model"), "model") || !Is([]byte(`mod\u0065l`), "model") {
		t.Fatal("key matching")
	}
	if n, ok := Int([]byte("12")); !ok || n != 12 {
		t.Fatal("int")
	}
	if _, ok := Int([]byte("1e2")); ok {
		t.Fatal("1e2 is not an int for encoding/json")
	}
}

// TestScanNeverPanics: every prefix of valid bodies and every one of them
// with a byte replaced by a JSON delimiter is walked as far as it goes
// (objects, arrays and every reader of a value) without a panic or an
// endless loop. The upstream's answers are metered without json.Valid.
func TestScanNeverPanics(t *testing.T) {
	bodies := []string{
		`{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\" \u00e9\ud83d\ude00 \\ /"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":-9,"prompt_tokens_details":{"cached_tokens":0}}}`,
		`[1, 2.5e3, true, false, null, "x", {"a": [ {}, [] ]}]`,
		` { "k\u0041y" : "v\n" , "n" : [ "\u12", "\ud800" ] } `,
	}
	muts := []byte(`"{}[],:\ u`)
	var inputs [][]byte
	for _, b := range bodies {
		for i := 0; i <= len(b); i++ {
			inputs = append(inputs, []byte(b[:i]))
			if i < len(b) {
				for _, m := range muts {
					c := []byte(b)
					c[i] = m
					inputs = append(inputs, c)
				}
			}
		}
	}
	for _, in := range inputs {
		steps := 0
		walk(t, in, 0, &steps)
	}
}

func walk(t *testing.T, v []byte, depth int, steps *int) {
	if *steps++; *steps > 100000 || depth > 64 {
		t.Fatalf("no end walking %q", v)
	}
	_, _ = String(v)
	_, _ = Int(v)
	_, _ = Bool(v)
	_ = AppendString(nil, v)
	_, _ = Plain(v)
	_ = StringIs(v, "x")
	_ = Len(v)
	if o, ok := ObjectOf(v); ok {
		for k, val, more := o.Next(); more; k, val, more = o.Next() {
			_ = Is(k, "id") || Fold(k, "ID")
			walk(t, val, depth+1, steps)
		}
	}
	if a, ok := ArrayOf(v); ok {
		for e, more := a.Next(); more; e, more = a.Next() {
			walk(t, e, depth+1, steps)
		}
	}
}
