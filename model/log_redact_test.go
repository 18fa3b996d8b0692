package model_test

import (
	"encoding/json"
	"strings"
	"testing"

	"switchyard/model"
)

func TestRedactSecretsHidesCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, in, secret string
	}{
		{"sk key in a prompt", `{"messages":[{"role":"user","content":"use sk-proj-ABCDEFGHIJKLMNOP123456"}]}`, "ABCDEFGHIJKLMNOP123456"},
		{"anthropic key", `key sk-ant-api03-abcdefghijklmnopqrstu`, "abcdefghijklmnopqrstu"},
		{"api_key member", `{"api_key":"whatever-it-is","model":"m"}`, "whatever-it-is"},
		{"Authorization member", `{"Authorization":"Basic dXNlcjpwYXNz"}`, "dXNlcjpwYXNz"},
		{"password member with escapes", `{"password":"p\"w\\d"}`, `p\"w`},
		{"google key", `AIzaSyA1234567890abcdefghijklmnopqrstu`, "SyA1234567890abcdefghij"},
		{"aws key id", `AKIAIOSFODNN7EXAMPLE`, "IOSFODNN7EXAMPLE"},
		{"bearer", `header Bearer eyJhbGciOiJIUzI1NiJ9.payload`, "eyJhbGciOiJIUzI1NiJ9"},
		{"signed URL", `{"url":"https://x.test/i.png?X-Amz-Signature=abc123def&size=2"}`, "abc123def"},
		{"unicode around", `密钥是 sk-abcdefghijklmnopqrst 谢谢`, "abcdefghijklmnopqrst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := model.RedactSecrets(tc.in)
			if strings.Contains(out, tc.secret) || !strings.Contains(out, "[redacted]") {
				t.Fatalf("RedactSecrets(%q) = %q", tc.in, out)
			}
		})
	}
	// JSON stays JSON and ordinary text is untouched.
	in := `{"model":"gpt-4o-mini","api_key":"sk-abcdefghijklmnopqrstuv","messages":[{"role":"user","content":"hello, 你好; DROP TABLE logs;--"}]}`
	out := model.RedactSecrets(in)
	if !json.Valid([]byte(out)) || !strings.Contains(out, `"content":"hello, 你好; DROP TABLE logs;--"`) {
		t.Fatalf("redaction broke the JSON or the text: %s", out)
	}
	if plain := "a bearer of news and a keyboard"; model.RedactSecrets(plain) != plain {
		t.Fatalf("plain text changed: %q", model.RedactSecrets(plain))
	}
}
