package controller_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"switchyard/common/crypto"
	"switchyard/internal/testkit"
	"switchyard/model"
)

type tokenReply struct {
	model.Token
	Key string `json:"key"`
}

var keyPattern = regexp.MustCompile(`^sk-[A-Za-z0-9]{48}$`)

func TestTokenLifecycle(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		var created tokenReply
		user.Do("POST", "/api/token/", map[string]any{"name": "令牌 one", "remain_quota": 5000, "expired_time": -1, "models": "gpt-4o, gpt-4o-mini", "subnet": "10.0.0.0/8, 127.0.0.1"}).
			Want(t, 200, true).Decode(t, &created)
		if !keyPattern.MatchString(created.Key) {
			t.Fatalf("key %q is not sk- plus 48 characters", created.Key)
		}
		if created.Models != "gpt-4o,gpt-4o-mini" || created.Subnet != "10.0.0.0/8,127.0.0.1" || created.Status != model.TokenEnabled || created.RemainQuota != 5000 {
			t.Fatalf("created %+v", created)
		}
		// The database holds only the hash and the display parts.
		var row model.Token
		app.Store.DB.First(&row, created.ID)
		if row.KeyHash != crypto.HashKey(created.Key) || strings.Contains(row.KeyPrefix+row.KeySuffix, created.Key[7:40]) {
			t.Fatalf("stored token row %+v", row)
		}
		// The key is never shown again.
		for _, path := range []string{"/api/token/", fmt.Sprintf("/api/token/%d", created.ID), "/api/token/search?keyword=令牌"} {
			r := user.Do("GET", path, nil).Want(t, 200, true)
			if strings.Contains(string(r.Raw), created.Key) || strings.Contains(string(r.Raw), created.Key[3:]) {
				t.Fatalf("%s shows the whole key: %s", path, r.Raw)
			}
		}
		var list []tokenReply
		r := user.Do("GET", "/api/token/?p=0&page_size=10", nil).Want(t, 200, true)
		r.Decode(t, &list)
		if len(list) != 1 || r.Total != 1 || list[0].Key != created.Key[:7]+"**********"+created.Key[len(created.Key)-4:] {
			t.Fatalf("list %+v total %d", list, r.Total)
		}

		// Edit limits, then disable and enable with status_only.
		var edited tokenReply
		user.Do("PUT", "/api/token/", map[string]any{"id": created.ID, "name": "renamed", "remain_quota": 100, "models": ""}).Want(t, 200, true).Decode(t, &edited)
		if edited.Name != "renamed" || edited.RemainQuota != 100 || edited.Models != "" {
			t.Fatalf("edited %+v", edited)
		}
		user.Do("PUT", "/api/token/?status_only=1", map[string]any{"id": created.ID, "status": 2}).Want(t, 200, true).Decode(t, &edited)
		if edited.Status != model.TokenDisabled || edited.Name != "renamed" {
			t.Fatalf("disabled %+v", edited)
		}
		user.Do("PUT", "/api/token/?status_only=1", map[string]any{"id": created.ID, "status": 1}).Want(t, 200, true)
		// An exhausted token cannot be enabled until its quota is raised.
		user.Do("PUT", "/api/token/", map[string]any{"id": created.ID, "remain_quota": 0}).Want(t, 200, true)
		user.Do("PUT", "/api/token/?status_only=1", map[string]any{"id": created.ID, "status": 1}).WantFail(t, 400, "quota is used up")

		user.Do("DELETE", fmt.Sprintf("/api/token/%d", created.ID), nil).Want(t, 200, true)
		user.Do("GET", fmt.Sprintf("/api/token/%d", created.ID), nil).WantFail(t, 404, "not found")
	})
}

