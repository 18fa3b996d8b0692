package controller_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

func TestRegisterLoginSelf(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		anon := app.Anon(t)
		name := testkit.Name("reg")
		anon.Do("POST", "/api/user/register", map[string]string{"username": name, "password": "s3cret-pass", "display_name": "名字 ✓"}).Want(t, 200, true)
		anon.Do("POST", "/api/user/register", map[string]string{"username": name, "password": "s3cret-pass"}).WantFail(t, 400, "already taken")

		anon.Do("POST", "/api/user/login", map[string]string{"username": name, "password": "wrong-pass"}).WantFail(t, 401, "wrong username or password")
		anon.Do("POST", "/api/user/login", map[string]string{"username": "nobody-here", "password": "wrong-pass"}).WantFail(t, 401, "wrong username or password")
		user := app.Login(t, name, "s3cret-pass")

		var self model.User
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Username != name || self.DisplayName != "名字 ✓" || self.Role != model.RoleCommon || self.AffCode == "" {
			t.Fatalf("self = %+v", self)
		}
		if strings.Contains(string(user.Do("GET", "/api/user/self", nil).Raw), "password") {
			t.Fatal("self reply mentions the password")
		}

		// Changing the password needs the current one.
		user.Do("PUT", "/api/user/self", map[string]string{"password": "new-pass-123"}).WantFail(t, 400, "original_password")
		user.Do("PUT", "/api/user/self", map[string]string{"password": "new-pass-123", "original_password": "s3cret-pass", "display_name": "d"}).Want(t, 200, true)
		app.Login(t, name, "new-pass-123")

		user.Do("GET", "/api/user/logout", nil).Want(t, 200, true)
		user.Do("GET", "/api/user/self", nil).WantFail(t, 401, "not signed in")
	})
}

func TestRegisterBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		anon := app.Anon(t)
		cases := []struct {
			name, body, msg string
		}{
			{"malformed JSON", `{"username": "abc",`, "not valid JSON"},
			{"empty body", ``, "empty"},
			{"wrong type", `{"username": 12345, "password": "password1"}`, "wrong type"},
			{"missing username", `{"password": "password1"}`, "username must be"},
			{"missing password", `{"username": "someone"}`, "password must be"},
			{"short password", `{"username": "someone", "password": "short"}`, "password must be"},
			{"oversized username", fmt.Sprintf(`{"username": %q, "password": "password1"}`, strings.Repeat("a", 500)), "username must be"},
			{"oversized password", fmt.Sprintf(`{"username": "someone", "password": %q}`, strings.Repeat("p", 100)), "password must be"},
			{"unicode username", `{"username": "用户名字", "password": "password1"}`, "may hold only"},
			{"SQL-ish username", `{"username": "a'; DROP TABLE users;--", "password": "password1"}`, "may hold only"},
			{"bad email", `{"username": "someone", "password": "password1", "email": "not-an-email"}`, "not an email"},
			{"unknown invite", `{"username": "someone", "password": "password1", "aff_code": "nope' OR 1=1"}`, "invite code"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				anon.Do("POST", "/api/user/register", tc.body).WantFail(t, 400, tc.msg)
			})
		}
		// Nothing was half-written: only root exists.
		var n int64
		app.Store.DB.Model(&model.User{}).Count(&n)
		if n != 1 {
			t.Fatalf("users after bad registrations = %d, want 1", n)
		}
	})
}

func TestRegisterSwitches(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		anon := app.Anon(t)
		root.Do("PUT", "/api/option/", map[string]any{"key": "RegisterEnabled", "value": false}).Want(t, 200, true)
		anon.Do("POST", "/api/user/register", map[string]string{"username": "closed1", "password": "password1"}).WantFail(t, 403, "closed")
		root.Do("PUT", "/api/option/", map[string]any{"key": "RegisterEnabled", "value": "true"}).Want(t, 200, true)
		root.Do("PUT", "/api/option/", map[string]any{"key": "PasswordLoginEnabled", "value": "false"}).Want(t, 200, true)
		anon.Do("POST", "/api/user/login", map[string]string{"username": "root", "password": testkit.RootPassword}).WantFail(t, 403, "closed")
	})
}

func TestAccessToken(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		var token string
		user.Do("GET", "/api/user/token", nil).Want(t, 200, true).Decode(t, &token)
		if len(token) != 32 {
			t.Fatalf("access token %q", token)
		}
		for _, header := range []string{token, "Bearer " + token} {
			c := app.Anon(t)
			c.AccessToken = header
			var self model.User
			c.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
			if self.ID != user.UserID {
				t.Fatalf("access token resolved to user %d, want %d", self.ID, user.UserID)
			}
		}
		// Only the hash is stored.
		var row model.User
		app.Store.DB.First(&row, user.UserID)
		if row.AccessToken == nil || *row.AccessToken == token {
			t.Fatalf("stored access token %v is not a hash", row.AccessToken)
		}
		bad := app.Anon(t)
		bad.AccessToken = "Bearer not-a-token' OR '1'='1"
		bad.Do("GET", "/api/user/self", nil).WantFail(t, 401, "invalid access token")
		// A new token replaces the old one.
		user.Do("GET", "/api/user/token", nil).Want(t, 200, true)
		old := app.Anon(t)
		old.AccessToken = token
		old.Do("GET", "/api/user/self", nil).WantFail(t, 401, "invalid access token")
	})
}

