package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchyard/common/channeltype"
	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

type channelReply struct {
	model.Channel
	Inflight int64 `json:"inflight"`
}

func TestChannelEndpoints(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"CRYPTO_SECRET": "channel-secret"}, func(t *testing.T, app *testkit.App) {
		// Inside the subtest: ForEachDB's subtests run after this function returns.
		up := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-good-upstream-key-0001"})
		defer up.Close()
		root := app.Root(t)

		// A multi-line key makes one channel per line; keys never come back whole.
		var created []channelReply
		root.Do("POST", "/api/channel/", map[string]any{
			"type": 8, "name": "fake", "base_url": up.URL, "models": "gpt-4o-mini, gpt-4o,gpt-4o-mini",
			"group": "default,vip", "priority": 5, "weight": 3,
			"key": "sk-good-upstream-key-0001\n\n  sk-bad-upstream-key-00002  \n",
		}).Want(t, 200, true).Decode(t, &created)
		if len(created) != 2 {
			t.Fatalf("created %d channels from two keys", len(created))
		}
		for _, ch := range created {
			if strings.Contains(ch.Key, "upstream-key") || ch.Models != "gpt-4o-mini,gpt-4o" || ch.Status != 1 {
				t.Fatalf("channel %+v", ch)
			}
		}
		good, bad := created[0].ID, created[1].ID

		// At rest the key is sealed, since CRYPTO_SECRET is set.
		var stored model.Channel
		if err := app.Store.DB.First(&stored, good).Error; err != nil || !strings.HasPrefix(stored.Key, "enc:v1:") {
			t.Fatalf("stored key %q err %v", stored.Key, err)
		}
		// Abilities: 2 groups × 2 models per channel.
		var n int64
		app.Store.DB.Model(&model.Ability{}).Where("channel_id = ?", good).Count(&n)
		if n != 4 {
			t.Fatalf("%d abilities, want 4", n)
		}

		var list []channelReply
		r := root.Do("GET", "/api/channel/?p=0&page_size=1", nil).Want(t, 200, true)
		r.Decode(t, &list)
		if len(list) != 1 || r.Total != 2 || list[0].ID != bad {
			t.Fatalf("page %+v total %d", list, r.Total)
		}
		root.Do("GET", "/api/channel/search?keyword=fak", nil).Want(t, 200, true).Decode(t, &list)
		if len(list) != 2 {
			t.Fatalf("search found %d", len(list))
		}
		root.Do("GET", fmt.Sprintf("/api/channel/search?keyword=%d", good), nil).Want(t, 200, true).Decode(t, &list)
		if len(list) == 0 || list[len(list)-1].ID != good {
			t.Fatalf("search by id %+v", list)
		}
		root.Do("GET", "/api/channel/search?keyword=100%25_off", nil).Want(t, 200, true).Decode(t, &list)
		if len(list) != 0 {
			t.Fatal("LIKE wildcards in the keyword matched")
		}

		// PUT changes only what it sends; an empty key keeps the old one.
		var upd channelReply
		root.Do("PUT", "/api/channel/", map[string]any{"id": good, "name": "renamed", "key": ""}).Want(t, 200, true).Decode(t, &upd)
		if upd.Name != "renamed" || upd.Models != "gpt-4o-mini,gpt-4o" || upd.Priority != 5 || upd.Weight != 3 {
			t.Fatalf("update %+v", upd)
		}
		root.Do("PUT", "/api/channel/", map[string]any{"id": good, "models": "gpt-4o-mini"}).Want(t, 200, true)
		app.Store.DB.Model(&model.Ability{}).Where("channel_id = ?", good).Count(&n)
		if n != 2 {
			t.Fatalf("abilities not rebuilt on update: %d", n)
		}
		if tiers := app.Store.Channels.Tiers("vip", "gpt-4o"); len(tiers) != 1 || len(tiers[0].Channels) != 1 || tiers[0].Channels[0].ID != bad {
			t.Fatalf("index after update: %+v", tiers)
		}

		// Tests: the good key passes and records a response time; the bad
		// one fails with a reason.
		var res struct {
			Success bool    `json:"success"`
			Message string  `json:"message"`
			Time    float64 `json:"time"`
		}
		tr := root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=gpt-4o-mini", good), nil)
		if err := jsonUnmarshal(tr.Raw, &res); err != nil || !res.Success || tr.Status != 200 {
			t.Fatalf("test good: %d %s", tr.Status, tr.Raw)
		}
		root.Do("GET", fmt.Sprintf("/api/channel/%d", good), nil).Want(t, 200, true).Decode(t, &upd)
		if upd.TestTime == 0 {
			t.Fatal("test time not recorded")
		}
		tr = root.Do("GET", fmt.Sprintf("/api/channel/test/%d", bad), nil)
		if err := jsonUnmarshal(tr.Raw, &res); err != nil || res.Success || res.Message == "" || strings.Contains(string(tr.Raw), "bad-upstream") {
			t.Fatalf("test bad: %d %s", tr.Status, tr.Raw)
		}

		// Balance from the OpenAI-style billing endpoints: 100 - 12.34.
		br := root.Do("GET", fmt.Sprintf("/api/channel/update_balance/%d", good), nil)
		var bal struct {
			Success bool    `json:"success"`
			Balance float64 `json:"balance"`
		}
		if err := jsonUnmarshal(br.Raw, &bal); err != nil || !bal.Success || bal.Balance < 87.65 || bal.Balance > 87.67 {
			t.Fatalf("balance: %s", br.Raw)
		}
		root.Do("GET", "/api/channel/update_balance", nil).Want(t, 200, true)
		root.Do("GET", "/api/channel/test", nil).Want(t, 200, true)

		var models []struct {
			ID string `json:"id"`
		}
		root.Do("GET", "/api/channel/models", nil).Want(t, 200, true).Decode(t, &models)
		if len(models) < 10 {
			t.Fatalf("channel models %+v", models)
		}

		// Disable by hand, then DELETE /disabled takes it away.
		root.Do("PUT", "/api/channel/", map[string]any{"id": bad, "status": 2}).Want(t, 200, true)
		if app.Store.Channels.Tiers("vip", "gpt-4o") != nil {
			t.Fatal("a disabled channel stayed in the index")
		}
		var deleted int
		root.Do("DELETE", "/api/channel/disabled", nil).Want(t, 200, true).Decode(t, &deleted)
		if deleted != 1 {
			t.Fatalf("deleted %d", deleted)
		}
		root.Do("DELETE", fmt.Sprintf("/api/channel/%d", good), nil).Want(t, 200, true)
		root.Do("GET", fmt.Sprintf("/api/channel/%d", good), nil).WantFail(t, 404, "not found")
		app.Store.DB.Model(&model.Ability{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d abilities left after deleting every channel", n)
		}
	})
}

