package controller_test

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// usersTable reads every users row, every column, as stored, so a test can
// check that failed requests changed nothing.
func usersTable(t *testing.T, app *testkit.App) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := app.Store.DB.Model(&model.User{}).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// unchanged fails the test if the users table differs from before.
func unchanged(t *testing.T, app *testkit.App, before []map[string]any) {
	t.Helper()
	if after := usersTable(t, app); !reflect.DeepEqual(before, after) {
		t.Fatalf("failed requests changed the users table:\nbefore %v\nafter  %v", before, after)
	}
}

func userRow(t *testing.T, app *testkit.App, id int) model.User {
	t.Helper()
	var u model.User
	if err := app.Store.DB.First(&u, id).Error; err != nil {
		t.Fatalf("user %d: %v", id, err)
	}
	return u
}

func TestLoginBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		anon := app.Anon(t)
		name, addr := testkit.Name("l"), testkit.Name("l")+"@example.com"
		anon.Do("POST", "/api/user/register", map[string]string{"username": name, "password": "password-1", "email": addr}).Want(t, 200, true)
		before := usersTable(t, app)
		for _, tc := range []struct {
			name, body string
			status     int
			msg        string
		}{
			{"malformed JSON", `{"username": "root"`, 400, "not valid JSON"},
			{"empty body", ``, 400, "empty"},
			{"wrong type", `{"username": 100, "password": "x"}`, 400, "wrong type"},
			{"array body", `["root", "pw"]`, 400, "wrong type"},
			{"missing password", `{"username": "root"}`, 400, "required"},
			{"missing username", `{"password": "password-1"}`, 400, "required"},
			{"oversized username", fmt.Sprintf(`{"username": %q, "password": "password-1"}`, strings.Repeat("r", 5000)), 401, "wrong username or password"},
			{"oversized password", fmt.Sprintf(`{"username": "root", "password": %q}`, strings.Repeat("p", 5000)), 401, "wrong username or password"},
			{"SQL-ish username", `{"username": "root' OR '1'='1' --", "password": "x' OR '1'='1"}`, 401, "wrong username or password"},
			{"SQL-ish email", `{"username": "x@example.com' OR 1=1 --", "password": "password-1"}`, 401, "wrong username or password"},
			{"unicode username", `{"username": "根用户", "password": "password-1"}`, 401, "wrong username or password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := anon.Do("POST", "/api/user/login", tc.body).WantFail(t, tc.status, tc.msg)
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Fatal("a failed login set a cookie")
				}
			})
		}
		unchanged(t, app, before)
		// The sign-in box takes the email too, in any case.
		app.Login(t, strings.ToUpper(addr), "password-1")
		// Logging out without a session is harmless.
		app.Anon(t).Do("GET", "/api/user/logout", nil).Want(t, 200, true)
	})
}

func TestRegisterWithInviteCode(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		inviter := app.NewUser(t, model.RoleCommon)
		var code string
		inviter.Do("GET", "/api/user/aff", nil).Want(t, 200, true).Decode(t, &code)
		if code == "" {
			t.Fatal("empty invite code")
		}
		app.Anon(t).Do("GET", "/api/user/aff", nil).WantFail(t, 401, "not signed in")
		app.Anon(t).Do("GET", "/api/user/token", nil).WantFail(t, 401, "not signed in")
		name := testkit.Name("i")
		app.Anon(t).Do("POST", "/api/user/register", map[string]string{"username": name, "password": "password-1", "aff_code": code}).Want(t, 200, true)
		u, err := app.Store.UserByUsername(t.Context(), name)
		if err != nil || u.InviterID != inviter.UserID || u.Role != model.RoleCommon || u.AffCode == code {
			t.Fatalf("invited user = %+v, %v", u, err)
		}
	})
}

func TestUpdateSelfBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		other := app.NewUser(t, model.RoleCommon)
		password := "password-" + user.Username
		app.Anon(t).Do("PUT", "/api/user/self", map[string]string{"display_name": "anon"}).WantFail(t, 401, "not signed in")
		app.Anon(t).Do("DELETE", "/api/user/self", nil).WantFail(t, 401, "not signed in")
		before := usersTable(t, app)
		for _, tc := range []struct {
			name string
			body any
			msg  string
		}{
			{"malformed JSON", `{"display_name": "x"`, "not valid JSON"},
			{"empty body", ``, "empty"},
			{"wrong type", `{"display_name": 5}`, "wrong type"},
			{"array body", `[1, 2]`, "wrong type"},
			{"oversized display name", map[string]string{"display_name": strings.Repeat("名", 65)}, "display name"},
			{"control characters", map[string]string{"display_name": "bell\a"}, "control characters"},
			{"unicode username", map[string]string{"username": "用户名字"}, "may hold only"},
			{"SQL-ish username", map[string]string{"username": "x'; DROP TABLE users;--"}, "may hold only"},
			{"oversized username", map[string]string{"username": strings.Repeat("u", 33)}, "username must be"},
			{"taken username", map[string]string{"username": other.Username, "display_name": "half way"}, "already taken"},
			{"short password", map[string]any{"password": "short", "original_password": password, "display_name": "half way"}, "password must be"},
			{"wrong original password", map[string]any{"password": "new-password-1", "original_password": "guess", "display_name": "half way"}, "original_password"},
			{"no original password", map[string]any{"password": "new-password-1", "display_name": "half way"}, "original_password"},
			{"bad field after good", map[string]any{"display_name": "half way", "username": "bad name!"}, "may hold only"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				user.Do("PUT", "/api/user/self", tc.body).WantFail(t, 400, tc.msg)
			})
		}
		unchanged(t, app, before)
		app.Login(t, user.Username, password)

		// Role, quota, status and group are not the caller's to set.
		user.Do("PUT", "/api/user/self", map[string]any{"role": 100, "quota": 999999, "status": 1, "group": "vip", "access_token": "mine"}).Want(t, 200, true)
		unchanged(t, app, before)

		// The longest display name, in any script, round-trips on every database.
		long := strings.Repeat("名", 60) + "😀✓é"
		user.Do("PUT", "/api/user/self", map[string]string{"display_name": long}).Want(t, 200, true)
		sqlish := "Robert'); DROP TABLE users;--"
		other.Do("PUT", "/api/user/self", map[string]string{"display_name": sqlish}).Want(t, 200, true)
		if got := userRow(t, app, user.UserID).DisplayName; got != long {
			t.Fatalf("display name = %q, want %q", got, long)
		}
		if got := userRow(t, app, other.UserID).DisplayName; got != sqlish {
			t.Fatalf("display name = %q, want %q", got, sqlish)
		}
		newName := testkit.Name("n")
		user.Do("PUT", "/api/user/self", map[string]string{"username": newName}).Want(t, 200, true)
		app.Login(t, newName, password)
	})
}

func TestDeleteSelf(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		user := app.NewUser(t, model.RoleCommon)
		admin := app.NewUser(t, model.RoleAdmin)
		var token string
		user.Do("GET", "/api/user/token", nil).Want(t, 200, true).Decode(t, &token)
		user.Do("DELETE", "/api/user/self", nil).Want(t, 200, true)
		user.Do("GET", "/api/user/self", nil).WantFail(t, 401, "not signed in")
		byToken := app.Anon(t)
		byToken.AccessToken = token
		byToken.Do("GET", "/api/user/self", nil).WantFail(t, 401, "invalid access token")
		app.Anon(t).Do("POST", "/api/user/login", map[string]string{"username": user.Username, "password": "password-" + user.Username}).WantFail(t, 401, "wrong")
		var n int64
		app.Store.DB.Model(&model.User{}).Where("id = ?", user.UserID).Count(&n)
		if n != 0 {
			t.Fatal("the deleted user's row is still there")
		}
		// An admin may leave too; root may not (TestAdminUserAuthorization).
		admin.Do("DELETE", "/api/user/self", nil).Want(t, 200, true)
	})
}

