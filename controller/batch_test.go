package controller_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// badBatches are batch bodies every batch endpoint refuses with a 400
// naming the problem.
var badBatches = []struct{ body, msg string }{
	{`{"ids": [1, 2`, "not valid JSON"},
	{`nope`, "not valid JSON"},
	{``, "empty"},
	{`{}`, "at least one"},
	{`{"ids": []}`, "at least one"},
	{`{"ids": "1 OR 1=1"}`, "wrong type"},
	{`{"ids": ["1"]}`, "wrong type"},
	{`{"ids": [1.5]}`, "wrong type"},
	{`{"ids": [0]}`, "positive"},
	{`{"ids": [-3]}`, "positive"},
	{`{"ids": [99999999999999999999]}`, "wrong type"},
	{`{"ids": [` + strings.TrimSuffix(strings.Repeat("7,", 1001), ",") + `]}`, "at most 1000"},
	{`{"ids": {"1": "编号"}}`, "wrong type"},
}

// TestDeleteTokensInABatch pins new-api's POST /api/token/batch: the
// caller's tokens among the ids go, at once on the relay too; another
// user's are untouched; bad bodies change nothing.
func TestDeleteTokensInABatch(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		owner := app.NewUser(t, model.RoleCommon)
		other := app.NewUser(t, model.RoleCommon)
		mint := func(c *testkit.Client, name string) tokenReply {
			var tok tokenReply
			c.Do("POST", "/api/token/", map[string]any{"name": name, "unlimited_quota": true}).Want(t, 200, true).Decode(t, &tok)
			return tok
		}
		a, b, keep := mint(owner, "a"), mint(owner, "b"), mint(owner, "keep")
		theirs := mint(other, "theirs")
		models := func(key string) int {
			req, _ := http.NewRequest("GET", app.URL+"/v1/models", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			return app.Anon(t).Send(req).Status
		}
		if models(a.Key) != 200 {
			t.Fatal("a fresh token is refused")
		}

		app.Anon(t).Do("POST", "/api/token/batch", map[string]any{"ids": []int{a.ID}}).Want(t, 401, false)
		for _, bad := range badBatches {
			owner.Do("POST", "/api/token/batch", bad.body).WantFail(t, 400, bad.msg)
		}
		var n int64
		owner.Do("POST", "/api/token/batch", map[string]any{"ids": []int{a.ID, b.ID, b.ID, theirs.ID, 999999}}).Want(t, 200, true).Decode(t, &n)
		if n != 2 {
			t.Fatalf("deleted %d tokens, want the owner's 2", n)
		}
		owner.Do("GET", fmt.Sprintf("/api/token/%d", a.ID), nil).WantFail(t, 404, "not found")
		owner.Do("GET", fmt.Sprintf("/api/token/%d", keep.ID), nil).Want(t, 200, true)
		other.Do("GET", fmt.Sprintf("/api/token/%d", theirs.ID), nil).Want(t, 200, true)
		if models(a.Key) != 401 || models(b.Key) != 401 {
			t.Fatal("a deleted token still relays")
		}
		if models(keep.Key) != 200 || models(theirs.Key) != 200 {
			t.Fatal("a token left alone stopped working")
		}
		// Another user's ids only: nothing goes.
		other.Do("POST", "/api/token/batch", map[string]any{"ids": []int{keep.ID}}).Want(t, 200, true).Decode(t, &n)
		if n != 0 {
			t.Fatalf("a user deleted %d of another user's tokens", n)
		}
	})
}

