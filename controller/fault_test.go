package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/faultproxy"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestBlackHoledDatabaseAnswers503 is part of defect 5 of issue 13:
// against a database that stopped answering, cold token lookups and the
// management API hung with no statement timeout. Now they answer 503 in
// their route's error shape within SQL_STATEMENT_TIMEOUT.
func TestBlackHoledDatabaseAnswers503(t *testing.T) {
	for _, db := range testkit.Databases() {
		if db == "sqlite" {
			continue // a file: nothing to black-hole
		}
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			p := faultproxy.Start(t, testkit.ServerAddr(db))
			app := testkit.Start(t, db, map[string]string{"SQL_DSN": testkit.FreshDSN(t, db, p), "SQL_STATEMENT_TIMEOUT": "1"})
			user := app.NewUser(t, model.RoleCommon)
			var created tokenReply
			user.Do("POST", "/api/token/", map[string]any{"name": "cold", "remain_quota": 5000, "expired_time": -1}).Want(t, 200, true).Decode(t, &created)

			p.BlackHole()
			// The client gives up long after the bound, so an answer at all
			// shows the server bounded the wait.
			client := &http.Client{Timeout: 20 * time.Second}
			body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{{"role": "user", "content": "hi"}}})
			req, _ := http.NewRequest("POST", app.URL+"/v1/chat/completions", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+created.Key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("cold token lookup against a black-holed database: %v", err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var oe struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(raw, &oe); err != nil || resp.StatusCode != 503 || oe.Error.Type != "service_unavailable" || oe.Error.Message == "" {
				t.Fatalf("cold token lookup answered %d %s, want 503 service_unavailable in OpenAI's shape", resp.StatusCode, raw)
			}
			// Management: a listing that must read the database.
			user.Do("GET", "/api/token/", nil).WantFail(t, 503, "did not answer in time")

			p.Heal()
			testkit.Eventually(t, 15*time.Second, "the management API answers once the database is back", func() bool {
				r := user.Do("GET", "/api/token/", nil)
				return r.Status == 200
			})
		})
	}
}

// TestBacklogIsCountedWhileTheDatabaseRefuses is part of defect 1 of
// issue 13: switchyard_ledger_backlog read 0 while settlements waited.
// With the database refused, relayed calls go on, and the metric and
// /readyz's detail count every settlement waiting; once the database is
// back they drain to zero and every call is billed once.
func TestBacklogIsCountedWhileTheDatabaseRefuses(t *testing.T) {
	for _, db := range testkit.Databases() {
		if db == "sqlite" {
			continue // a file: nothing to refuse
		}
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			up := fakeupstream.Start(fakeupstream.Behavior{})
			defer up.Close()
			p := faultproxy.Start(t, testkit.ServerAddr(db))
			app := testkit.Start(t, db, map[string]string{"SQL_DSN": testkit.FreshDSN(t, db, p), "METRICS_ENABLED": "true", "SQL_STATEMENT_TIMEOUT": "2"})
			f := newRelayFixture(t, app, 1_000_000, nil)
			f.channel(t, map[string]any{"name": "up", "base_url": up.URL, "models": "gpt-4o"})
			c := f.client(f.tok.Key)
			const calls = 12
			if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o")); err != nil {
				t.Fatal(err)
			}
			app.Settle(t)
			p.Refuse()
			for range calls {
				if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o")); err != nil {
					t.Fatalf("a relayed call with the database refused: %v", err)
				}
			}
			testkit.Eventually(t, 15*time.Second, "the metric counts the waiting settlements", func() bool {
				return backlogMetric(t, app) >= calls
			})
			var ready struct {
				Status string `json:"status"`
				Detail struct {
					Backlog int64 `json:"ledger_backlog"`
				} `json:"detail"`
			}
			r := app.Anon(t).Do("GET", "/readyz", nil)
			if err := json.Unmarshal(r.Raw, &ready); err != nil || r.Status != 503 || ready.Detail.Backlog < calls {
				t.Fatalf("readyz with the database refused: %d %s, want 503 with a backlog of at least %d", r.Status, r.Raw, calls)
			}
			p.Heal()
			testkit.Eventually(t, 20*time.Second, "the backlog drains once the database is back", func() bool {
				return backlogMetric(t, app) == 0
			})
			var n int64
			app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", f.user.UserID, model.LogConsume).Count(&n)
			if n != calls+1 {
				t.Fatalf("%d consume logs for %d calls", n, calls+1)
			}
		})
	}
}

// backlogMetric reads switchyard_ledger_backlog from /metrics.
func backlogMetric(t *testing.T, app *testkit.App) int64 {
	t.Helper()
	resp, err := http.Get(app.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "switchyard_ledger_backlog "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric line %q", line)
			}
			return int64(f)
		}
	}
	t.Fatalf("/metrics has no switchyard_ledger_backlog:\n%s", raw)
	return 0
}

// TestUpstreamRedirectsAndKeyEchoesStayInside is defects 7 and 8 of
// issue 13, end to end on the real binary, whose whole log is read: a 302
// from an upstream to an internal address is not followed (the internal
// service is never called, the client gets a 502), and an upstream error
// that echoes the channel's key, at any status, reaches neither the
// client, nor a log line, nor a stored log.
func TestUpstreamRedirectsAndKeyEchoesStayInside(t *testing.T) {
	const key = "sk-echo-secret-0123456789abcdefXYZ"
	var internalCalls atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"internal secrets"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer internal.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/admin/dump", http.StatusFound)
	}))
	defer redirecting.Close()
	var status atomic.Int64
	echoing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s. Key %s is not valid here.","type":"invalid_request_error","code":"bad_key_%s"}}`, key, key, key)
	}))
	defer echoing.Close()

	proc := testkit.StartProcess(t, testkit.Env(t, "sqlite", nil))
	f := newRelayFixture(t, proc.App, 1_000_000, nil)
	f.channel(t, map[string]any{"name": "redirects", "base_url": redirecting.URL, "models": "gpt-4o", "key": "sk-redirect-channel-key-0123456789"})
	f.channel(t, map[string]any{"name": "echoes", "base_url": echoing.URL, "models": "gpt-4o-mini", "key": key})
	c := f.client(f.tok.Key)

	_, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway {
		t.Fatalf("a 302 from the upstream answered %v, want a 502", err)
	}
	if n := internalCalls.Load(); n != 0 {
		t.Fatalf("the redirect target was called %d times", n)
	}
	for _, st := range []int{400, 402, 404, 409, 413, 422, 429, 500, 502, 503} {
		status.Store(int64(st))
		body, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": []map[string]string{{"role": "user", "content": "hi"}}})
		req, _ := http.NewRequest("POST", proc.URL+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.tok.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || strings.Contains(string(raw), key) || strings.Contains(string(raw), "0123456789abcdefXYZ") {
			t.Fatalf("upstream %d echoing the key reached the client as %d: %s", st, resp.StatusCode, raw)
		}
	}
	rows := proc.Tool(t)
	var leaked int64
	proc.Stop() // the stored logs are flushed, the process log complete
	rows.LogDB.Model(&model.Log{}).Where("content LIKE ?", "%0123456789abcdefXYZ%").Count(&leaked)
	if leaked != 0 {
		t.Fatalf("%d stored logs carry the channel's key", leaked)
	}
	if out := proc.Log(); strings.Contains(out, "0123456789abcdefXYZ") {
		t.Fatalf("the process log carries the channel's key:\n%s", out)
	}
	if !strings.Contains(proc.Log(), "relay") {
		t.Fatal("the process log is empty: nothing was checked")
	}
}
