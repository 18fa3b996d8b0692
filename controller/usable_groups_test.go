package controller_test

import (
	"fmt"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestUserUsableGroups pins new-api's UserUsableGroups: a user may give
// their own tokens a group the option offers (GET /api/user/self/groups
// lists them with ratio and description), and such a token reaches that
// group's channels at its price; any other group stays an admin's
// choice.
func TestUserUsableGroups(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 100_000_000, nil)
		f.option(t, "GroupRatio", `{"default":1,"vip":2,"svip":0.5}`)
		for _, bad := range []string{`[1]`, `{"vip": 5}`, `{"": "x"}`, `{"` + strings.Repeat("g", 33) + `": "x"}`, `{"vip": "` + strings.Repeat("d", 257) + `"}`, `not json`} {
			f.root.Do("PUT", "/api/option/", map[string]any{"key": "UserUsableGroups", "value": bad}).WantFail(t, 400, "UserUsableGroups")
		}
		groups := func() map[string]model.UsableGroup {
			var g map[string]model.UsableGroup
			f.user.Do("GET", "/api/user/self/groups", nil).Want(t, 200, true).Decode(t, &g)
			return g
		}
		app.Anon(t).Do("GET", "/api/user/self/groups", nil).Want(t, 401, false)
		if g := groups(); len(g) != 1 || g["default"].Ratio != 1 {
			t.Fatalf("with no usable groups: %+v", g)
		}
		f.user.Do("POST", "/api/token/", map[string]any{"name": "vip", "group": "vip"}).WantFail(t, 403, "not one you may give")

		f.option(t, "UserUsableGroups", `{"vip":"Faster channels, twice the price","gone":"not in GroupRatio"}`)
		if g := groups(); len(g) != 2 || g["vip"] != (model.UsableGroup{Ratio: 2, Desc: "Faster channels, twice the price"}) || g["default"].Ratio != 1 {
			t.Fatalf("usable groups: %+v", g)
		}
		var vip, plain tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "vip", "group": "vip", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &vip)
		f.user.Do("POST", "/api/token/", map[string]any{"name": "own", "group": "default", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &plain)
		f.user.Do("POST", "/api/token/", map[string]any{"name": "svip", "group": "svip"}).WantFail(t, 403, "not one you may give")
		f.user.Do("POST", "/api/token/", map[string]any{"name": "gone", "group": "gone"}).WantFail(t, 400, "not defined")
		f.user.Do("PUT", "/api/token/", map[string]any{"id": plain.ID, "group": "svip"}).WantFail(t, 403, "not one you may give")
		// A group the token has already (set while its owner was an
		// admin, or brought from One API) may be sent back unchanged.
		if err := app.Store.DB.Model(&model.Token{}).Where("id = ?", plain.ID).Update("group", "svip").Error; err != nil {
			t.Fatal(err)
		}
		f.user.Do("PUT", "/api/token/", map[string]any{"id": plain.ID, "name": "own, renamed", "group": "svip"}).Want(t, 200, true)
		f.option(t, "GroupRatio", `{"default":1,"vip":2}`)
		f.user.Do("PUT", "/api/token/", map[string]any{"id": plain.ID, "name": "own, again", "group": "svip"}).Want(t, 200, true)
		f.user.Do("POST", "/api/token/", map[string]any{"name": "svip", "group": "svip"}).WantFail(t, 400, "not defined")
		f.option(t, "GroupRatio", `{"default":1,"vip":2,"svip":0.5}`)
		f.user.Do("PUT", "/api/token/", map[string]any{"id": plain.ID, "group": "default"}).Want(t, 200, true)
		f.user.Do("PUT", "/api/token/", map[string]any{"id": plain.ID, "group": "svip"}).WantFail(t, 403, "not one you may give")
		f.user.Do("PUT", "/api/token/", map[string]any{"id": f.tok.ID, "group": "vip"}).Want(t, 200, true)
		f.user.Do("PUT", "/api/token/", map[string]any{"id": f.tok.ID, "group": ""}).Want(t, 200, true)

		// The vip token reaches the vip-only channel, at twice the price.
		f.channel(t, map[string]any{"name": "both", "base_url": up.URL, "models": "gpt-4o-mini", "group": "default,vip"})
		f.channel(t, map[string]any{"name": "vip only", "base_url": up.URL, "models": "gpt-4o", "group": "vip"})
		for _, key := range []string{plain.Key, vip.Key} {
			if _, err := f.client(key).Chat.Completions.New(t.Context(), chat("gpt-4o-mini")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.client(vip.Key).Chat.Completions.New(t.Context(), chat("gpt-4o")); err != nil {
			t.Fatal("the vip token does not reach the vip channel:", err)
		}
		if _, err := f.client(plain.Key).Chat.Completions.New(t.Context(), chat("gpt-4o")); err == nil {
			t.Fatal("a default token reached a vip-only channel")
		}
		logs := f.consumeLogs(t)
		if len(logs) != 3 || logs[0].TokenID != plain.ID || logs[1].TokenID != vip.ID || logs[1].Quota != 2*logs[0].Quota {
			t.Fatalf("consume logs %s", fmtLogs(logs))
		}

		// Taken off the list, the group is an admin's choice again.
		f.option(t, "UserUsableGroups", `{}`)
		f.user.Do("POST", "/api/token/", map[string]any{"name": "vip2", "group": "vip"}).WantFail(t, 403, "not one you may give")
		f.root.Do("POST", "/api/token/", map[string]any{"name": "vip", "group": "vip"}).Want(t, 200, true)
	})
}

func fmtLogs(logs []model.Log) string {
	var b strings.Builder
	for _, l := range logs {
		fmt.Fprintf(&b, "[token %d quota %d model %s] ", l.TokenID, l.Quota, l.ModelName)
	}
	return b.String()
}
