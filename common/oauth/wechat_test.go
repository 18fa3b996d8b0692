package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"switchyard/common/errs"
	"switchyard/common/oauth"
	"switchyard/internal/fakewechat"
)

// wantErr fails t unless err is an *errs.Error with status and code (when
// code is not "") whose public message holds part.
func wantErr(t *testing.T, err error, status int, code, part string) *errs.Error {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a %d error, got %v", status, err)
	}
	if e.Status != status || (code != "" && e.Code != code) || !strings.Contains(e.PublicMessage(), part) {
		t.Fatalf("want %d %q mentioning %q, got %d %q: %s", status, code, part, e.Status, e.Code, e.PublicMessage())
	}
	return e
}

// TestWeChatServerCodes pins the WeChat Server's answers as a sign-in
// reads them: an issued code is its openid; a code it does not know, or a
// token it refuses, is the caller's 400 (with the server's reason and
// never the token); the server away or answering nonsense is a 502.
func TestWeChatServerCodes(t *testing.T) {
	ws := fakewechat.Start()
	t.Cleanup(ws.Close)
	wc := oauth.WeChat{ServerAddress: ws.URL, Token: fakewechat.Token}
	ctx := context.Background()

	code := ws.Code("oWx1A2b3C4d5E6f7G8h9I0j1K2l3")
	for range 2 { // a code works until it expires, as the server has it
		if id, err := wc.User(ctx, code); err != nil || id != "oWx1A2b3C4d5E6f7G8h9I0j1K2l3" {
			t.Fatalf("issued code: %q, %v", id, err)
		}
	}
	if got := ws.Last().Header.Get("Authorization"); got != fakewechat.Token {
		t.Fatalf("Authorization %q, want the server token as is", got)
	}
	ws.Expire(code)
	_, err := wc.User(ctx, code)
	wantErr(t, err, 400, "wechat_code_invalid", "wrong or has expired")

	wrong := oauth.WeChat{ServerAddress: ws.URL + "/", Token: "not-the-token"}
	_, err = wrong.User(ctx, ws.Code("o1"))
	if e := wantErr(t, err, 400, "wechat_code_invalid", "token 无效"); strings.Contains(e.PublicMessage(), "not-the-token") {
		t.Fatalf("the token leaks: %s", e.PublicMessage())
	}

	ws.Break()
	_, err = wc.User(ctx, ws.Code("o1"))
	wantErr(t, err, 502, "", "WeChat Server")
	ws.Close()
	_, err = wc.User(ctx, "123456")
	if e := wantErr(t, err, 502, "", "could not reach the WeChat Server"); strings.Contains(e.PublicMessage(), fakewechat.Token) {
		t.Fatalf("the token leaks: %s", e.PublicMessage())
	}
}

// TestWeChatCodeIsEscaped pins that a code is one query parameter,
// whatever it holds: it cannot add parameters, change the path or break
// the request.
func TestWeChatCodeIsEscaped(t *testing.T) {
	ws := fakewechat.Start()
	t.Cleanup(ws.Close)
	wc := oauth.WeChat{ServerAddress: ws.URL, Token: fakewechat.Token}
	for _, tc := range []struct{ code, query string }{
		{"1&code=2", "code=1%26code%3D2"},
		{"../admin?x=1#f", "code=..%2Fadmin%3Fx%3D1%23f"},
		{"' OR 1=1 --", "code=%27+OR+1%3D1+--"},
		{"验证码💥", "code=%E9%AA%8C%E8%AF%81%E7%A0%81%F0%9F%92%A5"},
	} {
		_, err := wc.User(context.Background(), tc.code)
		wantErr(t, err, 400, "wechat_code_invalid", "wrong or has expired")
		if last := ws.Last(); last.Path != "/api/wechat/user" || last.Query != tc.query {
			t.Errorf("code %q went as %s?%s, want ?%s", tc.code, last.Path, last.Query, tc.query)
		}
	}
}

// TestWeChatServerAddress pins which addresses are called at all: http or
// https with a host, a path prefix kept; anything else is the operator's
// mistake, a 503, and nothing is sent.
func TestWeChatServerAddress(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.URL.Path)
		w.Write([]byte(`{"success":true,"message":"","data":"o-prefixed"}`))
	}))
	t.Cleanup(srv.Close)
	if id, err := (oauth.WeChat{ServerAddress: srv.URL + "/wechat/", Token: "t"}).User(context.Background(), "1"); err != nil || id != "o-prefixed" {
		t.Fatalf("prefixed address: %q, %v", id, err)
	}
	mu.Lock()
	if len(calls) != 1 || calls[0] != "/wechat/api/wechat/user" {
		t.Fatalf("calls %v", calls)
	}
	mu.Unlock()
	for _, addr := range []string{"", "   ", "127.0.0.1:3000", "ftp://wechat.example.com", "javascript:alert(1)", "http://",
		"http://user:pw@wechat.example.com", srv.URL + "?x=1", srv.URL + "#f", "file:///etc/passwd"} {
		_, err := (oauth.WeChat{ServerAddress: addr, Token: "t"}).User(context.Background(), "1")
		wantErr(t, err, 503, "wechat_misconfigured", "WeChat Server address")
		if oauth.ValidServerAddress(addr) {
			t.Errorf("%q passes as an address", addr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 {
		t.Fatalf("a refused address was called: %v", calls)
	}
}

// TestWeChatServerAnswersBounded pins what is believed of an odd answer:
// an oversized or non-JSON body, or an openid that is not one, is a 502;
// the server's message reaches the caller without the token, control
// characters or unbounded length.
func TestWeChatServerAnswersBounded(t *testing.T) {
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body.Load().(string))) }))
	t.Cleanup(srv.Close)
	wc := oauth.WeChat{ServerAddress: srv.URL, Token: "secret-token-123"}
	for name, b := range map[string]string{
		"oversized":    `{"success":true,"message":"` + strings.Repeat("x", 1<<20) + `","data":"o1"}`,
		"not json":     `<html>hello</html>`,
		"long openid":  `{"success":true,"data":"` + strings.Repeat("o", 65) + `"}`,
		"odd openid":   `{"success":true,"data":"o 1"}`,
		"wrong shape":  `{"success":"yes","data":1}`,
		"non-ascii id": `{"success":true,"data":"o号"}`,
	} {
		t.Run(name, func(t *testing.T) {
			body.Store(b)
			_, err := wc.User(context.Background(), "1")
			wantErr(t, err, 502, "", "WeChat Server")
		})
	}
	body.Store(`{"success":false,"message":"bad secret-token-123\u0000\n` + strings.Repeat("很", 300) + `"}`)
	_, err := wc.User(context.Background(), "1")
	e := wantErr(t, err, 400, "wechat_code_invalid", "bad [redacted]")
	if m := e.PublicMessage(); strings.Contains(m, "secret-token-123") || strings.ContainsAny(m, "\x00\n") || strings.Count(m, "很") > 120 {
		t.Fatalf("message not tidied: %q", m)
	}
}

// TestWeChatCallFollowsTheRequestContext pins that the call goes with
// the caller's context: a caller that leaves cancels it.
func TestWeChatCallFollowsTheRequestContext(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if _, err := (oauth.WeChat{ServerAddress: srv.URL, Token: "t"}).User(ctx, "1"); err == nil || ctx.Err() == nil {
		t.Fatalf("a cancelled call answered %v", err)
	}
}