func TestAdminUserAuthorization(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		admin := app.NewUser(t, model.RoleAdmin)
		admin2 := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		other := app.NewUser(t, model.RoleCommon)
		anon := app.Anon(t)

		// Anonymous and common users are kept out of every admin route.
		for _, c := range []struct {
			client *testkit.Client
			status int
		}{{anon, 401}, {user, 403}} {
			c.client.Do("GET", "/api/user/", nil).Want(t, c.status, false)
			c.client.Do("GET", "/api/user/search?keyword=u", nil).Want(t, c.status, false)
			c.client.Do("GET", fmt.Sprintf("/api/user/%d", other.UserID), nil).Want(t, c.status, false)
			c.client.Do("POST", "/api/user/", map[string]string{"username": "x" + other.Username, "password": "password1"}).Want(t, c.status, false)
			c.client.Do("PUT", "/api/user/", map[string]any{"id": other.UserID, "display_name": "hacked"}).Want(t, c.status, false)
			c.client.Do("DELETE", fmt.Sprintf("/api/user/%d", other.UserID), nil).Want(t, c.status, false)
			c.client.Do("POST", "/api/user/manage", map[string]string{"username": other.Username, "action": "disable"}).Want(t, c.status, false)
			c.client.Do("GET", "/api/option/", nil).Want(t, c.status, false)
		}
		// Admins manage common users but not admins or root.
		admin.Do("GET", fmt.Sprintf("/api/user/%d", user.UserID), nil).Want(t, 200, true)
		admin.Do("GET", fmt.Sprintf("/api/user/%d", admin2.UserID), nil).WantFail(t, 403, "role")
		admin.Do("POST", "/api/user/manage", map[string]string{"username": admin2.Username, "action": "disable"}).WantFail(t, 403, "role")
		admin.Do("POST", "/api/user/manage", map[string]string{"username": "root", "action": "disable"}).WantFail(t, 403, "root")
		admin.Do("POST", "/api/user/manage", map[string]string{"username": user.Username, "action": "promote"}).WantFail(t, 403, "only root")
		admin.Do("POST", "/api/user/", map[string]any{"username": testkit.Name("a"), "password": "password1", "role": 10}).WantFail(t, 403, "role")
		admin.Do("GET", "/api/option/", nil).WantFail(t, 403, "permission")
		root.Do("POST", "/api/user/manage", map[string]string{"username": "root", "action": "demote"}).WantFail(t, 403, "root")
		root.Do("DELETE", "/api/user/self", nil).WantFail(t, 403, "root")

		// Disabling a user ends their access at once.
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true)
		admin.Do("POST", "/api/user/manage", map[string]string{"username": user.Username, "action": "disable"}).Want(t, 200, true)
		user.Do("GET", "/api/user/self", nil).WantFail(t, 403, "disabled")
		app.Anon(t).Do("POST", "/api/user/login", map[string]string{"username": user.Username, "password": "password-" + user.Username}).WantFail(t, 403, "disabled")
		admin.Do("POST", "/api/user/manage", map[string]string{"username": user.Username, "action": "enable"}).Want(t, 200, true)
		// The disabled session was ended; signing in again works.
		user.Do("GET", "/api/user/self", nil).WantFail(t, 401, "not signed in")
		user = app.Login(t, user.Username, "password-"+user.Username)
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true)

		// Root promotes and demotes; a promoted user reaches admin routes.
		root.Do("POST", "/api/user/manage", map[string]string{"username": other.Username, "action": "promote"}).Want(t, 200, true)
		other.Do("GET", "/api/user/", nil).Want(t, 200, true)
		root.Do("POST", "/api/user/manage", map[string]string{"username": other.Username, "action": "demote"}).Want(t, 200, true)
		other.Do("GET", "/api/user/", nil).WantFail(t, 403, "permission")
		root.Do("POST", "/api/user/manage", map[string]string{"username": other.Username, "action": "explode"}).WantFail(t, 400, "action must be")

		// Edits, search and paging.
		var edited model.User
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "display_name": "Ünïcødé", "group": "vip", "quota": 1234}).Want(t, 200, true).Decode(t, &edited)
		if edited.DisplayName != "Ünïcødé" || edited.Group != "vip" || edited.Quota != 1234 {
			t.Fatalf("edited = %+v", edited)
		}
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "group": "no-such-group"}).WantFail(t, 400, "group")
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": "lots"}).WantFail(t, 400, "wrong type")
		admin.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": -5}).WantFail(t, 400, "negative")
		var found []model.User
		admin.Do("GET", "/api/user/search?keyword="+user.Username, nil).Want(t, 200, true).Decode(t, &found)
		if len(found) != 1 || found[0].ID != user.UserID {
			t.Fatalf("search found %+v", found)
		}
		admin.Do("GET", "/api/user/search?keyword=%25'%20OR%201=1--", nil).Want(t, 200, true).Decode(t, &found)
		if len(found) != 0 {
			t.Fatalf("SQL-ish search matched %d users", len(found))
		}
		var pageRows []model.User
		r := admin.Do("GET", "/api/user/?p=0&page_size=2", nil).Want(t, 200, true)
		r.Decode(t, &pageRows)
		if len(pageRows) != 2 || r.Total != 5 {
			t.Fatalf("page: %d rows, total %d", len(pageRows), r.Total)
		}
		admin.Do("GET", "/api/user/abc", nil).WantFail(t, 400, "id")
		admin.Do("GET", "/api/user/999999", nil).WantFail(t, http.StatusNotFound, "not found")

		// Delete goes through, and the deleted user's session stops working.
		admin.Do("DELETE", fmt.Sprintf("/api/user/%d", user.UserID), nil).Want(t, 200, true)
		user.Do("GET", "/api/user/self", nil).WantFail(t, 401, "not signed in")
	})
}

