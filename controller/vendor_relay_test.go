package controller_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go"

	"switchyard/common/channeltype"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

// vendorUpstream is the fake OpenAI upstream behind a vendor's own path
// root: calls under prefix reach the fake as its /v1 paths, anything else
// is the 404 the vendor would answer. It records the paths and the auth
// headers it saw.
type vendorUpstream struct {
	*httptest.Server
	fake   *fakeupstream.Server
	mu     sync.Mutex
	paths  []string
	header http.Header
}

func startVendor(t *testing.T, prefix string, b fakeupstream.Behavior) *vendorUpstream {
	t.Helper()
	v := &vendorUpstream{fake: fakeupstream.Start(b)}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.paths = append(v.paths, r.URL.EscapedPath())
		v.header = r.Header.Clone()
		v.mu.Unlock()
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
		if !ok {
			fakeupstream.Error(w, 404, "invalid_request_error", "not_found", "no route for "+r.URL.Path)
			return
		}
		r.URL.Path, r.URL.RawPath = "/v1"+rest, ""
		v.fake.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { v.Close(); v.fake.Close() })
	return v
}

func (v *vendorUpstream) seen() ([]string, http.Header) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.paths...), v.header
}

// wantAuth checks the key reached the upstream in the header the type's
// registry row names (Authorization: Bearer when it names none).
func wantAuth(t *testing.T, typ int, h http.Header, key string) {
	t.Helper()
	row, _ := channeltype.Get(typ)
	name, prefix := row.Vendor.AuthHeader, row.Vendor.AuthPrefix
	if name == "" {
		name, prefix = "Authorization", "Bearer "
	}
	if got := h.Get(name); got != prefix+key {
		t.Fatalf("type %d: %s is %q, want %q", typ, name, got, prefix+key)
	}
}

// TestCloudflareWorkersAIChannel: a Cloudflare Workers AI channel (37)
// sends openai-go's chat, streamed and not, and embeddings under
// /client/v4/accounts/{account_id}/ai/v1 (the registry row's path, the
// account id from the channel's config), with the API token as a Bearer.
func TestCloudflareWorkersAIChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		row, ok := channeltype.Get(37)
		if !ok || row.Vendor.PathPrefix != "/client/v4/accounts/{account_id}/ai/v1" {
			t.Fatalf("registry row %+v", row)
		}
		const account = "0123456789abcdef"
		up := startVendor(t, "/client/v4/accounts/"+account+"/ai/v1", fakeupstream.Behavior{Key: "cf-token"})
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "cloudflare", "type": 37, "key": "cf-token", "base_url": up.URL,
			"models": "@cf/meta/llama-3.1-8b-instruct,@cf/baai/bge-m3", "config": configJSON(t, map[string]string{"account_id": account})})
		c := f.client(f.tok.Key)
		ctx := context.Background()
		resp, err := c.Chat.Completions.New(ctx, chat("@cf/meta/llama-3.1-8b-instruct"))
		if err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" {
			t.Fatalf("chat: %v %+v", err, resp)
		}
		if !strings.Contains(string(up.fake.LastBody()), `"model":"@cf/meta/llama-3.1-8b-instruct"`) {
			t.Fatalf("body %s", up.fake.LastBody())
		}
		if text, _ := streamAll(t, c, chat("@cf/meta/llama-3.1-8b-instruct")); text != "Hello from the fake upstream" {
			t.Fatalf("stream %q", text)
		}
		emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "@cf/baai/bge-m3", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")}})
		if err != nil || len(emb.Data) != 1 {
			t.Fatalf("embeddings: %v %+v", err, emb)
		}
		paths, h := up.seen()
		base := "/client/v4/accounts/" + account + "/ai/v1"
		if strings.Join(paths, " ") != base+"/chat/completions "+base+"/chat/completions "+base+"/embeddings" {
			t.Fatalf("paths %v", paths)
		}
		wantAuth(t, 37, h, "cf-token")
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 3 || logs[0].Quota <= 0 {
			t.Fatalf("logs %+v", logs)
		}
	})
}

// TestGeminiOpenAICompatibleChannel: a Gemini OpenAI-compatible channel
// (51) sends openai-go's chat, streamed and not, with tools, under
// /v1beta/openai with the Gemini API key as a Bearer, and bills it.
func TestGeminiOpenAICompatibleChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		row, ok := channeltype.Get(51)
		if !ok || row.Vendor.PathPrefix != "/v1beta/openai" {
			t.Fatalf("registry row %+v", row)
		}
		up := startVendor(t, "/v1beta/openai", fakeupstream.Behavior{Key: "AIza-openai"})
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "gemini openai", "type": 51, "key": "AIza-openai", "base_url": up.URL, "models": "gemini-2.5-flash"})
		c := f.client(f.tok.Key)
		ctx := context.Background()
		if resp, err := c.Chat.Completions.New(ctx, chat("gemini-2.5-flash")); err != nil || resp.Choices[0].Message.Content != "Hello from the fake upstream" {
			t.Fatalf("chat: %v %+v", err, resp)
		}
		if text, _ := streamAll(t, c, chat("gemini-2.5-flash")); text != "Hello from the fake upstream" {
			t.Fatalf("stream %q", text)
		}
		resp, err := c.Chat.Completions.New(ctx, withTools("gemini-2.5-flash"))
		if err != nil || !strings.Contains(string(up.fake.LastBody()), `"get_weather"`) {
			t.Fatalf("tools: %v %+v %s", err, resp, up.fake.LastBody())
		}
		paths, h := up.seen()
		for _, p := range paths {
			if p != "/v1beta/openai/chat/completions" {
				t.Fatalf("paths %v", paths)
			}
		}
		wantAuth(t, 51, h, "AIza-openai")
		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 3 || logs[0].Quota <= 0 || logs[0].ModelName != "gemini-2.5-flash" {
			t.Fatalf("logs %+v", logs)
		}
	})
}
