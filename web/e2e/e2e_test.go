// Package e2e runs the console in headless Chromium against a real
// Switchyard on SQLite and the fake OpenAI upstream: the flow in
// console.mjs (register, sign in, create a token, top up, add and test a
// channel as root, relay a chat completion, find it in the logs, see the
// quota drop, switch the language), driven by playwright-core under Node.js.
//
// It needs node and npm on PATH and Chromium at /usr/bin/chromium (or
// $CHROMIUM); the test command installs Chromium where it is missing. The
// screenshots of a failed step are left in web/e2e/screenshots (or
// $E2E_SCREENSHOT_DIR).
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

func TestConsoleInChromium(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH; the console's browser test needs Node.js 18 or later")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (apt-get install -y chromium): %v", chromium, err)
	}
	webDir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		install.Dir = webDir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", webDir, err, out)
		}
	}
	shots := os.Getenv("E2E_SCREENSHOT_DIR")
	if shots == "" {
		shots = filepath.Join(webDir, "e2e", "screenshots")
	}

	up := fakeupstream.Start(fakeupstream.Behavior{})
	t.Cleanup(up.Close)
	// The router serves the embedded console at every other GET, as the
	// binary does, so the browser talks to exactly what users run.
	app := testkit.Start(t, "sqlite", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "console.mjs"))
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(),
		"BASE_URL="+app.URL,
		"ROOT_PASSWORD="+testkit.RootPassword,
		"UPSTREAM_URL="+up.URL,
		"SCREENSHOT_DIR="+shots,
		"CHROMIUM="+chromium,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("console flow failed (%v); screenshots of the failed step are in %s", err, shots)
	}
	if up.CallsTo("/v1/chat/completions") == 0 {
		t.Fatal("the flow passed but the upstream saw no chat completion")
	}
}
