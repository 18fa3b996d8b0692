package middleware_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/internal/testkit"
	"switchyard/model"
)

const turnstileSecret = "turnstile-secret-key"

// siteverify is a local stand-in for Cloudflare's Turnstile siteverify
// endpoint: POST form secret/response/remoteip, answered with
// {"success", "error-codes"}. Tokens starting "good-" pass once.
type siteverify struct {
	URL   string
	mu    sync.Mutex
	seen  map[string]bool
	calls []url.Values
}

func startSiteverify(t *testing.T) *siteverify {
	sv := &siteverify{seen: map[string]bool{}}
	srv := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sv.mu.Lock()
		sv.calls = append(sv.calls, r.PostForm)
		token := r.PostForm.Get("response")
		var codes []string
		switch {
		case r.PostForm.Get("secret") != turnstileSecret:
			codes = []string{"invalid-input-secret"}
		case token == "":
			codes = []string{"missing-input-response"}
		case token == "garbage":
			sv.mu.Unlock()
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>bad gateway</html>")
			return
		case !strings.HasPrefix(token, "good-"):
			codes = []string{"invalid-input-response"}
		case sv.seen[token]:
			codes = []string{"timeout-or-duplicate"}
		}
		sv.seen[token] = true
		sv.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		out := map[string]any{"success": len(codes) == 0, "error-codes": append([]string{}, codes...)}
		if len(codes) == 0 {
			out["hostname"] = "localhost"
			out["challenge_ts"] = "2026-01-01T00:00:00.000Z"
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	sv.URL = srv
	return sv
}

// call returns the form that carried token (the parallel runs share one
// stand-in, so "the last call" would race).
func (sv *siteverify) call(token string) url.Values {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, c := range sv.calls {
		if c.Get("response") == token {
			return c
		}
	}
	return nil
}

func (sv *siteverify) wasAsked(token string) bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.seen[token]
}

