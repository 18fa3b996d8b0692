package controller_test

import (
	"fmt"
	"strings"
	"testing"

	"switchyard/internal/fakebedrock"
	"switchyard/internal/fakegemini"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestFetchModelsAsksTheChannelsProvider: GET /api/channel/fetch_models/:id
// (new-api's path) lists the models an OpenAI, Anthropic or Gemini
// channel's provider offers its key, every page of them, sorted, through
// the channel's proxy; a refused key is the upstream's auth failure with
// no key in the message; a provider without a list says so; only admins
// may ask, and nothing is saved.
func TestFetchModelsAsksTheChannelsProvider(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		oa := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-openai-good"})
		defer oa.Close()
		an := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-good"})
		defer an.Close()
		ge := fakegemini.Start(fakegemini.Behavior{Key: "AIza-good"})
		defer ge.Close()
		hp := startHTTPProxy(t, "fetch", "pw")
		f := newRelayFixture(t, app, 10_000_000, nil)
		openaiID := f.channel(t, map[string]any{"name": "oa", "key": "sk-openai-good", "base_url": oa.URL, "models": "x",
			"config": configJSON(t, map[string]string{"proxy": hp.URL()})})
		anthropicID := f.channel(t, map[string]any{"name": "an", "type": 14, "key": "sk-ant-good", "base_url": an.URL, "models": "x"})
		geminiID := f.channel(t, map[string]any{"name": "ge", "type": 24, "key": "AIza-good", "base_url": ge.URL, "models": "x"})
		deadID := f.channel(t, map[string]any{"name": "dead", "key": "sk-openai-revoked-9", "base_url": oa.URL, "models": "x"})
		azureID := f.channel(t, map[string]any{"name": "az", "type": 3, "key": "k", "base_url": "https://az.example", "models": "x"})

		fetch := func(id int) []string {
			t.Helper()
			var got []string
			f.root.Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", id), nil).Want(t, 200, true).Decode(t, &got)
			return got
		}
		if got := strings.Join(fetch(openaiID), ","); got != "gpt-4o-mini" {
			t.Fatalf("OpenAI: %s", got)
		}
		if hp.carried.Load() != 1 {
			t.Fatalf("the OpenAI channel's list did not go through its proxy (%d)", hp.carried.Load())
		}
		if got := strings.Join(fetch(anthropicID), ","); got != "claude-3-5-haiku-20241022,claude-opus-4-1,claude-sonnet-4-5" {
			t.Fatalf("Anthropic (two pages): %s", got)
		}
		if got := strings.Join(fetch(geminiID), ","); got != "gemini-2.5-flash,gemini-2.5-pro,gemini-embedding-001" {
			t.Fatalf("Gemini (two pages): %s", got)
		}
		r := f.root.Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", deadID), nil).WantFail(t, 502, "refused this channel's credentials")
		if strings.Contains(string(r.Raw), "revoked") {
			t.Fatalf("the reply shows the key: %s", r.Raw)
		}
		f.root.Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", azureID), nil).WantFail(t, 400, "does not list its models")
		f.root.Do("GET", "/api/channel/fetch_models/99999", nil).WantFail(t, 404, "")
		f.root.Do("GET", "/api/channel/fetch_models/abc", nil).WantFail(t, 400, "")
		f.root.Do("GET", "/api/channel/fetch_models/1%27%20OR%201=1", nil).WantFail(t, 400, "")
		f.user.Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", openaiID), nil).WantFail(t, 403, "")
		app.Anon(t).Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", openaiID), nil).WantFail(t, 401, "")

		// Nothing was saved: the channel still serves what it did.
		var ch model.Channel
		app.Store.DB.First(&ch, openaiID)
		if ch.Models != "x" {
			t.Fatalf("models became %q", ch.Models)
		}
	})
}

// TestFetchModelsOfANewChannel: POST /api/channel/fetch_models asks the
// provider a create form describes (type, key, base_url, config), before
// anything is saved, so the console can fill a new channel's list; bad
// forms are refused as a create would refuse them, and nothing is written.
func TestFetchModelsOfANewChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		an := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-good"})
		defer an.Close()
		oa := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-openai-good"})
		defer oa.Close()
		hp := startHTTPProxy(t, "new", "pw")
		root := app.Root(t)
		var got []string
		root.Do("POST", "/api/channel/fetch_models", map[string]any{"type": 14, "key": "sk-ant-good\nsk-ant-other", "base_url": an.URL}).Want(t, 200, true).Decode(t, &got)
		if strings.Join(got, ",") != "claude-3-5-haiku-20241022,claude-opus-4-1,claude-sonnet-4-5" {
			t.Fatalf("Anthropic: %v", got)
		}
		root.Do("POST", "/api/channel/fetch_models", map[string]any{"type": 8, "key": "sk-openai-good", "base_url": oa.URL,
			"config": configJSON(t, map[string]string{"proxy": hp.URL()})}).Want(t, 200, true).Decode(t, &got)
		if strings.Join(got, ",") != "gpt-4o-mini" || hp.carried.Load() != 1 {
			t.Fatalf("OpenAI through the proxy: %v (proxy carried %d)", got, hp.carried.Load())
		}
		for _, tc := range []struct {
			body   any
			status int
			msg    string
		}{
			{`{"type":14,`, 400, ""},
			{map[string]any{"type": "fourteen", "key": "k", "base_url": an.URL}, 400, ""},
			{map[string]any{"type": 14, "base_url": an.URL}, 400, "key is required"},
			{map[string]any{"type": 14, "key": " \n ", "base_url": an.URL}, 400, "key is required"},
			{map[string]any{"type": 8, "key": "k", "base_url": "ftp://x.example"}, 400, "base_url"},
			{map[string]any{"type": 8, "key": "k", "base_url": oa.URL, "config": `{"proxy":"gopher://x"}`}, 400, `config "proxy"`},
			{map[string]any{"type": 999, "key": "k"}, 400, "not supported"},
			{map[string]any{"type": 3, "key": "k", "base_url": "https://az.example"}, 400, "does not list its models"},
			{map[string]any{"type": 14, "key": "sk-ant-wrong' OR '1'='1", "base_url": an.URL}, 502, "refused this channel's credentials"},
			{map[string]any{"type": 14, "key": "ключ-✓", "base_url": an.URL}, 502, "refused this channel's credentials"},
		} {
			r := root.Do("POST", "/api/channel/fetch_models", tc.body).WantFail(t, tc.status, tc.msg)
			if strings.Contains(string(r.Raw), "sk-ant-wrong") {
				t.Fatalf("the reply shows the key: %s", r.Raw)
			}
		}
		app.NewUser(t, model.RoleCommon).Do("POST", "/api/channel/fetch_models", map[string]any{"type": 14, "key": "sk-ant-good", "base_url": an.URL}).WantFail(t, 403, "")
		app.Anon(t).Do("POST", "/api/channel/fetch_models", map[string]any{"type": 14, "key": "sk-ant-good", "base_url": an.URL}).WantFail(t, 401, "")
		var n int64
		app.Store.DB.Model(&model.Channel{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d channels written by asking for models", n)
		}
	})
}

