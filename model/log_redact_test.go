package model_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"switchyard/internal/testkit"
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

// TestLogRowsCarryATranslatableCode: a top-up row holds its sentence as a
// code and parameters besides the English content.
func TestLogRowsCarryATranslatableCode(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	root := app.Root(t)
	user := app.NewUser(t, model.RoleCommon)
	root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": 1234}).Want(t, 200, true)
	var l model.Log
	if err := app.Store.LogDB.Where("user_id = ? AND type = ?", user.UserID, model.LogManage).First(&l).Error; err != nil {
		t.Fatal(err)
	}
	var params map[string]any
	if l.Code != "admin_set_quota" || json.Unmarshal([]byte(l.Params), &params) != nil || params["to"] != float64(1234) ||
		l.Content != fmt.Sprintf("admin #%d set the quota from 0 to 1234", root.UserID) {
		t.Fatalf("manage log %+v", l)
	}
	for _, code := range model.LogCodes() {
		if code == "" || strings.ContainsAny(code, " {}") {
			t.Fatalf("log code %q is not a plain identifier", code)
		}
	}
}
