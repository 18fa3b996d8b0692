package controller_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/fakevertex"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// httpProxy is a forward HTTP proxy that asks for a user and password
// (407 otherwise) and counts what it carried.
type httpProxy struct {
	*httptest.Server
	user, pass string
	carried    atomic.Int64
	refused    atomic.Int64
}

func startHTTPProxy(t *testing.T, user, pass string) *httpProxy {
	t.Helper()
	p := &httpProxy{user: user, pass: pass}
	rp := &httputil.ReverseProxy{
		// The request line holds the absolute URL: go where it says.
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.Out.Host = pr.In.URL.Host },
		FlushInterval: -1,
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		if r.Header.Get("Proxy-Authorization") != want {
			p.refused.Add(1)
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
		p.carried.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// URL is the proxy's URL with its credentials, as a channel names it.
func (p *httpProxy) URL() string { return p.urlWith(p.pass) }

// urlWith is the proxy's URL with password pass, escaped as a URL needs.
func (p *httpProxy) urlWith(pass string) string {
	u, _ := url.Parse(p.Server.URL)
	u.User = url.UserPassword(p.user, pass)
	return u.String()
}

// socksProxy is a SOCKS5 proxy (RFC 1928, CONNECT only, with RFC 1929
// user and password) that counts the connections it carried.
type socksProxy struct {
	ln      net.Listener
	user    string
	pass    string
	carried atomic.Int64
	wg      sync.WaitGroup
}

func startSOCKS5(t *testing.T, user, pass string) *socksProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &socksProxy{ln: ln, user: user, pass: pass}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *socksProxy) URL() string {
	return "socks5://" + p.user + ":" + p.pass + "@" + p.ln.Addr().String()
}

func (p *socksProxy) serve(c net.Conn) {
	defer c.Close()
	var hello [2]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil || hello[0] != 5 {
		return
	}
	methods := make([]byte, hello[1])
	if _, err := io.ReadFull(c, methods); err != nil || !strings.Contains(string(methods), "\x02") {
		c.Write([]byte{5, 0xff})
		return
	}
	c.Write([]byte{5, 2})
	// RFC 1929: VER ULEN UNAME PLEN PASSWD.
	var head [2]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return
	}
	name := make([]byte, head[1])
	io.ReadFull(c, name)
	var plen [1]byte
	io.ReadFull(c, plen[:])
	pass := make([]byte, plen[0])
	io.ReadFull(c, pass)
	if string(name) != p.user || string(pass) != p.pass {
		c.Write([]byte{1, 1})
		return
	}
	c.Write([]byte{1, 0})
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		var ip [4]byte
		io.ReadFull(c, ip[:])
		host = net.IP(ip[:]).String()
	case 3:
		var n [1]byte
		io.ReadFull(c, n[:])
		b := make([]byte, n[0])
		io.ReadFull(c, b)
		host = string(b)
	default:
		return
	}
	var port [2]byte
	io.ReadFull(c, port[:])
	up, err := net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(binary.BigEndian.Uint16(port[:]))))
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	p.carried.Add(1)
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	done := make(chan struct{})
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); close(done) }()
	io.Copy(c, up)
	c.Close()
	<-done
}