func TestChannelEndpointsRefuseBadInputAndNonAdmins(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		user := app.NewUser(t, model.RoleCommon)
		anon := app.Anon(t)
		for _, ep := range []struct{ method, path string }{
			{"GET", "/api/channel/"}, {"GET", "/api/channel/search?keyword=a"}, {"GET", "/api/channel/1"},
			{"POST", "/api/channel/"}, {"PUT", "/api/channel/"}, {"DELETE", "/api/channel/1"},
			{"DELETE", "/api/channel/disabled"}, {"GET", "/api/channel/test/1"}, {"GET", "/api/channel/test"},
			{"GET", "/api/channel/update_balance/1"}, {"GET", "/api/channel/update_balance"}, {"GET", "/api/channel/models"},
			{"GET", "/api/channel/types"}, {"POST", "/api/channel/1/keys/0/enable"},
		} {
			anon.Do(ep.method, ep.path, nil).WantFail(t, 401, "")
			user.Do(ep.method, ep.path, nil).WantFail(t, 403, "permission")
		}
		for _, tc := range []struct {
			body any
			msg  string
		}{
			{`{"type":1,`, "not valid JSON"},
			{map[string]any{"type": 8, "models": "m", "base_url": "http://x"}, "key is required"},
			{map[string]any{"type": 99, "key": "k", "models": "m"}, "not supported"},
			{map[string]any{"type": 8, "key": "k", "models": "m"}, "needs a base_url"},
			{map[string]any{"type": 3, "key": "k", "models": "m"}, "needs a base_url"},
			{map[string]any{"type": 34, "key": "k", "models": "m"}, "not supported"},
			{map[string]any{"type": 8, "key": "k", "models": "m", "base_url": "ftp://x"}, "http or https"},
			{map[string]any{"type": 1, "key": "k", "models": " , "}, "at least one model"},
			{map[string]any{"type": 1, "key": "k", "models": "m", "model_mapping": "[1]"}, "model_mapping"},
			{map[string]any{"type": 1, "key": "k", "models": "m", "weight": -1}, "weight"},
			{map[string]any{"type": 1, "key": "k", "models": "m", "status": 7}, "status"},
			{map[string]any{"type": "one", "key": "k", "models": "m"}, "wrong type"},
			{map[string]any{"type": 1, "key": "k", "models": "m", "test_model": "other"}, "not one of the channel's models"},
			{map[string]any{"type": 1, "key": "k", "models": "m", "test_model": "模型'; DROP TABLE channels;--"}, "not one of the channel's models"},
			{map[string]any{"type": 1, "key": "k", "models": "m", "test_model": 7}, "wrong type"},
		} {
			root.Do("POST", "/api/channel/", tc.body).WantFail(t, 400, tc.msg)
		}
		root.Do("PUT", "/api/channel/", map[string]any{"name": "x"}).WantFail(t, 400, "id is required")
		root.Do("PUT", "/api/channel/", map[string]any{"id": 999999, "name": "x"}).WantFail(t, 404, "not found")
		root.Do("GET", "/api/channel/abc", nil).WantFail(t, 400, "positive whole number")
		root.Do("GET", "/api/channel/test/999999", nil).WantFail(t, 404, "not found")
		root.Do("DELETE", "/api/channel/999999", nil).WantFail(t, 404, "not found")
		root.Do("GET", "/api/channel/search?keyword="+strings.Repeat("k", 200), nil).WantFail(t, 400, "keyword")
	})
}

