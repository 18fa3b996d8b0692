package controller_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

func TestRedemptionAndTopUp(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		admin := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		var keys []string
		admin.Do("POST", "/api/redemption/", map[string]any{"name": "春节 gift", "quota": 700, "count": 3}).Want(t, 200, true).Decode(t, &keys)
		if len(keys) != 3 || len(keys[0]) != 32 || keys[0] == keys[1] {
			t.Fatalf("keys %v", keys)
		}
		var list []model.Redemption
		r := admin.Do("GET", "/api/redemption/?p=0&page_size=2", nil).Want(t, 200, true)
		r.Decode(t, &list)
		if len(list) != 2 || r.Total != 3 {
			t.Fatalf("list %d total %d", len(list), r.Total)
		}
		var credited int64
		user.Do("POST", "/api/user/topup", map[string]string{"key": keys[0]}).Want(t, 200, true).Decode(t, &credited)
		if credited != 700 {
			t.Fatalf("credited %d", credited)
		}
		user.Do("POST", "/api/user/topup", map[string]string{"key": keys[0]}).WantFail(t, 400, "invalid or has been used")
		var self model.User
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Quota != 700 {
			t.Fatalf("quota after top-up %d", self.Quota)
		}
		var logs []model.Log
		user.Do("GET", "/api/log/self?type=1", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 1 || logs[0].Quota != 700 || logs[0].Type != model.LogTopUp {
			t.Fatalf("top-up logs %+v", logs)
		}
		// A used code is final; a disabled one cannot be redeemed.
		var used model.Redemption
		for _, l := range list {
			if l.Key == keys[0] {
				used = l
			}
		}
		admin.Do("GET", "/api/redemption/search?keyword=春节", nil).Want(t, 200, true).Decode(t, &list)
		if len(list) != 3 {
			t.Fatalf("search found %d", len(list))
		}
		for _, l := range list {
			if l.Key == keys[0] {
				used = l
			}
		}
		admin.Do("PUT", "/api/redemption/", map[string]any{"id": used.ID, "quota": 99999}).WantFail(t, 400, "already redeemed")
		var second model.Redemption
		for _, l := range list {
			if l.Key == keys[1] {
				second = l
			}
		}
		admin.Do("PUT", "/api/redemption/?status_only=1", map[string]any{"id": second.ID, "status": 2}).Want(t, 200, true)
		user.Do("POST", "/api/user/topup", map[string]string{"key": keys[1]}).WantFail(t, 400, "invalid")
		admin.Do("DELETE", fmt.Sprintf("/api/redemption/%d", second.ID), nil).Want(t, 200, true)
		admin.Do("GET", fmt.Sprintf("/api/redemption/%d", second.ID), nil).WantFail(t, 404, "not found")
	})
}

func TestConcurrentRedeemCreditsOnce(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		var keys []string
		root.Do("POST", "/api/redemption/", map[string]any{"name": "race", "quota": 1000, "count": 1}).Want(t, 200, true).Decode(t, &keys)
		users := make([]*testkit.Client, 4)
		for i := range users {
			users[i] = app.NewUser(t, model.RoleCommon)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := users[i%len(users)].Try("POST", "/api/user/topup", map[string]string{"key": keys[0]})
				if err != nil {
					t.Error(err)
					return
				}
				if r.Success {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if r.Status != 400 {
					t.Errorf("losing redeem answered %d %s", r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d redeems succeeded, want exactly 1", wins)
		}
		var total, logs int64
		app.Store.DB.Model(&model.User{}).Where("role = ?", model.RoleCommon).Select("COALESCE(SUM(quota),0)").Scan(&total)
		app.Store.LogDB.Model(&model.Log{}).Where("type = ?", model.LogTopUp).Count(&logs)
		if total != 1000 || logs != 1 {
			t.Fatalf("credited %d in %d logs, want 1000 in 1", total, logs)
		}
	})
}

func TestRedemptionAuthorizationAndBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		admin := app.NewUser(t, model.RoleAdmin)
		anon := app.Anon(t)
		for _, c := range []struct {
			client *testkit.Client
			status int
		}{{anon, 401}, {user, 403}} {
			c.client.Do("GET", "/api/redemption/", nil).Want(t, c.status, false)
			c.client.Do("GET", "/api/redemption/search?keyword=a", nil).Want(t, c.status, false)
			c.client.Do("GET", "/api/redemption/1", nil).Want(t, c.status, false)
			c.client.Do("POST", "/api/redemption/", map[string]any{"name": "x", "quota": 1}).Want(t, c.status, false)
			c.client.Do("PUT", "/api/redemption/", map[string]any{"id": 1, "quota": 1}).Want(t, c.status, false)
			c.client.Do("DELETE", "/api/redemption/1", nil).Want(t, c.status, false)
		}
		anon.Do("POST", "/api/user/topup", map[string]string{"key": strings.Repeat("a", 32)}).WantFail(t, 401, "not signed in")
		for _, tc := range []struct{ body, msg string }{
			{`{"name": "x", "quota": 1, "count": 101}`, "count must be"},
			{`{"name": "x", "quota": 1, "count": -1}`, "count must be"},
			{`{"name": "x", "quota": 0}`, "quota must be"},
			{`{"name": "x", "quota": "lots"}`, "wrong type"},
			{`{"quota": 5}`, "name is required"},
			{fmt.Sprintf(`{"name": %q, "quota": 5}`, strings.Repeat("n", 100)), "name must be"},
			{`{"name": "x", "quota": 5`, "not valid JSON"},
		} {
			admin.Do("POST", "/api/redemption/", tc.body).WantFail(t, 400, tc.msg)
		}
		var n int64
		app.Store.DB.Model(&model.Redemption{}).Count(&n)
		if n != 0 {
			t.Fatalf("bad requests wrote %d codes", n)
		}
		for _, tc := range []struct{ body, msg string }{
			{`{"key": ""}`, "key is required"},
			{`{"key": "' OR 1=1 --"}`, "invalid"},
			{`{"key": 5}`, "wrong type"},
			{`nope`, "not valid JSON"},
		} {
			user.Do("POST", "/api/user/topup", tc.body).WantFail(t, 400, tc.msg)
		}
	})
}