// TestFetchModelsOfABedrockChannel: a Bedrock channel's list is
// ListFoundationModels' active on-demand text models and every page of
// ListInferenceProfiles' active profiles, signed with the channel's
// keys; ids the relay has a name for come back by that name.
func TestFetchModelsOfABedrockChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		b := fakebedrock.Start("AKIDSWITCHYARD", "bedrock-secret", "us-west-2", fakebedrock.Behavior{
			Models: []fakebedrock.Model{
				{ID: "anthropic.claude-3-5-haiku-20241022-v1:0", Output: "TEXT", Inference: []string{"ON_DEMAND"}, Status: "ACTIVE"},
				{ID: "amazon.nova-lite-v1:0", Output: "TEXT", Inference: []string{"ON_DEMAND", "INFERENCE_PROFILE"}, Status: "ACTIVE"},
				{ID: "anthropic.claude-v2:1", Output: "TEXT", Inference: []string{"ON_DEMAND"}, Status: "LEGACY"},
				{ID: "amazon.titan-embed-text-v2:0", Output: "EMBEDDING", Inference: []string{"ON_DEMAND"}, Status: "ACTIVE"},
				{ID: "meta.llama3-70b-instruct-v1:0:8k", Output: "TEXT", Inference: []string{"PROVISIONED"}, Status: "ACTIVE"},
				{ID: "anthropic.claude-sonnet-4-20250514-v1:0", Output: "TEXT", Inference: []string{"INFERENCE_PROFILE"}, Status: "ACTIVE"},
			},
			Profiles: []fakebedrock.Profile{
				{ID: "us.anthropic.claude-sonnet-4-20250514-v1:0", Status: "ACTIVE"},
				{ID: "eu.anthropic.claude-sonnet-4-20250514-v1:0", Status: "ACTIVE"},
				{ID: "us.amazon.nova-lite-v1:0", Status: "ACTIVE"},
				{ID: "us.meta.llama3-2-90b-instruct-v1:0", Status: "ACTIVE"},
				{ID: "us.anthropic.claude-v2-retired", Status: "INACTIVE"},
			},
		})
		defer b.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		cfg := func(sk string) string {
			return configJSON(t, map[string]string{"ak": "AKIDSWITCHYARD", "sk": sk, "region": "us-west-2"})
		}
		good := f.channel(t, map[string]any{"name": "bedrock", "type": 33, "key": "unused", "base_url": b.URL, "models": "x", "config": cfg("bedrock-secret")})
		wrong := f.channel(t, map[string]any{"name": "wrong", "type": 33, "key": "unused", "base_url": b.URL, "models": "x", "config": cfg("not-the-secret")})

		var got []string
		f.root.Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", good), nil).Want(t, 200, true).Decode(t, &got)
		want := "amazon.nova-lite-v1:0,claude-3-5-haiku-20241022,eu.anthropic.claude-sonnet-4-20250514-v1:0," +
			"us.amazon.nova-lite-v1:0,us.anthropic.claude-sonnet-4-20250514-v1:0,us.meta.llama3-2-90b-instruct-v1:0"
		if strings.Join(got, ",") != want {
			t.Fatalf("Bedrock's list:\n got %s\nwant %s", strings.Join(got, ","), want)
		}
		if b.CallsTo("/foundation-models") != 1 || b.CallsTo("/inference-profiles") != 3 {
			t.Fatalf("%d foundation-model lists, %d profile pages (want 1 and 3)", b.CallsTo("/foundation-models"), b.CallsTo("/inference-profiles"))
		}
		r := f.root.Do("GET", fmt.Sprintf("/api/channel/fetch_models/%d", wrong), nil).WantFail(t, 502, "refused this channel's credentials")
		if strings.Contains(string(r.Raw), "not-the-secret") {
			t.Fatalf("the reply shows the secret: %s", r.Raw)
		}
	})
}
