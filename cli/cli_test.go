package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestChannelAddAndList(t *testing.T) {
	env := map[string]string{
		"SQLITE_PATH":           filepath.Join(t.TempDir(), "cli.db"),
		"INITIAL_ROOT_PASSWORD": "root-password-for-tests",
		"CRYPTO_SECRET":         "cli-secret",
		"BCRYPT_COST":           "4",
	}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	if code := Run([]string{"channel", "add", "--key", "sk-cli-key-000000001", "--type", "8", "--base-url", "http://127.0.0.1:9/v1", "--name", "from cli", "--models", "m1,m2", "--priority", "3"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("add: %d %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "added channel 1 (from cli)") {
		t.Fatalf("add said %q", out.String())
	}
	out.Reset()
	if code := Run([]string{"channel", "list"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("list: %d %s", code, errOut.String())
	}
	got := out.String()
	if !strings.Contains(got, "from cli") || !strings.Contains(got, "m1,m2") || !strings.Contains(got, "enabled") || strings.Contains(got, "sk-cli-key-000000001") {
		t.Fatalf("list:\n%s", got)
	}
	errOut.Reset()
	if code := Run([]string{"channel", "add", "--type", "8"}, getenv, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "--key is required") {
		t.Fatalf("add without key: %d %s", code, errOut.String())
	}
	errOut.Reset()
	if code := Run([]string{"channel", "add", "--key", "k", "--type", "8"}, getenv, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "base_url") {
		t.Fatalf("custom without base url: %d %s", code, errOut.String())
	}
	if code := Run([]string{"channel", "frobnicate"}, getenv, &out, &errOut); code == 0 {
		t.Fatal("unknown subcommand succeeded")
	}
}
