package middleware_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
)

// styledEngine mounts the same handler under one group per error style,
// behind the production chain's request id and recovery.
func styledEngine(extra gin.HandlerFunc, method, path string, h gin.HandlerFunc) *httptest.Server {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(middleware.RequestID(), middleware.Recovery())
	for prefix, style := range map[string]errs.Style{"/api": errs.StyleManagement, "/v1": errs.StyleOpenAI, "/anthropic": errs.StyleAnthropic} {
		g := r.Group(prefix, middleware.Style(style))
		if extra != nil {
			g.Use(extra)
		}
		g.Handle(method, path, h)
	}
	return httptest.NewServer(r)
}

// wantShape checks a reply's status and that its body has the route
// style's error shape, returning the message.
func wantShape(t *testing.T, prefix string, resp *http.Response, status int) string {
	t.Helper()
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", prefix, resp.StatusCode, status, raw)
	}
	var body struct {
		Success *bool  `json:"success"`
		Message string `json:"message"`
		Type    string `json:"type"`
		Error   *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: body is not JSON: %s", prefix, raw)
	}
	switch prefix {
	case "/api":
		if body.Success == nil || *body.Success || body.Message == "" || body.Error != nil {
			t.Fatalf("/api: not the management shape: %s", raw)
		}
		return body.Message
	case "/v1":
		if body.Error == nil || body.Error.Type == "" || !strings.Contains(body.Error.Message, "request id") || body.Success != nil {
			t.Fatalf("/v1: not the OpenAI shape: %s", raw)
		}
		return body.Error.Message
	default:
		if body.Type != "error" || body.Error == nil || body.Error.Type == "" || body.Success != nil {
			t.Fatalf("/anthropic: not the Anthropic shape: %s", raw)
		}
		return body.Error.Message
	}
}

func TestRecoveryAnswersInRouteShapeWithoutStack(t *testing.T) {
	srv := styledEngine(nil, "GET", "/boom", func(c *gin.Context) {
		var m map[string]int
		m["db-password-hunter2"] = 1 // a nil map write: a real runtime panic
	})
	defer srv.Close()
	for _, prefix := range []string{"/api", "/v1", "/anthropic"} {
		resp, err := http.Get(srv.URL + prefix + "/boom")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%s: no X-Request-Id on a recovered panic", prefix)
		}
		msg := wantShape(t, prefix, resp, http.StatusInternalServerError)
		for _, leak := range []string{"hunter2", "goroutine", ".go:", "nil map", "panic"} {
			if strings.Contains(msg, leak) {
				t.Fatalf("%s: reply leaks %q: %s", prefix, leak, msg)
			}
		}
	}
	// The server survived.
	resp, err := http.Get(srv.URL + "/api/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestRecoveryCutsAStartedReply pins that a panic after the first byte
// aborts the connection instead of passing a cut answer off as whole.
func TestRecoveryCutsAStartedReply(t *testing.T) {
	srv := styledEngine(nil, "GET", "/half", func(c *gin.Context) {
		c.Writer.WriteHeader(http.StatusOK)
		_, _ = c.Writer.WriteString(`{"partial":`)
		c.Writer.Flush()
		panic("mid-stream failure")
	})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/half")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("a reply cut by a panic read as complete")
	}
}

func TestBodyLimitDeclaredLengthInRouteShape(t *testing.T) {
	read := func(c *gin.Context) {
		if _, err := io.ReadAll(c.Request.Body); err != nil {
			errs.Render(c, errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "read: %v", err))
			return
		}
		c.String(http.StatusOK, "read")
	}
	srv := styledEngine(middleware.BodyLimit(1<<20), "POST", "/upload", read)
	defer srv.Close()
	big := strings.Repeat("x", 1<<20+1)
	for _, prefix := range []string{"/api", "/v1", "/anthropic"} {
		resp, err := http.Post(srv.URL+prefix+"/upload", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		msg := wantShape(t, prefix, resp, http.StatusRequestEntityTooLarge)
		if !strings.Contains(msg, "1 MiB") {
			t.Fatalf("%s: message %q does not name the limit", prefix, msg)
		}
		// Exactly at the limit passes.
		resp, err = http.Post(srv.URL+prefix+"/upload", "application/json", strings.NewReader(big[1:]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: a body at the limit got %d", prefix, resp.StatusCode)
		}
	}
}

func TestRequestIDUnit(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(middleware.RequestID())
	r.GET("/", func(c *gin.Context) { c.String(200, c.GetString(errs.RequestIDKey)) })
	cases := []struct {
		name, in string
		echoed   bool
	}{
		{"sane id echoed", "client-req-42", true},
		{"none", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"spaces", "two words", false},
		{"non-ASCII", "ид-запроса", false},
		{"header injection", "abc\r\nSet-Cookie: x=1", false},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			if tc.in != "" {
				req.Header["X-Request-Id"] = []string{tc.in}
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			got := w.Header().Get("X-Request-Id")
			if got == "" || got != w.Body.String() {
				t.Fatalf("reply id %q, context id %q", got, w.Body.String())
			}
			if tc.echoed != (got == tc.in) {
				t.Fatalf("incoming %q, reply id %q", tc.in, got)
			}
			if !tc.echoed && seen[got] {
				t.Fatalf("fresh id %q reused", got)
			}
			seen[got] = true
		})
	}
}

// TestFreshRequestIDsReadTimeThenLetters pins the shape of a fresh id (the
// UTC second, then 8 letters and digits, as One API's read) and that ids
// made in the same second differ.
func TestFreshRequestIDsReadTimeThenLetters(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(middleware.RequestID())
	r.GET("/", func(c *gin.Context) { c.Status(204) })
	shape := regexp.MustCompile(`^[0-9]{14}[0-9A-Za-z]{8}$`)
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		before := time.Now().UTC().Format("20060102150405")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		after := time.Now().UTC().Format("20060102150405")
		id := w.Header().Get("X-Request-Id")
		if !shape.MatchString(id) {
			t.Fatalf("id %q: want 14 digits of time, then 8 letters and digits", id)
		}
		if p := id[:14]; p < before || p > after {
			t.Fatalf("id %q: its time is not between %s and %s", id, before, after)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
}