func TestTokenAuthorization(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		owner := app.NewUser(t, model.RoleCommon)
		other := app.NewUser(t, model.RoleCommon)
		admin := app.NewUser(t, model.RoleAdmin)
		root := app.Root(t)
		var tok tokenReply
		owner.Do("POST", "/api/token/", map[string]any{"name": "mine"}).Want(t, 200, true).Decode(t, &tok)
		id := tok.ID

		anon := app.Anon(t)
		anon.Do("GET", "/api/token/", nil).WantFail(t, 401, "not signed in")
		anon.Do("POST", "/api/token/", map[string]any{"name": "x"}).WantFail(t, 401, "not signed in")
		anon.Do("DELETE", fmt.Sprintf("/api/token/%d", id), nil).WantFail(t, 401, "not signed in")

		// Everyone else, admins and root included, sees someone else's
		// token as missing: tokens are private to their owner.
		for _, c := range []*testkit.Client{other, admin, root} {
			c.Do("GET", fmt.Sprintf("/api/token/%d", id), nil).WantFail(t, 404, "not found")
			c.Do("PUT", "/api/token/", map[string]any{"id": id, "name": "stolen"}).WantFail(t, 404, "not found")
			c.Do("PUT", "/api/token/?status_only=1", map[string]any{"id": id, "status": 2}).WantFail(t, 404, "not found")
			c.Do("DELETE", fmt.Sprintf("/api/token/%d", id), nil).WantFail(t, 404, "not found")
			var list []tokenReply
			c.Do("GET", "/api/token/", nil).Want(t, 200, true).Decode(t, &list)
			if len(list) != 0 {
				t.Fatalf("another user's list shows %d tokens", len(list))
			}
		}
		var still tokenReply
		owner.Do("GET", fmt.Sprintf("/api/token/%d", id), nil).Want(t, 200, true).Decode(t, &still)
		if still.Name != "mine" || still.Status != model.TokenEnabled {
			t.Fatalf("token changed by others: %+v", still)
		}
		// A common user may not pick a cheaper group; an admin may.
		owner.Do("POST", "/api/token/", map[string]any{"name": "vip", "group": "vip"}).WantFail(t, 403, "group")
		admin.Do("POST", "/api/token/", map[string]any{"name": "vip", "group": "vip"}).Want(t, 200, true)
	})
}

func TestTokenBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		past := time.Now().Add(-time.Hour).Unix()
		cases := []struct{ name, body, msg string }{
			{"malformed", `{"name": "x"`, "not valid JSON"},
			{"missing name", `{"remain_quota": 5}`, "name is required"},
			{"empty name", `{"name": "   "}`, "name must be"},
			{"long name", fmt.Sprintf(`{"name": %q}`, strings.Repeat("名", 65)), "name must be"},
			{"wrong type quota", `{"name": "x", "remain_quota": "many"}`, "wrong type"},
			{"negative quota", `{"name": "x", "remain_quota": -1}`, "negative"},
			{"past expiry", fmt.Sprintf(`{"name": "x", "expired_time": %d}`, past), "expired_time"},
			{"bad subnet", `{"name": "x", "subnet": "10.0.0.0/99"}`, "subnet"},
			{"SQL subnet", `{"name": "x", "subnet": "1.1.1.1' OR '1'='1"}`, "subnet"},
			{"huge models", fmt.Sprintf(`{"name": "x", "models": %q}`, strings.Repeat("m,", 5000)), "models must be"},
			{"unknown group", `{"name": "x", "group": "gold"}`, "group"},
			{"unlimited wrong type", `{"name": "x", "unlimited_quota": "yes"}`, "wrong type"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { user.Do("POST", "/api/token/", tc.body).WantFail(t, 400, tc.msg) })
		}
		var n int64
		app.Store.DB.Model(&model.Token{}).Count(&n)
		if n != 0 {
			t.Fatalf("bad requests wrote %d tokens", n)
		}
		user.Do("PUT", "/api/token/", `{"name": "x"}`).WantFail(t, 400, "id is required")
		user.Do("PUT", "/api/token/?status_only=1", `{"id": 1}`).WantFail(t, 404, "not found")
		user.Do("GET", "/api/token/abc", nil).WantFail(t, 400, "id")
		user.Do("DELETE", "/api/token/-3", nil).WantFail(t, 400, "id")
		var found []tokenReply
		user.Do("GET", "/api/token/search?keyword=%25%27%20OR%201%3D1", nil).Want(t, 200, true).Decode(t, &found)
		if len(found) != 0 {
			t.Fatalf("SQL-ish search found %d", len(found))
		}
	})
}

func TestInitialRootToken(t *testing.T) {
	key := "sk-" + strings.Repeat("R", 48)
	testkit.ForEachDB(t, map[string]string{"INITIAL_ROOT_TOKEN": key}, func(t *testing.T, app *testkit.App) {
		c := app.Anon(t)
		req, _ := http.NewRequest("GET", app.URL+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if r := c.Send(req); r.Status != 200 {
			t.Fatalf("INITIAL_ROOT_TOKEN on /v1/models: %d %s", r.Status, r.Raw)
		}
		var list []tokenReply
		app.Root(t).Do("GET", "/api/token/", nil).Want(t, 200, true).Decode(t, &list)
		if len(list) != 1 || !list[0].UnlimitedQuota || strings.Contains(list[0].Key, strings.Repeat("R", 10)) {
			t.Fatalf("root's tokens %+v", list)
		}
	})
}

func TestTokenSearchIgnoresCase(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		user.Do("POST", "/api/token/", map[string]any{"name": "Production Key"}).Want(t, 200, true)
		var found []tokenReply
		user.Do("GET", "/api/token/search?keyword=production", nil).Want(t, 200, true).Decode(t, &found)
		if len(found) != 1 {
			t.Fatalf("case-blind search found %d tokens", len(found))
		}
	})
}