// TestChannelProxyCarriesItsCalls pins a channel's "proxy": its relayed
// calls (whole and streamed) and its test go through the proxy named,
// HTTP or SOCKS5, with the proxy's credentials; other channels go direct.
// The proxy is sealed at rest with CRYPTO_SECRET, the API masks its
// password, an edit that sends the masked form back keeps it, and an edit
// without a proxy goes direct again.
func TestChannelProxyCarriesItsCalls(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"CRYPTO_SECRET": "proxy-sealing-secret"}, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 3})
		defer up.Close()
		hp := startHTTPProxy(t, "relay", "s3cret-pässword")
		sp := startSOCKS5(t, "sock", "s0cks-pass")
		f := newRelayFixture(t, app, 10_000_000, nil)
		viaHTTP := f.channel(t, map[string]any{"name": "via http proxy", "base_url": up.URL, "models": "gpt-4o-mini",
			"config": configJSON(t, map[string]string{"proxy": hp.URL()})})
		f.channel(t, map[string]any{"name": "via socks", "base_url": up.URL, "models": "gpt-4o",
			"config": configJSON(t, map[string]string{"proxy": sp.URL()})})
		f.channel(t, map[string]any{"name": "direct", "base_url": up.URL, "models": "gpt-4.1"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		if text, _ := streamAll(t, c, chat("gpt-4o-mini")); text != "Hello from the fake upstream" {
			t.Fatalf("stream through the proxy: %q", text)
		}
		if n := hp.carried.Load(); n != 2 {
			t.Fatalf("the HTTP proxy carried %d calls, want 2", n)
		}
		f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", viaHTTP), nil).Want(t, 200, true)
		if n := hp.carried.Load(); n != 3 {
			t.Fatalf("the channel test did not go through the proxy (%d)", n)
		}
		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o")); err != nil {
			t.Fatal(err)
		}
		if sp.carried.Load() == 0 {
			t.Fatal("the SOCKS5 channel's call did not go through its proxy")
		}
		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4.1")); err != nil {
			t.Fatal(err)
		}
		if hp.carried.Load() != 3 || hp.refused.Load() != 0 {
			t.Fatalf("a channel without a proxy went through one: carried %d refused %d", hp.carried.Load(), hp.refused.Load())
		}

		sealed := func() {
			t.Helper()
			var row model.Channel
			app.Store.DB.First(&row, viaHTTP)
			if strings.Contains(row.Config, "pässword") || strings.Contains(row.Config, "p%C3%A4ssword") || !strings.Contains(row.Config, "enc:v1:") {
				t.Fatalf("the stored config holds the proxy in clear: %s", row.Config)
			}
		}
		sealed()
		// The API shows the proxy with its password masked.
		var view channelReply
		raw := f.root.Do("GET", fmt.Sprintf("/api/channel/%d", viaHTTP), nil).Want(t, 200, true)
		raw.Decode(t, &view)
		if strings.Contains(view.Config, "s3cret") || !strings.Contains(view.Config, "relay:xxxxx@") {
			t.Fatalf("the API shows config %s", view.Config)
		}
		// Sent back as shown, the stored password stays.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": viaHTTP, "config": view.Config, "models": "gpt-4o-mini"}).Want(t, 200, true)
		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatalf("after an edit that kept the masked proxy: %v", err)
		}
		if hp.carried.Load() != 4 || hp.refused.Load() != 0 {
			t.Fatalf("carried %d refused %d after the edit", hp.carried.Load(), hp.refused.Load())
		}
		sealed()
		// A wrong password is the proxy's to refuse (407): the channel's
		// fault, not the request's, so the client gets a 502 (no other
		// channel serves the model here), not the proxy's 407.
		wrong := hp.urlWith("wrong")
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": viaHTTP, "config": configJSON(t, map[string]string{"proxy": wrong}), "models": "gpt-4o-mini"}).Want(t, 200, true)
		_, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		if e := apiError(t, err, http.StatusBadGateway, "proxy_auth_failed"); strings.Contains(e.Message, "wrong") {
			t.Fatalf("the error shows the proxy's password: %q", e.Message)
		}
		if hp.refused.Load() == 0 {
			t.Fatal("the proxy never saw the call with the wrong password")
		}
		f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", viaHTTP), nil).WantFail(t, 200, "proxy refused its credentials")
		// No proxy in the config: direct again.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": viaHTTP, "config": "{}", "models": "gpt-4o-mini", "status": 1}).Want(t, 200, true)
		before := hp.carried.Load() + hp.refused.Load()
		if _, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		if hp.carried.Load()+hp.refused.Load() != before {
			t.Fatal("a channel whose proxy was removed still went through it")
		}

		// Every call that was served is billed once; the refused one is not.
		logs := f.consumeLogs(t)
		var user model.User
		app.Store.DB.First(&user, f.user.UserID)
		var sum int64
		for _, l := range logs {
			sum += l.Quota
		}
		if len(logs) != 6 || user.UsedQuota != sum || user.Quota+user.UsedQuota != 10_000_000 {
			t.Fatalf("%d consume logs (want 6), used %d, logs sum %d, quota %d", len(logs), user.UsedQuota, sum, user.Quota)
		}
	})
}