func userCount(t *testing.T, app *testkit.App) int64 {
	t.Helper()
	var n int64
	if err := app.Store.DB.Model(&model.User{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTurnstile(t *testing.T) {
	sv := startSiteverify(t)
	testkit.ForEachDB(t, map[string]string{"TURNSTILE_VERIFY_URL": sv.URL}, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		mail := root.StartMail()
		anon := app.Anon(t)
		// Off by default: no token needed, the verifier is not asked.
		offToken := "good-off-" + testkit.Name("o")
		anon.Do("POST", "/api/user/register?turnstile="+offToken, map[string]string{"username": testkit.Name("t"), "password": "password-1"}).Want(t, 200, true)
		if sv.wasAsked(offToken) {
			t.Fatal("the verifier was asked while the check was off")
		}
		root.SetOption("TurnstileSiteKey", "site-key-1")
		root.SetOption("TurnstileSecretKey", turnstileSecret)
		root.SetOption("TurnstileCheckEnabled", "true")
		var status map[string]any
		anon.Do("GET", "/api/status", nil).Want(t, 200, true).Decode(t, &status)
		if status["turnstile_check"] != true || status["turnstile_site_key"] != "site-key-1" {
			t.Fatalf("status = %v", status)
		}
		users := userCount(t, app)

		register := func(query string) *testkit.Reply {
			return anon.Do("POST", "/api/user/register"+query, map[string]string{"username": testkit.Name("t"), "password": "password-1"})
		}
		register("").WantFail(t, 400, "Turnstile token is missing")
		register("?turnstile=").WantFail(t, 400, "Turnstile token is missing")
		register("?turnstile=forged").WantFail(t, 403, "invalid-input-response")
		register("?turnstile=garbage").WantFail(t, 502, "unreadable")
		if n := userCount(t, app); n != users {
			t.Fatalf("refused registrations wrote users: %d, want %d", n, users)
		}
		good := "good-" + testkit.Name("r")
		register("?turnstile="+good).Want(t, 200, true)
		form := sv.call(good)
		if form.Get("secret") != turnstileSecret || form.Get("response") != good || form.Get("remoteip") != "127.0.0.1" {
			t.Fatalf("siteverify got %v", form)
		}
		// Cloudflare accepts a token once.
		register("?turnstile="+good).WantFail(t, 403, "timeout-or-duplicate")

		addr := testkit.Name("t") + "@example.com"
		anon.Do("GET", "/api/verification?email="+addr, nil).WantFail(t, 400, "Turnstile token is missing")
		anon.Do("GET", "/api/reset_password?email="+addr, nil).WantFail(t, 400, "Turnstile token is missing")
		if mail.Pending() != 0 {
			t.Fatal("mail went out without a Turnstile pass")
		}
		anon.Do("GET", "/api/verification?turnstile=good-"+testkit.Name("v")+"&email="+addr, nil).Want(t, 200, true)
		if m := mail.Next(t); m.To[0] != addr {
			t.Fatalf("verification mail went to %v", m.To)
		}

		// A wrong secret in the options is reported, not waved through.
		root.SetOption("TurnstileSecretKey", "stale-secret")
		register("?turnstile=good-"+testkit.Name("s")).WantFail(t, 403, "invalid-input-secret")
	})
}

// limitedEnv turns one rate limit on; testkit turns them all off. It also
// trusts the loopback peer as a proxy, so each run can speak for a client
// IP of its own through X-Forwarded-For.
func limitedEnv(name string, n int) map[string]string {
	return map[string]string{name: strconv.Itoa(n), "TRUSTED_PROXIES": "127.0.0.1,::1"}
}

// step is one request of a rate-limit run and the status it must get.
type step struct {
	method, path string
	body         any
	status       int
}

// wantLimited sends steps as one client IP and checks each status, and
// that every 429 is a management error with Retry-After and a request id.
// The limits count in fixed windows, so a run that crosses a window
// boundary proves nothing: it is repeated as a fresh client IP, and only
// a run that stayed inside one window is judged.
func wantLimited(t *testing.T, app *testkit.App, window time.Duration, steps []step) {
	t.Helper()
	c := app.Anon(t)
	for attempt := 1; attempt <= 3; attempt++ {
		ip := fmt.Sprintf("198.51.100.%d", attempt)
		w := time.Now().UnixNano() / int64(window)
		var failure string
		for i, s := range steps {
			var rd io.Reader
			if s.body != nil {
				b, _ := json.Marshal(s.body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequest(s.method, app.URL+s.path, rd)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", ip)
			r := c.Send(req)
			bad429 := r.Status == 429 && (r.Success || !strings.Contains(r.Message, "too many requests") ||
				r.Header.Get("Retry-After") == "" || r.Header.Get("X-Request-Id") == "")
			if failure == "" && (r.Status != s.status || bad429) {
				failure = fmt.Sprintf("step %d %s %s: want %d, got %d %v %s", i, s.method, s.path, s.status, r.Status, r.Header, r.Raw)
			}
		}
		if time.Now().UnixNano()/int64(window) != w {
			continue
		}
		if failure != "" {
			t.Fatal(failure)
		}
		return
	}
	t.Fatal("three runs in a row crossed a rate-limit window boundary")
}

func TestCriticalRateLimit(t *testing.T) {
	testkit.ForEachDB(t, limitedEnv("CRITICAL_RATE_LIMIT", 3), func(t *testing.T, app *testkit.App) {
		wrong := map[string]string{"username": "root", "password": "wrong-password"}
		wantLimited(t, app, 20*time.Minute, []step{
			{"POST", "/api/user/login", wrong, 401},
			{"POST", "/api/user/login", wrong, 401},
			{"POST", "/api/user/login", wrong, 401},
			{"POST", "/api/user/login", wrong, 429},
			// The limit is shared by the routes behind it, and the right
			// password does not get past it either.
			{"POST", "/api/user/register", map[string]string{"username": testkit.Name("c"), "password": "password-1"}, 429},
			{"POST", "/api/user/login", map[string]string{"username": "root", "password": testkit.RootPassword}, 429},
			{"POST", "/api/user/reset", map[string]string{"email": "a@example.com", "token": "t"}, 429},
			{"GET", "/api/verification?email=a@example.com", nil, 429},
			// Other routes are not limited by it.
			{"GET", "/api/status", nil, 200},
		})
		wantCounterWhere(t, app, "critical")
	})
}

func TestGlobalAPIRateLimit(t *testing.T) {
	testkit.ForEachDB(t, limitedEnv("GLOBAL_API_RATE_LIMIT", 5), func(t *testing.T, app *testkit.App) {
		steps := []step{}
		for i := 0; i < 5; i++ {
			steps = append(steps, step{"GET", "/api/status", nil, 200})
		}
		steps = append(steps,
			step{"GET", "/api/status", nil, 429},
			step{"POST", "/api/user/login", map[string]string{"username": "root", "password": testkit.RootPassword}, 429},
			// Health checks are outside /api and never limited.
			step{"GET", "/healthz", nil, 200},
		)
		wantLimited(t, app, 3*time.Minute, steps)
		wantCounterWhere(t, app, "api")
	})
}

func TestGlobalWebRateLimit(t *testing.T) {
	testkit.ForEachDB(t, limitedEnv("GLOBAL_WEB_RATE_LIMIT", 3), func(t *testing.T, app *testkit.App) {
		wantLimited(t, app, 3*time.Minute, []step{
			{"GET", "/", nil, 200},
			{"GET", "/login", nil, 200},
			{"GET", "/token", nil, 200},
			{"GET", "/", nil, 429},
			// The API has its own counter.
			{"GET", "/api/status", nil, 200},
		})
		wantCounterWhere(t, app, "web")
	})
}

// wantCounterWhere checks the counters live in Redis when the app has
// Redis (the MySQL and PostgreSQL runs), so limits hold across nodes.
func wantCounterWhere(t *testing.T, app *testkit.App, name string) {
	t.Helper()
	if app.Store.Redis == nil {
		return
	}
	keys, err := app.Store.Redis.Keys(t.Context(), app.Cfg.RedisKeyPrefix+"rl:"+name+":*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no %s rate-limit counter in Redis: %v %v", name, keys, err)
	}
}

func TestBodyLimit(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"MAX_REQUEST_BODY_MB": "1"}, func(t *testing.T, app *testkit.App) {
		anon := app.Anon(t)
		users := userCount(t, app)
		big := `{"username": "biguser", "password": "password-1", "display_name": "` + strings.Repeat("x", 1<<20) + `"}`
		// A declared length over the cap is refused before reading.
		anon.Do("POST", "/api/user/register", big).WantFail(t, 413, "larger than 1 MiB")
		// A body of unknown length fails when the reader crosses the cap.
		req, err := http.NewRequest("POST", app.URL+"/api/user/register", io.MultiReader(bytes.NewReader([]byte(big))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		r := anon.Send(req).WantFail(t, 413, "too large")
		if r.Header.Get("X-Request-Id") == "" {
			t.Fatal("413 without X-Request-Id")
		}
		if n := userCount(t, app); n != users {
			t.Fatalf("an oversized registration wrote a user")
		}
		// Under the cap the same route works.
		anon.Do("POST", "/api/user/register", map[string]string{"username": testkit.Name("b"), "password": "password-1"}).Want(t, 200, true)
	})
}

func TestCORSPreflightOnV1(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	anon := app.Anon(t)
	for _, path := range []string{"/v1/chat/completions", "/v1/models", "/v1/embeddings", "/v1/no/such/path"} {
		req, _ := http.NewRequest("OPTIONS", app.URL+path, nil)
		req.Header.Set("Origin", "https://chat.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		r := anon.Send(req)
		h := r.Header
		if r.Status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Request-Id") || h.Get("X-Request-Id") == "" {
			t.Fatalf("preflight %s: %d %v", path, r.Status, h)
		}
	}
	// Answers carry the CORS headers too, so a browser can read an error.
	r := anon.Do("GET", "/v1/models", nil)
	if r.Status != 401 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("/v1 without a key: %d %v", r.Status, r.Header)
	}
	// The management API is same-origin only.
	req, _ := http.NewRequest("OPTIONS", app.URL+"/api/user/self", nil)
	req.Header.Set("Origin", "https://evil.example.com")
	if r := anon.Send(req); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("/api answered a cross-origin preflight: %v", r.Header)
	}
}

func TestRequestIDOnEveryReply(t *testing.T) {
	app := testkit.Start(t, "sqlite", map[string]string{"CRITICAL_RATE_LIMIT": "1"})
	anon := app.Anon(t)
	anon.Do("POST", "/api/user/login", map[string]string{"username": "root", "password": "nope-nope"}).WantFail(t, 401, "wrong")
	for _, tc := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/api/status"}, {"GET", "/api/user/self"},
		{"GET", "/api/nope"}, {"GET", "/v1/nope"}, {"GET", "/nope"}, {"OPTIONS", "/v1/chat/completions"},
		{"POST", "/api/user/login"}, // now over the critical limit: 429
	} {
		req, _ := http.NewRequest(tc.method, app.URL+tc.path, strings.NewReader("{}"))
		r := anon.Send(req)
		if r.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%s %s (%d): no X-Request-Id", tc.method, tc.path, r.Status)
		}
		req, _ = http.NewRequest(tc.method, app.URL+tc.path, strings.NewReader("{}"))
		req.Header.Set("X-Request-Id", "trace-abc-123")
		if got := anon.Send(req).Header.Get("X-Request-Id"); got != "trace-abc-123" {
			t.Fatalf("%s %s: incoming id not echoed: %q", tc.method, tc.path, got)
		}
	}
	req, _ := http.NewRequest("GET", app.URL+"/v1/nope", nil)
	req.Header.Set("X-Request-Id", "has spaces and is not sane")
	r := anon.Send(req)
	id := r.Header.Get("X-Request-Id")
	if id == "" || strings.Contains(id, " ") || !strings.Contains(string(r.Raw), id) {
		t.Fatalf("insane incoming id: reply id %q, body %s", id, r.Raw)
	}
}

