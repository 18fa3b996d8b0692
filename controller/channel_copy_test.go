package controller_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestCopyChannel pins new-api's POST /api/channel/copy/:id: the copy has
// the source's settings and key (sealed again at rest), abilities of its
// own, a name with the suffix, no usage, and the balance only when asked;
// it relays on its own; admins only; bad input makes nothing.
func TestCopyChannel(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"CRYPTO_SECRET": "copy-secret"}, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-copied-upstream-key-01"})
		defer up.Close()
		f := newRelayFixture(t, app, 1_000_000, nil)
		src := f.channel(t, map[string]any{
			"name": "source", "base_url": up.URL, "key": "sk-copied-upstream-key-01", "models": "gpt-4o-mini,gpt-4o",
			"group": "default,vip", "priority": 7, "weight": 3, "model_mapping": `{"gpt-4o":"gpt-4o-mini"}`,
			"config": `{"proxy":"http://user:pw@127.0.0.1:1"}`, "max_inflight": 9,
		})
		if err := app.Store.RecordChannelBalance(t.Context(), src, 12.5); err != nil {
			t.Fatal(err)
		}
		admin, user := app.NewUser(t, model.RoleAdmin), app.NewUser(t, model.RoleCommon)
		channels := func() int64 {
			var n int64
			app.Store.DB.Model(&model.Channel{}).Count(&n)
			return n
		}
		row := func(id int) model.Channel {
			var ch model.Channel
			if err := app.Store.DB.First(&ch, id).Error; err != nil {
				t.Fatal(err)
			}
			return ch
		}
		copyOf := func(c *testkit.Client, query string) *testkit.Reply {
			return c.Do("POST", fmt.Sprintf("/api/channel/copy/%d%s", src, query), nil)
		}

		before := channels()
		app.Anon(t).Do("POST", fmt.Sprintf("/api/channel/copy/%d", src), nil).Want(t, 401, false)
		user.Do("POST", fmt.Sprintf("/api/channel/copy/%d", src), nil).WantFail(t, 403, "permission")
		for _, bad := range []struct {
			path   string
			status int
			msg    string
		}{
			{"/api/channel/copy/abc", 400, "id must be"},
			{"/api/channel/copy/0", 400, "id must be"},
			{"/api/channel/copy/1%20OR%201=1", 400, "id must be"},
			{"/api/channel/copy/999999", 404, "not found"},
			{fmt.Sprintf("/api/channel/copy/%d?suffix=%s", src, strings.Repeat("x", 65)), 400, "suffix must be"},
			{fmt.Sprintf("/api/channel/copy/%d?suffix=%%ff", src), 400, "suffix must be"},
			{fmt.Sprintf("/api/channel/copy/%d?suffix=%s", src, strings.Repeat("长", 40)), 400, "suffix must be"},
			{fmt.Sprintf("/api/channel/copy/%d?reset_balance=maybe", src), 400, "reset_balance must be"},
		} {
			admin.Do("POST", bad.path, nil).WantFail(t, bad.status, bad.msg)
		}
		long := f.channel(t, map[string]any{"name": strings.Repeat("n", 125), "base_url": up.URL, "models": "gpt-4o-mini"})
		admin.Do("POST", fmt.Sprintf("/api/channel/copy/%d", long), nil).WantFail(t, 400, "longer than 128")
		if channels() != before+1 {
			t.Fatal("refused copies made channels")
		}

		var made struct {
			ID int `json:"id"`
		}
		copyOf(admin, "").Want(t, 200, true).Decode(t, &made)
		s, c := row(src), row(made.ID)
		if made.ID == src || c.Name != "source_copy" || c.Type != s.Type || c.BaseURL != s.BaseURL || c.Models != s.Models ||
			c.Group != s.Group || c.Priority != 7 || c.Weight != 3 || c.ModelMapping != s.ModelMapping || c.MaxInflight != 9 || c.Status != s.Status {
			t.Fatalf("copy %+v of %+v", c, s)
		}
		if c.Balance != 0 || c.UsedQuota != 0 || c.TestTime != 0 {
			t.Fatalf("the copy carries figures of its source: %+v", c)
		}
		if !strings.HasPrefix(c.Key, "enc:v1:") || c.Key == s.Key || !strings.Contains(c.Config, "enc:v1:") || strings.Contains(c.Config, "pw@") {
			t.Fatalf("the copy's secrets are not sealed afresh: key %q config %q", c.Key, c.Config)
		}
		if key, err := app.Store.ChannelKey(&c); err != nil || key != "sk-copied-upstream-key-01" {
			t.Fatalf("the copy's key opens to %q (%v)", key, err)
		}
		if rc := app.Store.Channels.ByID(made.ID); rc == nil || rc.Proxy == nil || rc.Proxy.String() != "http://user:pw@127.0.0.1:1" {
			t.Fatalf("the relay's view of the copy: %+v", rc)
		}
		var abilities int64
		app.Store.DB.Model(&model.Ability{}).Where("channel_id = ?", made.ID).Count(&abilities)
		if abilities != 4 {
			t.Fatalf("the copy has %d abilities, want 2 models × 2 groups", abilities)
		}

		copyOf(admin, "?suffix="+url.QueryEscape(" (二)")+"&reset_balance=false").Want(t, 200, true).Decode(t, &made)
		if c := row(made.ID); c.Name != "source (二)" || c.Balance != 12.5 {
			t.Fatalf("second copy %q balance %v", c.Name, c.Balance)
		}

		// A copy without the proxy relays on its own, the source disabled.
		plain := f.channel(t, map[string]any{"name": "plain", "base_url": up.URL, "key": "sk-copied-upstream-key-01", "models": "gpt-3.5-turbo"})
		admin.Do("POST", fmt.Sprintf("/api/channel/copy/%d", plain), nil).Want(t, 200, true).Decode(t, &made)
		admin.Do("PUT", "/api/channel/", map[string]any{"id": plain, "status": model.ChannelManuallyDisabled}).Want(t, 200, true)
		if _, err := f.client(f.tok.Key).Chat.Completions.New(t.Context(), chat("gpt-3.5-turbo")); err != nil {
			t.Fatal("the copy does not relay:", err)
		}
		if logs := f.consumeLogs(t); len(logs) != 1 || logs[0].ChannelID != made.ID {
			t.Fatalf("served by %+v, want the copy %d", logs, made.ID)
		}
	})
}