func TestOptions(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		root.Do("PUT", "/api/option/", map[string]any{"key": "SMTPToken", "value": "smtp-secret-value"}).Want(t, 200, true)
		root.Do("PUT", "/api/option/", map[string]any{"key": "SystemName", "value": "Yard 站点 '; --"}).Want(t, 200, true)
		r := root.Do("GET", "/api/option/", nil).Want(t, 200, true)
		if strings.Contains(string(r.Raw), "smtp-secret-value") || strings.Contains(string(r.Raw), "SMTPToken") {
			t.Fatal("options list leaks a secret")
		}
		var opts []model.Option
		r.Decode(t, &opts)
		found := false
		for _, o := range opts {
			found = found || (o.Key == "SystemName" && o.Value == "Yard 站点 '; --")
		}
		if !found {
			t.Fatal("SystemName not saved")
		}
		var status map[string]any
		app.Anon(t).Do("GET", "/api/status", nil).Want(t, 200, true).Decode(t, &status)
		if status["system_name"] != "Yard 站点 '; --" {
			t.Fatalf("status system_name = %v", status["system_name"])
		}
		for _, tc := range []struct{ body, msg string }{
			{`{"key": "NoSuchOption", "value": "1"}`, "unknown option"},
			{`{"key": "RegisterEnabled", "value": "maybe"}`, "true or false"},
			{`{"key": "QuotaForNewUser", "value": "ten"}`, "whole number"},
			{`{"key": "GroupRatio", "value": "{not json"}`, "GroupRatio"},
			{`{"key": "SMTPPort", "value": "0"}`, "at least"},
			{`{"key": "", "value": "x"}`, "key is required"},
			{`{"key": "Notice"}`, "value is required"},
			{`{"key": "Notice", "value": {"a": 1}}`, "value must be"},
			{`{"key": 5, "value": "x"}`, "wrong type"},
			{`not json`, "not valid JSON"},
		} {
			root.Do("PUT", "/api/option/", tc.body).WantFail(t, 400, tc.msg)
		}
		root.Do("PUT", "/api/option/", map[string]any{"key": "Notice", "value": "维护通知"}).Want(t, 200, true)
		var notice string
		app.Anon(t).Do("GET", "/api/notice", nil).Want(t, 200, true).Decode(t, &notice)
		if notice != "维护通知" {
			t.Fatalf("notice = %q", notice)
		}
	})
}

func TestHealthAndErrors(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		anon := app.Anon(t)
		if r := anon.Do("GET", "/healthz", nil); r.Status != 200 {
			t.Fatalf("healthz %d", r.Status)
		}
		if r := anon.Do("GET", "/readyz", nil); r.Status != 200 {
			t.Fatalf("readyz %d %s", r.Status, r.Raw)
		}
		r := anon.Do("GET", "/api/nope", nil).WantFail(t, 404, "no such endpoint")
		if r.Header.Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id")
		}
		r = anon.Do("GET", "/v1/nope", nil)
		if r.Status != 404 || !strings.Contains(string(r.Raw), `"error"`) || !strings.Contains(string(r.Raw), "request id") {
			t.Fatalf("/v1 404 = %d %s", r.Status, r.Raw)
		}
	})
}