// TestDeleteChannelsInABatch pins new-api's POST /api/channel/batch:
// admins only; the channels and their abilities go, and the relay stops
// choosing them at once.
func TestDeleteChannelsInABatch(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 1_000_000, nil)
		gone1 := f.channel(t, map[string]any{"name": "gone1", "base_url": up.URL, "models": "gpt-4o"})
		gone2 := f.channel(t, map[string]any{"name": "gone2", "base_url": up.URL, "models": "gpt-4o,gpt-4o-mini"})
		stays := f.channel(t, map[string]any{"name": "stays", "base_url": up.URL, "models": "gpt-3.5-turbo"})
		user, admin := app.NewUser(t, model.RoleCommon), app.NewUser(t, model.RoleAdmin)

		app.Anon(t).Do("POST", "/api/channel/batch", map[string]any{"ids": []int{gone1}}).Want(t, 401, false)
		user.Do("POST", "/api/channel/batch", map[string]any{"ids": []int{gone1}}).WantFail(t, 403, "permission")
		for _, bad := range badBatches {
			admin.Do("POST", "/api/channel/batch", bad.body).WantFail(t, 400, bad.msg)
		}
		if _, err := f.client(f.tok.Key).Chat.Completions.New(t.Context(), chat("gpt-4o-mini")); err != nil {
			t.Fatal("before the delete:", err)
		}
		var n int64
		admin.Do("POST", "/api/channel/batch", map[string]any{"ids": []int{gone1, gone2, 424242}}).Want(t, 200, true).Decode(t, &n)
		if n != 2 {
			t.Fatalf("deleted %d channels, want 2", n)
		}
		var abilities int64
		app.Store.DB.Model(&model.Ability{}).Where("channel_id IN ?", []int{gone1, gone2}).Count(&abilities)
		if abilities != 0 {
			t.Fatalf("%d abilities of deleted channels left", abilities)
		}
		admin.Do("GET", fmt.Sprintf("/api/channel/%d", gone2), nil).WantFail(t, 404, "not found")
		admin.Do("GET", fmt.Sprintf("/api/channel/%d", stays), nil).Want(t, 200, true)
		if _, err := f.client(f.tok.Key).Chat.Completions.New(t.Context(), chat("gpt-4o-mini")); err == nil || !strings.Contains(err.Error(), "no channel") {
			t.Fatalf("a model of deleted channels still relays: %v", err)
		}
		if _, err := f.client(f.tok.Key).Chat.Completions.New(t.Context(), chat("gpt-3.5-turbo")); err != nil {
			t.Fatal("the channel left alone stopped relaying:", err)
		}
	})
}

// TestDeleteInvalidRedemptions pins new-api's DELETE
// /api/redemption/invalid: used and disabled codes go, redeemable ones
// stay, the top-up's log stays; admins only.
func TestDeleteInvalidRedemptions(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		admin := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		var keys []string
		admin.Do("POST", "/api/redemption/", map[string]any{"name": "sweep", "quota": 40, "count": 3}).Want(t, 200, true).Decode(t, &keys)
		user.Do("POST", "/api/user/topup", map[string]string{"key": keys[0]}).Want(t, 200, true)
		var rows []model.Redemption
		admin.Do("GET", "/api/redemption/search?keyword=sweep", nil).Want(t, 200, true).Decode(t, &rows)
		for _, r := range rows {
			if r.Key == keys[1] {
				admin.Do("PUT", "/api/redemption/", map[string]any{"id": r.ID, "status": model.RedemptionDisabled}).Want(t, 200, true)
			}
		}

		app.Anon(t).Do("DELETE", "/api/redemption/invalid", nil).Want(t, 401, false)
		user.Do("DELETE", "/api/redemption/invalid", nil).WantFail(t, 403, "permission")
		admin.Do("GET", "/api/redemption/invalid", nil).WantFail(t, 400, "id must be")
		var n int64
		admin.Do("DELETE", "/api/redemption/invalid", nil).Want(t, 200, true).Decode(t, &n)
		if n != 2 {
			t.Fatalf("deleted %d codes, want the used and the disabled one", n)
		}
		admin.Do("GET", "/api/redemption/search?keyword=sweep", nil).Want(t, 200, true).Decode(t, &rows)
		if len(rows) != 1 || rows[0].Key != keys[2] {
			t.Fatalf("left %+v, want only the redeemable code", rows)
		}
		admin.Do("DELETE", "/api/redemption/invalid", nil).Want(t, 200, true).Decode(t, &n)
		if n != 0 {
			t.Fatalf("a second sweep deleted %d", n)
		}
		user.Do("POST", "/api/user/topup", map[string]string{"key": keys[2]}).Want(t, 200, true)
		var logs []model.Log
		user.Do("GET", "/api/log/self?type=1", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 2 {
			t.Fatalf("%d top-up logs, want 2 (a swept code keeps its log)", len(logs))
		}
	})
}