// TestChannelProxyBadInput: a proxy that is not an http(s) or socks5 URL
// with a host is refused in the management shape, and nothing is written.
func TestChannelProxyBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		for _, proxy := range []any{
			"ftp://proxy.example:21", "http://", "proxy.example:8080", "http://proxy.example/path", "http://proxy.example?x=1",
			"http://proxy example:80", "'; DROP TABLE channels; --", "http://" + strings.Repeat("a", 2100) + ".example",
			7, true, []string{"http://proxy.example"}, map[string]string{"url": "http://proxy.example"},
		} {
			cfg, _ := json.Marshal(map[string]any{"proxy": proxy})
			root.Do("POST", "/api/channel/", map[string]any{"name": "p", "type": 8, "key": "k", "base_url": "https://example.com", "models": "m", "config": string(cfg)}).
				WantFail(t, 400, `config "proxy"`)
		}
		var n int64
		app.Store.DB.Model(&model.Channel{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d channels written by refused requests", n)
		}
		// Unicode hosts and empty proxies are fine.
		for _, proxy := range []string{"http://代理.example:3128", "", "socks5h://proxy.example:1080"} {
			cfg, _ := json.Marshal(map[string]any{"proxy": proxy})
			root.Do("POST", "/api/channel/", map[string]any{"name": "p", "type": 8, "key": "k", "base_url": "https://example.com", "models": "m", "config": string(cfg)}).Want(t, 200, true)
		}
		// Only an admin edits channels.
		user := app.NewUser(t, model.RoleCommon)
		user.Do("POST", "/api/channel/", map[string]any{"name": "p", "type": 8, "key": "k", "models": "m", "config": `{"proxy":"http://proxy.example:3128"}`}).WantFail(t, 403, "")
		app.Anon(t).Do("POST", "/api/channel/", map[string]any{"name": "p", "type": 8, "key": "k", "models": "m", "config": `{"proxy":"http://proxy.example:3128"}`}).WantFail(t, 401, "")
	})
}

// TestVertexTokenRequestsGoThroughTheChannelProxy: a Vertex AI channel
// behind a proxy fetches its access tokens through it too, not only its
// calls: a network that needs the proxy to reach Google needs it for both.
func TestVertexTokenRequestsGoThroughTheChannelProxy(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		v := fakevertex.Start("proj-proxy", "us-central1", fakevertex.Behavior{})
		defer v.Close()
		hp := startHTTPProxy(t, "vertex", "pw")
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "vertex", "type": 42, "key": "-", "base_url": v.URL, "models": "text-embedding-005",
			"config": configJSON(t, map[string]string{"vertex_ai_adc": v.ServiceAccountJSON(), "vertex_ai_project_id": "proj-proxy", "region": "us-central1", "proxy": hp.URL()})})
		_, err := f.client(f.tok.Key).Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "text-embedding-005",
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}})
		if err != nil {
			t.Fatal(err)
		}
		if n := hp.carried.Load(); n != 2 {
			t.Fatalf("the proxy carried %d requests, want the token request and the call", n)
		}
	})
}

// TestChannelProxyCarriesBalanceQueries: a channel's balance query (its
// two billing endpoints) goes through the channel's proxy, with its
// headers, as its calls do.
func TestChannelProxyCarriesBalanceQueries(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		hp := startHTTPProxy(t, "bal", "pw")
		f := newRelayFixture(t, app, 10_000_000, nil)
		id := f.channel(t, map[string]any{"name": "openai", "type": 1, "base_url": up.URL, "models": "gpt-4o-mini",
			"config": `{"proxy":"` + hp.URL() + `","headers":{"X-Gateway":"g1"}}`})
		r := f.root.Do("GET", fmt.Sprintf("/api/channel/update_balance/%d", id), nil).Want(t, 200, true)
		if !strings.Contains(string(r.Raw), `"balance":87.66`) {
			t.Fatalf("balance reply %s", r.Raw)
		}
		if n := hp.carried.Load(); n != 2 {
			t.Fatalf("the proxy carried %d balance requests, want 2", n)
		}
		if up.LastHeader().Get("X-Gateway") != "g1" {
			t.Fatal("the balance query lacked the channel's headers")
		}
	})
}
