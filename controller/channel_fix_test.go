package controller_test

import (
	"sort"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestFixAbilitiesRebuildsTheTableFromTheChannels pins new-api's POST
// /api/channel/fix: abilities lost, altered, left over from a deleted
// channel or added by hand are put back to what the channels imply, the
// reply counts the channels, relaying is untouched; admins only.
func TestFixAbilitiesRebuildsTheTableFromTheChannels(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 1_000_000, nil)
		wide := f.channel(t, map[string]any{"name": "wide", "base_url": up.URL, "models": "gpt-4o,gpt-4o-mini", "group": "default,vip", "priority": 5, "weight": 2})
		narrow := f.channel(t, map[string]any{"name": "narrow", "base_url": up.URL, "models": "gpt-3.5-turbo"})
		off := f.channel(t, map[string]any{"name": "off", "base_url": up.URL, "models": "o1"})
		admin := app.NewUser(t, model.RoleAdmin)
		admin.Do("PUT", "/api/channel/", map[string]any{"id": off, "status": model.ChannelManuallyDisabled}).Want(t, 200, true)

		table := func() []model.Ability {
			var rows []model.Ability
			if err := app.Store.DB.Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			sort.Slice(rows, func(i, j int) bool {
				a, b := rows[i], rows[j]
				if a.ChannelID != b.ChannelID {
					return a.ChannelID < b.ChannelID
				}
				if a.Group != b.Group {
					return a.Group < b.Group
				}
				return a.Model < b.Model
			})
			return rows
		}
		same := func(got, want []model.Ability) bool {
			if len(got) != len(want) {
				return false
			}
			for i := range want {
				if got[i] != want[i] {
					return false
				}
			}
			return true
		}
		want := table()
		if len(want) != 6 {
			t.Fatalf("the channels' own abilities: %+v", want)
		}

		// What a hand edit or an imported database leaves behind.
		db := app.Store.DB
		mustExec := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		mustExec(db.Where("channel_id = ? AND model = ?", wide, "gpt-4o").Delete(&model.Ability{}).Error)
		mustExec(db.Model(&model.Ability{}).Where("channel_id = ?", narrow).Updates(map[string]any{"priority": 99, "enabled": false}).Error)
		mustExec(db.Model(&model.Ability{}).Where("channel_id = ?", off).Update("enabled", true).Error)
		mustExec(db.Create([]model.Ability{
			{Group: "default", Model: "ghost' OR 1=1 --", ChannelID: 424242, Enabled: true},
			{Group: "vip", Model: "模型", ChannelID: narrow, Enabled: true},
		}).Error)

		broken := table()
		if same(broken, want) {
			t.Fatal("the hand edits did not change the table")
		}

		app.Anon(t).Do("POST", "/api/channel/fix", nil).Want(t, 401, false)
		app.NewUser(t, model.RoleCommon).Do("POST", "/api/channel/fix", nil).WantFail(t, 403, "permission")
		if got := table(); !same(got, broken) {
			t.Fatalf("refused repairs changed the table: %+v", got)
		}

		var data struct {
			Success int `json:"success"`
			Fails   int `json:"fails"`
		}
		// The endpoint takes no input: a stray body or query changes nothing.
		admin.Do("POST", "/api/channel/fix?id=1;DROP%20TABLE%20abilities", `{"broken": `).Want(t, 200, true).Decode(t, &data)
		if data.Success != 3 || data.Fails != 0 {
			t.Fatalf("fix answered %+v, want 3 channels rebuilt", data)
		}
		if got := table(); !same(got, want) {
			t.Fatalf("after the fix: %+v, want %+v", got, want)
		}
		app.Root(t).Do("POST", "/api/channel/fix", nil).Want(t, 200, true).Decode(t, &data)
		if data.Success != 3 || data.Fails != 0 {
			t.Fatalf("a second fix answered %+v", data)
		}

		if _, err := f.client(f.tok.Key).Chat.Completions.New(t.Context(), chat("gpt-4o")); err != nil {
			t.Fatal("relaying after the fix:", err)
		}
	})
}