// TestChannelKeyEnable: an admin brings back one key of a multi-key
// channel that was disabled on its own, by its index in the masked list;
// the others keep their state, and bad indexes, single-key channels and
// non-admins are refused.
func TestChannelKeyEnable(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		admin := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		anon := app.Anon(t)
		keys := []string{"sk-multi-key-aaaa-0001", "sk-multi-key-bbbb-0002", "sk-multi-key-cccc-0003"}
		var out []model.ChannelView
		root.Do("POST", "/api/channel/", map[string]any{"type": 8, "name": "three keys", "key": strings.Join(keys, "\n"),
			"multi_key_mode": "random", "base_url": "http://127.0.0.1:1", "models": "gpt-4o-mini"}).Want(t, 200, true).Decode(t, &out)
		id := out[0].ID
		root.Do("POST", "/api/channel/", map[string]any{"type": 8, "name": "one key", "key": "sk-single-key-0001",
			"base_url": "http://127.0.0.1:1", "models": "gpt-4o-mini"}).Want(t, 200, true).Decode(t, &out)
		single := out[0].ID

		ctx := context.Background()
		for _, k := range keys[:2] {
			if _, _, err := app.Store.DisableChannelKey(ctx, id, k, "invalid api key"); err != nil {
				t.Fatal(err)
			}
		}
		path := func(id int, index string) string { return fmt.Sprintf("/api/channel/%d/keys/%s/enable", id, index) }

		anon.Do("POST", path(id, "1"), nil).WantFail(t, 401, "")
		user.Do("POST", path(id, "1"), nil).WantFail(t, 403, "permission")
		for _, index := range []string{"x", "-1", "3", "1.5", "99999999999999999999", "%EF%BC%91", "1%27%3B%20DROP%20TABLE%20channels%3B--"} {
			root.Do("POST", path(id, index), nil).WantFail(t, 400, "index")
		}
		root.Do("POST", "/api/channel/abc/keys/0/enable", nil).WantFail(t, 400, "positive whole number")
		root.Do("POST", path(999999, "0"), nil).WantFail(t, 404, "not found")
		root.Do("POST", path(single, "0"), nil).WantFail(t, 400, "holds one key")

		var view model.ChannelView
		admin.Do("POST", path(id, "1"), nil).Want(t, 200, true).Decode(t, &view)
		if len(view.Keys) != 3 || view.Keys[0].Status != model.ChannelAutoDisabled || view.Keys[1].Status != model.ChannelEnabled ||
			view.Keys[1].Reason != "" || view.Keys[2].Status != model.ChannelEnabled {
			t.Fatalf("after enabling key 1: %+v", view.Keys)
		}
		for _, k := range view.Keys {
			for _, whole := range keys {
				if strings.Contains(k.Key, whole) {
					t.Fatalf("key shown whole: %q", k.Key)
				}
			}
		}
		testkit.Eventually(t, 5*time.Second, "the relay's key set sees key 1 alive", func() bool {
			ch := app.Store.Channels.ByID(id)
			return ch != nil && !ch.Keys.Dead(1) && ch.Keys.Dead(0)
		})
		// A key that is alive already stays so: nothing changes.
		root.Do("POST", path(id, "2"), nil).Want(t, 200, true).Decode(t, &view)
		if view.Keys[0].Status != model.ChannelAutoDisabled || view.Keys[2].Status != model.ChannelEnabled {
			t.Fatalf("enabling a live key changed the others: %+v", view.Keys)
		}
	})
}

