//go:build e2e

// Package e2e runs the console in headless Chromium against a real
// Switchyard on SQLite and an OpenAI-compatible test upstream: the flow in
// console.mjs, driven by playwright-core under Node.js.
//
// It needs node on PATH and Chromium at /usr/bin/chromium (or $CHROMIUM).
// A failed step leaves its screenshots in web/e2e/screenshots (or
// $E2E_SCREENSHOT_DIR).
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchyard/internal/testkit"
	"switchyard/web"
)

// upstream answers chat completions in OpenAI's wire format, whole or as
// SSE, with usage, and lists its one model.
func upstream() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":null}}`, err.Error())
			return
		}
		const text = "Hello from the test upstream."
		id, created := "chatcmpl-e2e", time.Now().Unix()
		usage := map[string]int{"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"id": id, "object": "chat.completion", "created": created, "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": text}, "finish_reason": "stop"}},
				"usage":   usage,
			})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		flusher, _ := w.(http.Flusher)
		event := func(v any) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "data: %s\n\n", b)
			if flusher != nil {
				flusher.Flush()
			}
		}
		chunk := func(delta map[string]string, finish any) map[string]any {
			return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		}
		event(chunk(map[string]string{"role": "assistant"}, nil))
		for _, word := range strings.SplitAfter(text, " ") {
			event(chunk(map[string]string{"content": word}, nil))
		}
		event(chunk(map[string]string{}, "stop"))
		event(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model, "choices": []any{}, "usage": usage})
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":0,"owned_by":"e2e"}]}`)
	})
	return mux
}

// site serves the console next to the app's API, as the binary does: the
// API, the relay and the probes go to the app, everything else to the SPA.
func site(app http.Handler) http.Handler {
	console := web.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		for _, prefix := range []string{"/api/", "/v1/", "/metrics", "/healthz", "/readyz"} {
			if strings.HasPrefix(p, prefix) || p == strings.TrimSuffix(prefix, "/") {
				app.ServeHTTP(w, r)
				return
			}
		}
		console.ServeHTTP(w, r)
	})
}

func TestConsoleInChromium(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH; the console e2e test needs Node.js 18 or later")
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

	up := httptest.NewServer(upstream())
	t.Cleanup(up.Close)
	app := testkit.Start(t, "sqlite", nil)
	srv := httptest.NewServer(site(app.Server.Config.Handler))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "console.mjs"))
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(),
		"BASE_URL="+srv.URL,
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
}