// TestTrustedProxies pins where the client IP comes from, seen through
// the critical rate limit, which counts per client IP: X-Forwarded-For
// from an untrusted peer is ignored (every "client" shares the socket's
// counter), and from a trusted proxy it is believed.
func TestTrustedProxies(t *testing.T) {
	loginFrom := func(t *testing.T, c *testkit.Client, app *testkit.App, ip string) *testkit.Reply {
		req, _ := http.NewRequest("POST", app.URL+"/api/user/login", strings.NewReader(`{"username":"root","password":"wrong-password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		return c.Send(req)
	}
	t.Run("untrusted peer", func(t *testing.T) {
		app := testkit.Start(t, "sqlite", map[string]string{"CRITICAL_RATE_LIMIT": "1"})
		c := app.Anon(t)
		loginFrom(t, c, app, "203.0.113.1").WantFail(t, 401, "wrong")
		loginFrom(t, c, app, "203.0.113.2").WantFail(t, 429, "too many")
	})
	t.Run("trusted proxy", func(t *testing.T) {
		app := testkit.Start(t, "sqlite", map[string]string{"CRITICAL_RATE_LIMIT": "1", "TRUSTED_PROXIES": "127.0.0.1/32, ::1"})
		c := app.Anon(t)
		loginFrom(t, c, app, "203.0.113.1").WantFail(t, 401, "wrong")
		loginFrom(t, c, app, "203.0.113.2").WantFail(t, 401, "wrong")
		loginFrom(t, c, app, "203.0.113.1").WantFail(t, 429, "too many")
	})
}

// newHTTPServer serves h until the test ends and returns its URL.
func newHTTPServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
