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
