package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestChannelHeadersReachTheUpstream pins the "headers" object of a
// channel's config: every relayed call and the channel test carry them
// (OpenRouter's HTTP-Referer and X-Title here), replacing what the adaptor
// set under the same name; an edit takes effect at once.
func TestChannelHeadersReachTheUpstream(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		id := f.channel(t, map[string]any{"name": "openrouter", "type": 20, "base_url": up.URL, "models": "gpt-4o-mini",
			"config": `{"headers":{"http-referer":"https://app.example","X-Title":"Switchyard 测试","User-Agent":"my-gateway/1.0"}}`})
		if _, err := f.client(f.tok.Key).Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		h := up.LastHeader()
		if h.Get("HTTP-Referer") != "https://app.example" || h.Get("X-Title") != "Switchyard 测试" || h.Get("User-Agent") != "my-gateway/1.0" {
			t.Fatalf("upstream headers %v", h)
		}
		if h.Get("Authorization") != "Bearer sk-upstream" {
			t.Fatalf("the key header changed: %q", h.Get("Authorization"))
		}
		f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", id), nil).Want(t, 200, true)
		if up.LastHeader().Get("X-Title") != "Switchyard 测试" {
			t.Fatal("the channel test did not carry the channel's headers")
		}

		// An edit applies to the next call.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": id, "config": `{"headers":{"X-Title":"renamed"}}`}).Want(t, 200, true)
		if _, err := f.client(f.tok.Key).Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		if h := up.LastHeader(); h.Get("X-Title") != "renamed" || h.Get("HTTP-Referer") != "" {
			t.Fatalf("after the edit: %v", h)
		}
	})
}

// TestChannelHeadersBadInput: a config whose headers could not be sent as
// they are, or would change how the message is framed, is refused in the
// management shape and nothing is written.
func TestChannelHeadersBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		many := make([]string, 33)
		for i := range many {
			many[i] = fmt.Sprintf(`"X-H%d":"v"`, i)
		}
		for _, tc := range []struct{ config, msg string }{
			{`{"headers":["X-Title"]}`, "must be an object"},
			{`{"headers":{"X-Title":1}}`, "must be an object"},
			{`{"headers":{"X Title":"v"}}`, "not a header name"},
			{`{"headers":{"X-Tïtle":"v"}}`, "not a header name"},
			{`{"headers":{"":"v"}}`, "not a header name"},
			{`{"headers":{"X-Title":"a\r\nX-Injected: 1"}}`, "one line"},
			{`{"headers":{"X-Title":"` + strings.Repeat("v", 5000) + `"}}`, "one line"},
			{`{"headers":{"content-length":"1"}}`, "set by the relay"},
			{`{"headers":{"Host":"evil.example"}}`, "set by the relay"},
			{`{"headers":{` + strings.Join(many, ",") + `}}`, "at most 32"},
		} {
			root.Do("POST", "/api/channel/", map[string]any{"name": "h", "type": 8, "key": "k", "base_url": "https://example.com", "models": "m", "config": tc.config}).
				WantFail(t, 400, tc.msg)
		}
		var n int64
		app.Store.DB.Model(&model.Channel{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d channels written by refused requests", n)
		}
		// A user may not set them at all.
		app.NewUser(t, model.RoleCommon).Do("POST", "/api/channel/", map[string]any{"name": "h", "type": 8, "key": "k", "base_url": "https://example.com", "models": "m",
			"config": `{"headers":{"X-Title":"v"}}`}).WantFail(t, 403, "")
	})
}