func TestAdminEditBadInputWritesNothing(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		admin := app.NewUser(t, model.RoleAdmin)
		admin2 := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		other := app.NewUser(t, model.RoleCommon)
		path := fmt.Sprintf("/api/user/%d", user.UserID)
		before := usersTable(t, app)
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			msg                string
		}{
			{"malformed JSON", "PUT", path, `{"display_name": `, 400, "not valid JSON"},
			{"empty body", "PUT", path, ``, 400, "empty"},
			{"wrong type", "PUT", path, `{"quota": "1000"}`, 400, "wrong type"},
			{"fractional quota", "PUT", path, `{"quota": 1.5}`, 400, "wrong type"},
			{"huge quota", "PUT", path, `{"quota": 1e30}`, 400, "wrong type"},
			{"negative quota", "PUT", path, map[string]any{"quota": -1, "display_name": "half way"}, 400, "negative"},
			{"unknown group", "PUT", path, map[string]any{"group": "' OR 1=1 --", "display_name": "half way"}, 400, "group"},
			{"bad email", "PUT", path, map[string]any{"email": "nope", "display_name": "half way"}, 400, "not an email"},
			{"oversized email", "PUT", path, map[string]any{"email": strings.Repeat("e", 200) + "@example.com"}, 400, "email must be"},
			{"taken username", "PUT", path, map[string]any{"username": other.Username, "display_name": "half way"}, 400, "already taken"},
			{"unicode username", "PUT", path, map[string]any{"username": "ユーザー"}, 400, "may hold only"},
			{"oversized display name", "PUT", path, map[string]any{"display_name": strings.Repeat("x", 65)}, 400, "display name"},
			{"short password", "PUT", path, map[string]any{"password": "short", "display_name": "half way"}, 400, "password must be"},
			{"no id", "PUT", "/api/user/", map[string]any{"display_name": "x"}, 400, "id is required"},
			{"id not a number", "PUT", "/api/user/abc", map[string]any{"display_name": "x"}, 400, "id"},
			{"id zero", "PUT", "/api/user/0", map[string]any{"display_name": "x"}, 400, "id"},
			{"id negative", "GET", "/api/user/-1", nil, 400, "id"},
			{"unknown id", "PUT", "/api/user/987654", map[string]any{"display_name": "x"}, 404, "not found"},
			{"another admin", "PUT", fmt.Sprintf("/api/user/%d", admin2.UserID), map[string]any{"display_name": "x"}, 403, "role"},
			{"root", "PUT", "/api/user/1", map[string]any{"password": "taken-over-1"}, 403, "role"},
			{"root by body id", "PUT", "/api/user/", map[string]any{"id": 1, "password": "taken-over-1"}, 403, "role"},
			{"own account", "PUT", fmt.Sprintf("/api/user/%d", admin.UserID), map[string]any{"quota": 1 << 40}, 403, "/api/user/self"},
			{"delete another admin", "DELETE", fmt.Sprintf("/api/user/%d", admin2.UserID), nil, 403, "role"},
			{"delete root", "DELETE", "/api/user/1", nil, 403, "role"},
			{"delete self", "DELETE", fmt.Sprintf("/api/user/%d", admin.UserID), nil, 403, "your own"},
			{"delete unknown", "DELETE", "/api/user/987654", nil, 404, "not found"},
			{"delete bad id", "DELETE", "/api/user/1%20OR%201=1", nil, 400, "id"},
			{"manage: no username", "POST", "/api/user/manage", map[string]any{"action": "disable"}, 400, "username"},
			{"manage: oversized username", "POST", "/api/user/manage", map[string]any{"username": strings.Repeat("u", 100), "action": "disable"}, 400, "username"},
			{"manage: unknown user", "POST", "/api/user/manage", map[string]any{"username": "nobody' OR '1'='1", "action": "disable"}, 404, "not found"},
			{"manage: bad action", "POST", "/api/user/manage", map[string]any{"username": user.Username, "action": "DROP TABLE"}, 400, "action must be"},
			{"manage: demote a common user", "POST", "/api/user/manage", map[string]any{"username": user.Username, "action": "demote"}, 400, "already"},
			{"manage: self", "POST", "/api/user/manage", map[string]any{"username": admin.Username, "action": "disable"}, 403, "your own"},
			{"manage: wrong type", "POST", "/api/user/manage", `{"username": ["a"], "action": "disable"}`, 400, "wrong type"},
			{"create: malformed", "POST", "/api/user/", `{"username": "x"`, 400, "not valid JSON"},
			{"create: duplicate", "POST", "/api/user/", map[string]any{"username": other.Username, "password": "password-1"}, 400, "already taken"},
			{"create: root role", "POST", "/api/user/", map[string]any{"username": testkit.Name("c"), "password": "password-1", "role": 100}, 400, "role must be"},
			{"create: role as text", "POST", "/api/user/", `{"username": "somebody", "password": "password-1", "role": "admin"}`, 400, "wrong type"},
			{"create: SQL-ish username", "POST", "/api/user/", map[string]any{"username": "a' OR '1'='1", "password": "password-1"}, 400, "may hold only"},
			{"create: oversized display name", "POST", "/api/user/", map[string]any{"username": testkit.Name("c"), "password": "password-1", "display_name": strings.Repeat("名", 65)}, 400, "display name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				admin.Do(tc.method, tc.path, tc.body).WantFail(t, tc.status, tc.msg)
			})
		}
		unchanged(t, app, before)

		// A common user reaches no other user's record by id, by any verb.
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			user.Do(m, fmt.Sprintf("/api/user/%d", other.UserID), map[string]any{"display_name": "mine now"}).WantFail(t, 403, "permission")
		}
		unchanged(t, app, before)

		// PUT /api/user/:id edits the user in the path, whatever id the body names.
		var edited model.User
		admin.Do("PUT", path, map[string]any{"id": other.UserID, "display_name": "Ünï 名字", "email": "User@Example.COM"}).Want(t, 200, true).Decode(t, &edited)
		if edited.ID != user.UserID || edited.DisplayName != "Ünï 名字" || edited.Email != "user@example.com" {
			t.Fatalf("edited = %+v", edited)
		}
		if got := userRow(t, app, other.UserID).DisplayName; got == "Ünï 名字" {
			t.Fatal("the body's id was edited instead of the path's")
		}
		// Root may edit an admin and reset their password.
		root.Do("PUT", fmt.Sprintf("/api/user/%d", admin2.UserID), map[string]any{"password": "reset-by-root"}).Want(t, 200, true)
		app.Login(t, admin2.Username, "reset-by-root")
	})
}

func TestUserListAndSearchInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		admin := app.NewUser(t, model.RoleAdmin)
		user := app.NewUser(t, model.RoleCommon)
		user.Do("PUT", "/api/user/self", map[string]string{"display_name": "Zoë 测试_100%"}).Want(t, 200, true)

		for _, q := range []string{"?p=-1", "?p=abc&page_size=xyz", "?page_size=100000", "?page_size=-5", "?p=99999"} {
			admin.Do("GET", "/api/user/"+q, nil).Want(t, 200, true)
		}
		var rows []model.User
		admin.Do("GET", "/api/user/?p=99999", nil).Want(t, 200, true).Decode(t, &rows)
		if len(rows) != 0 {
			t.Fatalf("a page past the end has %d rows", len(rows))
		}

		search := func(keyword string) []model.User {
			t.Helper()
			var found []model.User
			admin.Do("GET", "/api/user/search?keyword="+url.QueryEscape(keyword), nil).Want(t, 200, true).Decode(t, &found)
			return found
		}
		ids := func(us []model.User) []int {
			out := []int{}
			for _, u := range us {
				out = append(out, u.ID)
			}
			return out
		}
		// LIKE wildcards and quotes are matched literally.
		for keyword, want := range map[string][]int{
			"测试":                   {user.UserID},
			"zoë":                  {user.UserID},
			"_100%":                {user.UserID},
			"%":                    {user.UserID},
			"%%%%":                 {},
			"_____________":        {},
			"' OR ''='":            {},
			"\\":                   {},
			"!":                    {},
			"1; DELETE FROM users": {},
		} {
			if got := ids(search(keyword)); !reflect.DeepEqual(got, want) {
				t.Errorf("search %q = %v, want %v", keyword, got, want)
			}
		}
		// A number matches the id (and any name that holds it).
		if got := ids(search(fmt.Sprint(user.UserID))); !slices.Contains(got, user.UserID) {
			t.Errorf("search by id %d = %v", user.UserID, got)
		}
		admin.Do("GET", "/api/user/search?keyword="+strings.Repeat("k", 129), nil).WantFail(t, 400, "at most 128")
		var n int64
		app.Store.DB.Model(&model.User{}).Count(&n)
		if n != 3 {
			t.Fatalf("users after searches = %d, want 3", n)
		}
	})
}
