package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/internal/testkit"
	"switchyard/middleware"
)

// These tests start the real binary's run function on port 0 with SQLite.
// run installs the process's default logger, so they do not run in
// parallel.

const wait = 30 * time.Second

// logBuffer collects the JSON log lines run writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns every JSON log line as a map; the plain-text welcome
// (printWelcome) is skipped, and any other line fails the test.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		if line := sc.Text(); line == "" || strings.HasPrefix(line, "  ") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instance is one run in the background.
type instance struct {
	url  string
	addr string
	// listen is the address the server bound, as run reported it.
	listen   string
	log      *logBuffer
	cancel   context.CancelFunc
	done     chan error
	shutdown chan struct{}
	stopOnce sync.Once
	err      error
}

// start runs Switchyard with vars over test defaults and waits until it
// accepts connections. dbFile is the SQLite file, so a second start can
// reuse the first one's database.
func start(t *testing.T, dbFile string, vars map[string]string, routes func(*gin.Engine)) *instance {
	t.Helper()
	env := map[string]string{
		"PORT":                  "0",
		"SQLITE_PATH":           dbFile,
		"SESSION_SECRET":        "main-test-secret",
		"BCRYPT_COST":           "4",
		"GLOBAL_API_RATE_LIMIT": "0",
		"CRITICAL_RATE_LIMIT":   "0",
		"SHUTDOWN_TIMEOUT":      "30",
	}
	for k, v := range vars {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{log: &logBuffer{}, cancel: cancel, done: make(chan error, 1), shutdown: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		in.done <- run(ctx, nil, func(k string) string { return env[k] }, hooks{
			logOut:   in.log,
			ready:    func(addr string) { ready <- addr },
			routes:   routes,
			shutdown: func() { close(in.shutdown) },
		})
	}()
	select {
	case addr := <-ready:
		in.listen = addr
		_, port, _ := net.SplitHostPort(addr)
		in.addr = net.JoinHostPort("127.0.0.1", port)
		in.url = "http://" + in.addr
	case err := <-in.done:
		cancel()
		t.Fatalf("run returned before serving: %v\n%s", err, in.log)
	case <-time.After(wait):
		cancel()
		t.Fatal("run did not start serving")
	}
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return in
}

// stop cancels run's context and waits for it to return.
func (in *instance) stop() error {
	in.stopOnce.Do(func() {
		in.cancel()
		select {
		case in.err = <-in.done:
		case <-time.After(wait):
			in.err = context.DeadlineExceeded
		}
	})
	return in.err
}

// call sends a JSON request and returns the status and the decoded envelope.
func (in *instance) call(t *testing.T, method, path, auth string, body any) (int, bool, json.RawMessage) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &env)
	return resp.StatusCode, env.Success, env.Data
}

func (in *instance) login(t *testing.T, password string) bool {
	t.Helper()
	status, ok, _ := in.call(t, "POST", "/api/user/login", "", map[string]string{"username": "root", "password": password})
	return status == 200 && ok
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"INITIAL_ROOT_PASSWORD": "root-password-1"}, func(r *gin.Engine) {
		r.GET("/test/slow", func(c *gin.Context) {
			close(entered)
			<-release
			c.String(http.StatusOK, "finished")
		})
	})
	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(in.url + "/test/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{resp.StatusCode, string(b), err}
	}()
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("the slow request never reached its handler")
	}

	in.cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case <-in.shutdown:
	case <-time.After(wait):
		t.Fatal("shutdown did not begin")
	}
	if c, err := net.DialTimeout("tcp", in.addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted after shutdown began")
	}
	select {
	case err := <-in.done:
		t.Fatalf("run returned (%v) while a request was in flight", err)
	default:
	}

	close(release)
	select {
	case r := <-slow:
		if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
			t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
		}
	case <-time.After(wait):
		t.Fatal("the in-flight request did not complete")
	}
	if err := in.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(in.log.String(), "shutting down") {
		t.Fatalf("no shutdown line in the log:\n%s", in.log)
	}
	// Access lines are written in batches; the last batch leaves before
	// run returns.
	if !strings.Contains(in.log.String(), `"path":"/test/slow"`) {
		t.Fatalf("the in-flight request's access line was not written:\n%s", in.log)
	}
}

func TestShutdownDeadlineCutsStuckRequests(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"INITIAL_ROOT_PASSWORD": "root-password-1", "SHUTDOWN_TIMEOUT": "0"}, func(r *gin.Engine) {
		r.GET("/test/stuck", func(c *gin.Context) {
			close(entered)
			select {
			case <-release:
			case <-c.Request.Context().Done():
			}
		})
	})
	cut := make(chan error, 1)
	go func() {
		resp, err := http.Get(in.url + "/test/stuck")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cut <- err
	}()
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("the request never reached its handler")
	}
	if err := in.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	select {
	case err := <-cut:
		if err == nil {
			t.Fatal("a request stuck past the shutdown deadline got a whole answer")
		}
	case <-time.After(wait):
		t.Fatal("the stuck request's connection was not closed")
	}
}

