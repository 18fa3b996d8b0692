package controller_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestAdminClearsUserBindings pins new-api's DELETE
// /api/user/:id/bindings/:binding_type: an admin unbinds a user from an
// outside account (the column goes back to NULL, so the account can sign
// in anew or be bound by someone else) or clears their email; only for
// users below the admin's role and themselves; unknown types and ids are
// refused in the management shape and change nothing.
func TestAdminClearsUserBindings(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			app, providers := startOutsideApp(t, db)
			root := app.Root(t)
			admin := app.NewUser(t, model.RoleAdmin)
			admin2 := app.NewUser(t, model.RoleAdmin)
			member := app.NewUser(t, model.RoleCommon)
			other := app.NewUser(t, model.RoleCommon)
			clear := func(c *testkit.Client, id any, bt string) *testkit.Reply {
				return c.Do("DELETE", fmt.Sprintf("/api/user/%v/bindings/%s", id, url.PathEscape(fmt.Sprint(bt))), nil)
			}
			for i, p := range providers {
				outsideCallback(member, p.name, p.code(strconv.Itoa(7100+i))).Want(t, 200, true)
			}
			root.Do("PUT", "/api/user/", map[string]any{"id": member.UserID, "email": "member@example.com"}).Want(t, 200, true)
			bound := func() model.User { return userRow(t, app, member.UserID) }
			before := bound()
			if before.GitHubID == "" || before.OIDCID == "" || before.LarkID == "" || before.Email == "" {
				t.Fatalf("fixture not bound: %+v", before)
			}

			// Who may: nobody anonymous, no common user, no admin on an
			// equal or higher role.
			clear(app.Anon(t), member.UserID, "github").Want(t, 401, false)
			clear(other, member.UserID, "github").WantFail(t, 403, "permission")
			clear(member, member.UserID, "github").WantFail(t, 403, "permission")
			clear(admin, admin2.UserID, "github").WantFail(t, 403, "role")
			clear(admin, 1, "github").WantFail(t, 403, "role")
			// What: only the binding types, only real ids.
			for _, bad := range []struct {
				id     any
				bt     string
				status int
				msg    string
			}{
				{member.UserID, "github_id", 400, "binding_type must be"},
				{member.UserID, "facebook", 400, "binding_type must be"},
				{member.UserID, "GitHub", 400, "binding_type must be"},
				{member.UserID, "微信", 400, "binding_type must be"},
				{member.UserID, "github' OR '1'='1", 400, "binding_type must be"},
				{"abc", "github", 400, "id must be"},
				{"0", "github", 400, "id must be"},
				{"1 OR 1=1", "github", 400, "id must be"},
				{"99999999999999999999", "github", 400, "id must be"},
				{999999, "github", http.StatusNotFound, "not found"},
			} {
				clear(admin, bad.id, bad.bt).WantFail(t, bad.status, bad.msg)
			}
			if got := bound(); got.GitHubID != before.GitHubID || got.OIDCID != before.OIDCID || got.LarkID != before.LarkID || got.Email != before.Email {
				t.Fatalf("refused clears changed the user: %+v", got)
			}

			// An admin clears a member's bindings one by one; clearing
			// again is no error.
			for _, p := range providers {
				clear(admin, member.UserID, p.name).Want(t, 200, true)
				clear(admin, member.UserID, p.name).Want(t, 200, true)
				if ids := boundTo(t, app, p.column, map[string]string{"github": string(before.GitHubID), "oidc": string(before.OIDCID), "lark": string(before.LarkID)}[p.name]); len(ids) != 0 {
					t.Fatalf("%s still bound to %v", p.name, ids)
				}
			}
			clear(admin, member.UserID, "email").Want(t, 200, true)
			var self model.User
			member.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
			if self.GitHubID != "" || self.OIDCID != "" || self.LarkID != "" || self.Email != "" {
				t.Fatalf("after clearing, self = %+v", self)
			}
			var nulls int64
			app.Store.DB.Model(&model.User{}).Where("id = ? AND github_id IS NULL AND oidc_id IS NULL AND lark_id IS NULL", member.UserID).Count(&nulls)
			if nulls != 1 {
				t.Fatal("cleared outside ids are not NULL")
			}
			// The freed accounts can be bound by another user.
			for i, p := range providers {
				outsideCallback(other, p.name, p.code(strconv.Itoa(7100+i))).Want(t, 200, true)
			}
			if got := userRow(t, app, other.UserID); got.GitHubID != before.GitHubID || got.OIDCID != before.OIDCID || got.LarkID != before.LarkID {
				t.Fatalf("freed accounts did not bind to another user: %+v", got)
			}

			// Root clears an admin's; an admin clears their own.
			outsideCallback(admin2, "github", providers[0].code("7200")).Want(t, 200, true)
			clear(root, admin2.UserID, "github").Want(t, 200, true)
			outsideCallback(admin, "github", providers[0].code("7201")).Want(t, 200, true)
			clear(admin, admin.UserID, "github").Want(t, 200, true)
			if userRow(t, app, admin2.UserID).GitHubID != "" || userRow(t, app, admin.UserID).GitHubID != "" {
				t.Fatal("root's or an admin's own clear did not unbind")
			}
			clear(root, 1, "wechat").Want(t, 200, true)
		})
	}
}
