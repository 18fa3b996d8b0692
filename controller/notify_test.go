package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestRootIsToldWhenTheRelayDisablesOrEnablesAChannel: a channel the
// relay disables on its own (a dead key) is mailed to root, and one that
// passes its test again is pushed through Message Pusher once that is set
// (which then takes the place of mail, as in One API). Neither notice
// carries the channel's key, and the pusher's token never leaves the
// options API.
func TestRootIsToldWhenTheRelayDisablesOrEnablesAChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-good-upstream"})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		mails := f.root.StartMail()
		if err := app.Store.DB.Model(&model.User{}).Where("role >= ?", model.RoleRoot).Update("email", "root@example.com").Error; err != nil {
			t.Fatal(err)
		}
		f.option(t, "AutomaticDisableChannelEnabled", "true")
		f.option(t, "AutomaticEnableChannelEnabled", "true")
		id := f.channel(t, map[string]any{"name": "dying 渠道", "key": "sk-revoked-upstream-key-42", "base_url": up.URL, "models": "gpt-4o-mini"})

		if _, err := f.client(f.tok.Key).Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err == nil {
			t.Fatal("a dead key answered")
		}
		m := mails.Next(t)
		name := fmt.Sprintf("«dying 渠道» (#%d)", id)
		if m.To[0] != "root@example.com" || m.Header("Subject") != "Channel "+name+" was disabled" ||
			!strings.Contains(m.Text(), "disabled channel "+name+" automatically") || strings.Contains(string(m.Raw), "revoked-upstream") {
			t.Fatalf("mail to %v: %s\n%s", m.To, m.Header("Subject"), m.Text())
		}
		testkit.Eventually(t, 10*time.Second, "the channel disabled", func() bool { return channelStatus(app, id) == model.ChannelAutoDisabled })

		pushes := make(chan map[string]string, 4)
		ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var got map[string]string
			_ = json.NewDecoder(r.Body).Decode(&got)
			got["path"] = r.URL.Path
			pushes <- got
			w.Write([]byte(`{"success":true,"message":""}`))
		}))
		defer ps.Close()
		f.root.Do("PUT", "/api/option/", map[string]any{"key": "MessagePusherAddress", "value": "ftp://push.example"}).WantFail(t, 400, "http or https")
		f.option(t, "MessagePusherAddress", ps.URL+"/push/root")
		f.option(t, "MessagePusherToken", "push-token-123")
		if raw := string(f.root.Do("GET", "/api/option/", nil).Want(t, 200, true).Raw); strings.Contains(raw, "push-token-123") {
			t.Fatal("GET /api/option/ shows the Message Pusher token")
		}

		// The key is mended; the channel stays auto-disabled until its test.
		f.root.Do("PUT", "/api/channel/", map[string]any{"id": id, "key": "sk-good-upstream", "status": model.ChannelAutoDisabled, "models": "gpt-4o-mini"}).Want(t, 200, true)
		f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", id), nil).Want(t, 200, true)
		select {
		case p := <-pushes:
			if p["path"] != "/push/root" || p["title"] != "Channel "+name+" was enabled again" || p["token"] != "push-token-123" || !strings.Contains(p["content"], "passed its test") {
				t.Fatalf("push %v", p)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no Message Pusher notice within 10s of the channel's passing test")
		}
		if channelStatus(app, id) != model.ChannelEnabled {
			t.Fatal("the channel was not enabled")
		}
		if n := mails.Pending(); n != 0 {
			t.Fatalf("%d mails besides the push: Message Pusher takes mail's place", n)
		}
	})
}