func TestRootLogsInOnlyWithInitialRootPassword(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sy.db")
	in := start(t, db, map[string]string{"INITIAL_ROOT_PASSWORD": "configured-root-pass"}, nil)
	for _, pw := range []string{"123456", "root", "", "configured-root-pass "} {
		if in.login(t, pw) {
			t.Fatalf("root signed in with %q", pw)
		}
	}
	if !in.login(t, "configured-root-pass") {
		t.Fatal("root cannot sign in with INITIAL_ROOT_PASSWORD")
	}
	if s := in.log.String(); strings.Contains(s, "configured-root-pass") || strings.Contains(s, "random password") {
		t.Fatalf("the log mentions the password:\n%s", s)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	// INITIAL_ROOT_PASSWORD counts at the first start only: a later value
	// does not reset an existing root.
	in = start(t, db, map[string]string{"INITIAL_ROOT_PASSWORD": "another-root-pass"}, nil)
	if in.login(t, "another-root-pass") || !in.login(t, "configured-root-pass") {
		t.Fatal("a second start changed root's password")
	}
}

// printedPassword reads root's password from the plain-text welcome, as a
// newcomer does, and says how many times one was printed.
func printedPassword(s string) (string, int) {
	var password string
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "password: "); ok {
			password = p
			n++
		}
	}
	return password, n
}

func TestRootRandomPasswordIsPrintedOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sy.db")
	in := start(t, db, nil, nil)
	password, printed := printedPassword(in.log.String())
	if printed != 1 || len(password) < 16 {
		t.Fatalf("random root password printed %d times (%q):\n%s", printed, password, in.log)
	}
	// The structured log says a password was made but never holds it.
	for _, l := range in.log.lines(t) {
		raw, _ := json.Marshal(l)
		if strings.Contains(string(raw), password) {
			t.Fatalf("a JSON log line holds the password: %s", raw)
		}
	}
	if !strings.Contains(in.log.String(), "Open the console at http://localhost:") {
		t.Fatalf("the welcome does not say where the console is:\n%s", in.log)
	}
	if in.login(t, "123456") || !in.login(t, password) {
		t.Fatal("root does not sign in with exactly the printed password")
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}

	in = start(t, db, nil, nil)
	if s := in.log.String(); strings.Contains(s, "created user root") || strings.Contains(s, password) {
		t.Fatalf("a second start printed a root password again:\n%s", s)
	}
	if !in.login(t, password) {
		t.Fatal("the first start's password stopped working")
	}
	// Still exactly one root.
	c := sessionClient(t, in, password)
	resp, err := c.Get(in.url + "/api/user/search?keyword=root")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data []struct {
			Username string `json:"username"`
			Role     int    `json:"role"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	roots := 0
	for _, u := range env.Data {
		if u.Role >= 100 {
			roots++
		}
	}
	if roots != 1 {
		t.Fatalf("root users after two starts = %d (%v)", roots, env.Data)
	}
}

func TestInitialRootAccessToken(t *testing.T) {
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{
		"INITIAL_ROOT_PASSWORD":     "root-password-1",
		"INITIAL_ROOT_ACCESS_TOKEN": "initial-access-token-123",
	}, nil)
	for _, auth := range []string{"initial-access-token-123", "Bearer initial-access-token-123"} {
		status, ok, data := in.call(t, "GET", "/api/user/self", auth, nil)
		var self struct {
			Username string `json:"username"`
			Role     int    `json:"role"`
		}
		_ = json.Unmarshal(data, &self)
		if status != 200 || !ok || self.Username != "root" || self.Role != 100 {
			t.Fatalf("%q: %d %v %s", auth, status, ok, data)
		}
	}
	// Root-only routes accept it too.
	if status, ok, _ := in.call(t, "GET", "/api/option/", "initial-access-token-123", nil); status != 200 || !ok {
		t.Fatalf("options with the access token: %d", status)
	}
	if status, _, _ := in.call(t, "GET", "/api/user/self", "initial-access-token-12", nil); status != 401 {
		t.Fatalf("a wrong access token got %d", status)
	}
	if strings.Contains(in.log.String(), "initial-access-token-123") {
		t.Fatal("the log shows the access token")
	}
}

// sessionClient signs root in and returns a client holding the cookie.
func sessionClient(t *testing.T, in *instance, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Post(in.url+"/api/user/login", "application/json", strings.NewReader(`{"username":"root","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

// TestServerClosesSlowAndIdleConnections is part of defect 5 of issue 13:
// the server had no read or idle timeout, and 200 connections that
// trickled a body or sat idle after a request were held for ever.
func TestServerClosesSlowAndIdleConnections(t *testing.T) {
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"SERVER_READ_TIMEOUT": "1", "SERVER_IDLE_TIMEOUT": "1"}, nil)
	var closed sync.WaitGroup
	conns := make([]net.Conn, 0, 200)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range 200 {
		c, err := net.Dial("tcp", in.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		rd := bufio.NewReader(c)
		if i%2 == 0 {
			// A body promised and never sent.
			io.WriteString(c, "POST /api/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user")
		} else {
			// A finished request on a keep-alive connection, then silence.
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(rd, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		closed.Add(1)
		go func() {
			defer closed.Done()
			// Whatever the server still says, the connection must end.
			io.Copy(io.Discard, rd)
		}()
	}
	done := make(chan struct{})
	go func() { closed.Wait(); close(done) }()
	testkit.Eventually(t, 30*time.Second, "the server closes all 200 slow and idle connections", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
}

// TestWriteTimeoutCutsStuckRepliesButNotRelayStreams: a client that stops
// reading a management reply holds its handler no longer than
// SERVER_WRITE_TIMEOUT, while a /v1 stream that began before it, and so
// outlives the timeout, goes on.
func TestWriteTimeoutCutsStuckRepliesButNotRelayStreams(t *testing.T) {
	cut := make(chan error, 1)
	release := make(chan struct{})
	streamed := make(chan error, 1)
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"SERVER_WRITE_TIMEOUT": "1"}, func(r *gin.Engine) {
		r.GET("/test/big", func(c *gin.Context) {
			chunk := make([]byte, 64<<10)
			// 256 MiB: far more than the socket buffers hold for a
			// client that reads nothing.
			for range 4096 {
				if _, err := c.Writer.Write(chunk); err != nil {
					cut <- err
					return
				}
			}
			cut <- nil
		})
		r.GET("/v1/test/stream", func(c *gin.Context) {
			c.Header("Content-Type", "text/event-stream")
			c.Writer.WriteString("data: first\n\n")
			c.Writer.Flush()
			<-release
			_, err := c.Writer.WriteString("data: second\n\n")
			c.Writer.Flush()
			streamed <- err
		})
	})

	resp, err := http.Get(in.url + "/v1/test/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "data: first\n" {
		t.Fatalf("first event %q, %v", line, err)
	}

	conn, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /test/big HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-cut:
		if err == nil {
			t.Fatal("256 MiB went to a client that read none of it")
		}
	case <-time.After(wait):
		t.Fatal("a reply nobody reads held its handler past SERVER_WRITE_TIMEOUT")
	}

	// The stream began before the reply that was cut, so it is older
	// than the timeout now.
	close(release)
	rest, err := io.ReadAll(rd)
	if err != nil || string(rest) != "\ndata: second\n\n" {
		t.Fatalf("a /v1 stream older than SERVER_WRITE_TIMEOUT read %q after its first event, %v", rest, err)
	}
	if err := <-streamed; err != nil {
		t.Fatalf("the stream's late write failed: %v", err)
	}
}

func TestHostNarrowsTheListenAddress(t *testing.T) {
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"INITIAL_ROOT_PASSWORD": "root-password-1", "HOST": "127.0.0.1"}, nil)
	if host, _, _ := net.SplitHostPort(in.listen); host != "127.0.0.1" {
		t.Fatalf("HOST=127.0.0.1 listened on %s", in.listen)
	}
	if strings.Contains(in.log.String(), "listening on every interface") {
		t.Fatalf("the welcome claims every interface:\n%s", in.log)
	}
	if !strings.Contains(in.log.String(), "http://127.0.0.1:") {
		t.Fatalf("the welcome does not name the narrowed address:\n%s", in.log)
	}

	all := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"INITIAL_ROOT_PASSWORD": "root-password-1"}, nil)
	if host, _, _ := net.SplitHostPort(all.listen); host != "::" && host != "0.0.0.0" {
		t.Fatalf("no HOST listened on %s, want every interface", all.listen)
	}
}

// TestStaticFilesLogAtDebug keeps the console's files out of the info log:
// a page load fetches a dozen of them and they drowned the API lines.
func TestStaticFilesLogAtDebug(t *testing.T) {
	in := start(t, filepath.Join(t.TempDir(), "sy.db"), map[string]string{"INITIAL_ROOT_PASSWORD": "root-password-1"}, nil)
	for _, p := range []string{"/", "/favicon.svg", "/api/status"} {
		resp, err := http.Get(in.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Request lines are written in batches (middleware/accesslog.go).
	middleware.FlushAccessLog()
	var sawAPI bool
	for _, l := range in.log.lines(t) {
		if l["msg"] != "request" {
			continue
		}
		switch l["path"] {
		case "/", "/favicon.svg":
			t.Fatalf("a console file was logged at %v: %v", l["level"], l)
		case "/api/status":
			sawAPI = true
		}
	}
	if !sawAPI {
		t.Fatalf("the API call was not logged at info:\n%s", in.log)
	}
}