// TestAdminCannotMintQuotaForThemselves is defect 11 of issue 13: an
// admin minted a code and redeemed it, and root saw no trace of it. Now a
// creator (other than root) cannot redeem their own code, and every admin
// act that changes a quota is a manage log that root reads.
func TestAdminCannotMintQuotaForThemselves(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		admin := app.NewUser(t, model.RoleAdmin)
		other := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		anon := app.Anon(t)
		mint := func(c *testkit.Client, quota int) string {
			var keys []string
			c.Do("POST", "/api/redemption/", map[string]any{"name": "self", "quota": quota, "count": 1}).Want(t, 200, true).Decode(t, &keys)
			return keys[0]
		}
		own := mint(admin, 900)
		admin.Do("POST", "/api/user/topup", map[string]string{"key": own}).WantFail(t, 403, "you created this code")
		user.Do("POST", "/api/redemption/", map[string]any{"name": "x", "quota": 5, "count": 1}).WantFail(t, 403, "")
		anon.Do("POST", "/api/user/topup", map[string]string{"key": own}).WantFail(t, 401, "not signed in")
		// The refused attempt left the code usable: another admin redeems it.
		other.Do("POST", "/api/user/topup", map[string]string{"key": own}).Want(t, 200, true)
		user.Do("POST", "/api/user/topup", map[string]string{"key": mint(admin, 300)}).Want(t, 200, true)
		// Root may redeem its own codes.
		root.Do("POST", "/api/user/topup", map[string]string{"key": mint(root, 50)}).Want(t, 200, true)
		// An admin setting a user's quota.
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": 1234}).Want(t, 200, true)

		var manage []model.Log
		root.Do("GET", "/api/log/?type=3&page_size=100", nil).Want(t, 200, true).Decode(t, &manage)
		has := func(userID int, quota int64, part string) bool {
			for _, l := range manage {
				if l.UserID == userID && l.Quota == quota && strings.Contains(l.Content, part) {
					return true
				}
			}
			return false
		}
		checks := []struct {
			what   string
			userID int
			quota  int64
			part   string
		}{
			{"the other admin's redemption", other.UserID, 900, "redeemed code"},
			{"root's redemption", 1, 50, "redeemed code"},
			{"the admin's minting", admin.UserID, 0, "created 1 redemption code"},
			{"the quota edit", user.UserID, 1234 - 300, "set the quota"},
		}
		for _, c := range checks {
			if !has(c.userID, c.quota, c.part) {
				t.Errorf("no manage log for %s (user %d, quota %d, %q) in %+v", c.what, c.userID, c.quota, c.part, manage)
			}
		}
		// A common user's redemption stays a top-up record.
		var topups []model.Log
		user.Do("GET", "/api/log/self?type=1", nil).Want(t, 200, true).Decode(t, &topups)
		if len(topups) != 1 || topups[0].Quota != 300 {
			t.Fatalf("user's top-up logs %+v", topups)
		}
		// The sums hold: quota = everything credited, each credit once.
		for _, c := range []*testkit.Client{admin, other, user} {
			var self model.User
			c.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
			var credited int64
			app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type <> ?", c.UserID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&credited)
			if self.Quota+self.UsedQuota != credited {
				t.Errorf("%s: quota %d + used %d != credited %d", c.Username, self.Quota, self.UsedQuota, credited)
			}
		}
	})
}
