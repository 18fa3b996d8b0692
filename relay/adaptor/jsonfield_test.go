package adaptor

import (
	"encoding/json"
	"testing"
)

func TestSetFieldChangesOnlyTheField(t *testing.T) {
	for _, tt := range []struct{ name, in, key, val, want string }{
		{"replace keeps spacing and order", `{"z":1,  "model" : "a" ,"messages":[{"model":"inner"}]}`, "model", `"b"`, `{"z":1,  "model" : "b" ,"messages":[{"model":"inner"}]}`},
		{"nested key is not top level", `{"x":{"model":"a"}}`, "model", `"b"`, `{"x":{"model":"a"},"model":"b"}`},
		{"add to empty object", `{ }`, "model", `"b"`, `{"model":"b" }`},
		{"add after last member", "{\"a\":[1,2]\n}", "stream_options", `{"include_usage":true}`, "{\"a\":[1,2],\"stream_options\":{\"include_usage\":true}\n}"},
		{"strings with braces and escapes", `{"a":"}\"{","model":"m"}`, "model", `"n"`, `{"a":"}\"{","model":"n"}`},
		{"unicode survives", `{"a":"héllo ✓","model":"m"}`, "model", `"n"`, `{"a":"héllo ✓","model":"n"}`},
		{"replace a non-string value", `{"model":null,"b":true}`, "model", `"n"`, `{"model":"n","b":true}`},
		{"last duplicate wins as in encoding/json", `{"model":"a","model":"b"}`, "model", `"c"`, `{"model":"a","model":"c"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got, err := SetField(in, tt.key, []byte(tt.val))
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
			if string(in) != tt.in {
				t.Fatal("SetField wrote into its input")
			}
		})
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":}`, `{"a" 1}`, `{"a":1`, `{"a":"x}`, `{a:1}`, `{"a":1,}`} {
		if _, err := SetField([]byte(bad), "model", []byte(`"m"`)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

// FuzzSetField: whatever the body, SetField never panics, and on a valid
// object its result is valid JSON whose field is the new value and whose
// other fields are unchanged.
func FuzzSetField(f *testing.F) {
	for _, s := range []string{`{"model":"a","messages":[]}`, `{}`, `{"a":{"model":1}}`, `{"a":"\"}"}`, `[1]`, `{"model":"a","model":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := SetField(body, "model", []byte(`"fuzz"`))
		var before map[string]json.RawMessage
		if json.Unmarshal(body, &before) != nil || before == nil {
			return
		}
		if err != nil {
			t.Fatalf("valid object %q refused: %v", body, err)
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("result %q of %q is not JSON: %v", out, body, err)
		}
		if string(after["model"]) != `"fuzz"` {
			t.Fatalf("model is %s in %q", after["model"], out)
		}
		for k, v := range before {
			if k != "model" && string(after[k]) != string(v) {
				t.Fatalf("field %q changed from %s to %s", k, v, after[k])
			}
		}
	})
}