// TestChannelTestSendsAChatModel pins the bug a newcomer hit: after "add
// the type's default models" the test sent dall-e-2, which OpenAI refuses
// on chat completions.
func TestChannelTestSendsAChatModel(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	app := testkit.Start(t, "sqlite", nil)
	root := app.Root(t)
	var created []channelReply
	root.Do("POST", "/api/channel/", map[string]any{
		"type": 8, "name": "mixed", "base_url": up.URL, "key": "sk-k",
		"models": "dall-e-2,text-embedding-3-small,tts-1,whisper-1,omni-moderation-latest,gpt-4o-mini,gpt-4o",
	}).Want(t, 200, true).Decode(t, &created)
	id := created[0].ID
	sent := func() string {
		var body struct {
			Model string `json:"model"`
		}
		if err := jsonUnmarshal(up.LastBody(), &body); err != nil {
			t.Fatalf("upstream body %s: %v", up.LastBody(), err)
		}
		return body.Model
	}
	test := func(query string) {
		t.Helper()
		var res struct {
			Success bool   `json:"success"`
			Message string `json:"message"`
		}
		tr := root.Do("GET", fmt.Sprintf("/api/channel/test/%d%s", id, query), nil)
		if err := jsonUnmarshal(tr.Raw, &res); err != nil || !res.Success {
			t.Fatalf("test%s: %d %s", query, tr.Status, tr.Raw)
		}
	}
	test("")
	if m := sent(); m != "gpt-4o-mini" {
		t.Fatalf("the default test sent %q, want the first chat model gpt-4o-mini", m)
	}
	var upd channelReply
	root.Do("PUT", "/api/channel/", map[string]any{"id": id, "test_model": "gpt-4o"}).Want(t, 200, true).Decode(t, &upd)
	if upd.TestModel != "gpt-4o" {
		t.Fatalf("test_model not saved: %+v", upd)
	}
	test("")
	if m := sent(); m != "gpt-4o" {
		t.Fatalf("the test sent %q, want the channel's test_model gpt-4o", m)
	}
	test("?model=gpt-4o-mini")
	if m := sent(); m != "gpt-4o-mini" {
		t.Fatalf("the test sent %q, want the model the admin chose", m)
	}
	root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=gpt-5-imaginary", id), nil).WantFail(t, 400, "does not serve model")
	root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=%s", id, strings.Repeat("m", 300)), nil).WantFail(t, 400, "too long")
	// Removing the test model from the list is refused rather than left dangling.
	root.Do("PUT", "/api/channel/", map[string]any{"id": id, "models": "gpt-4o-mini"}).WantFail(t, 400, "test_model")

	// A channel of image models only has nothing a chat test can send.
	root.Do("POST", "/api/channel/", map[string]any{
		"type": 8, "name": "images", "base_url": up.URL, "key": "sk-k", "models": "dall-e-3",
	}).Want(t, 200, true).Decode(t, &created)
	root.Do("GET", fmt.Sprintf("/api/channel/test/%d", created[0].ID), nil).WantFail(t, 400, "no chat model")
}

// The console reads channel types from the server; the reply is the
// registry, in the shape the console's type picker reads.
func TestChannelTypesComeFromTheRegistry(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		admin := app.NewUser(t, model.RoleAdmin)
		var got []map[string]any
		admin.Do("GET", "/api/channel/types", nil).Want(t, 200, true).Decode(t, &got)
		byType := map[float64]map[string]any{}
		for _, row := range got {
			for _, k := range []string{"type", "name", "base_url", "base_url_required", "models", "other", "other_default", "config", "key_hint"} {
				if _, ok := row[k]; !ok {
					t.Fatalf("row %v lacks %q", row, k)
				}
			}
			byType[row["type"].(float64)] = row
		}
		for _, n := range []float64{1, 3, 8, 14, 20, 25, 28, 29, 30, 36, 39, 44, 45} {
			if byType[n] == nil {
				t.Fatalf("type %v missing from %v", n, got)
			}
		}
		if az := byType[3]; az["other"] == "" || az["other_default"] != channeltype.AzureAPIVersion || az["base_url_required"] != true {
			t.Fatalf("azure row %v", az)
		}
		if len(byType[14]["models"].([]any)) == 0 {
			t.Fatalf("anthropic row offers no models: %v", byType[14])
		}
		// A query string changes nothing: the list takes no input.
		var again []map[string]any
		admin.Do("GET", "/api/channel/types?type=1%27%20OR%201=1--&name=%E2%9C%93", nil).Want(t, 200, true).Decode(t, &again)
		if len(again) != len(got) {
			t.Fatalf("%d rows with a query string, %d without", len(again), len(got))
		}
		app.Root(t).Do("GET", "/api/channel/types", nil).Want(t, 200, true)
	})
}
