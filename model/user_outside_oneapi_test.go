package model_test

import (
	"strings"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestWeChatAndLarkIDsOfAnOlderDatabase starts on the users tables that
// exist in the field: One API's (wechat_id and lark_id empty for
// unbound and plain indexes, an openid perhaps bound twice) and an older
// Switchyard's (wechat_id so, no lark_id at all). Each start leaves NULL
// for unbound, an account on its lowest user id, and the unique indexes
// that keep it so.
func TestWeChatAndLarkIDsOfAnOlderDatabase(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			open := starter(t, db)
			exec := func(s *model.Store, sql string, args ...any) {
				t.Helper()
				if db == "mysql" && strings.HasPrefix(sql, "DROP INDEX") {
					sql += " ON users"
				}
				if err := s.DB.Exec(sql, args...).Error; err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			indexes := func(s *model.Store, want map[string]bool) {
				t.Helper()
				for ix, there := range want {
					if s.DB.Migrator().HasIndex(&model.User{}, ix) != there {
						t.Errorf("index %s there: %v, want %v", ix, !there, there)
					}
				}
			}
			// ids reads each user's wechat_id and lark_id: NULL or quoted.
			ids := func(s *model.Store) map[int]string {
				var rs []struct {
					ID       int
					WeChatID *string `gorm:"column:wechat_id"`
					LarkID   *string `gorm:"column:lark_id"`
				}
				if err := s.DB.Raw("SELECT id, wechat_id, lark_id FROM users").Scan(&rs).Error; err != nil {
					t.Fatal(err)
				}
				str := func(p *string) string {
					if p == nil {
						return "NULL"
					}
					return "'" + *p + "'"
				}
				m := map[int]string{}
				for _, r := range rs {
					m[r.ID] = str(r.WeChatID) + " " + str(r.LarkID)
				}
				return m
			}

			// One API's shape.
			s := open()
			users := make([]*model.User, 4)
			for i := range users {
				users[i] = &model.User{Username: testkit.Name("w"), Password: "x"}
				if err := s.CreateUser(t.Context(), users[i]); err != nil {
					t.Fatal(err)
				}
			}
			exec(s, "DROP INDEX uidx_users_wechat_id")
			exec(s, "DROP INDEX uidx_users_lark_id")
			exec(s, "CREATE INDEX idx_users_wechat_id ON users (wechat_id)")
			exec(s, "CREATE INDEX idx_users_lark_id ON users (lark_id)")
			exec(s, "UPDATE users SET wechat_id = '', lark_id = ''")
			exec(s, "UPDATE users SET wechat_id = 'oDup' WHERE id IN (?, ?)", users[2].ID, users[1].ID)
			exec(s, "UPDATE users SET lark_id = 'ou_3' WHERE id = ?", users[3].ID)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = open()
			want := map[int]string{users[1].ID: "'oDup' NULL", users[3].ID: "NULL 'ou_3'"}
			for id, got := range ids(s) {
				w, ok := want[id]
				if !ok {
					w = "NULL NULL"
				}
				if got != w {
					t.Errorf("user %d: wechat_id lark_id = %s, want %s", id, got, w)
				}
			}
			indexes(s, map[string]bool{"uidx_users_wechat_id": true, "uidx_users_lark_id": true, "idx_users_wechat_id": false, "idx_users_lark_id": false})
			for _, q := range []string{"UPDATE users SET wechat_id = 'oDup' WHERE id = ?", "UPDATE users SET lark_id = 'ou_3' WHERE id = ?"} {
				if err := s.DB.Exec(q, users[0].ID).Error; !model.IsUniqueViolation(err) {
					t.Errorf("%s: %v, want a unique violation", q, err)
				}
			}
			if u, err := s.UserByOutsideID(t.Context(), model.OutsideWeChat, "oDup"); err != nil || u.ID != users[1].ID {
				t.Fatalf("oDup is bound to %+v, %v", u, err)
			}

			// An older Switchyard's: no lark_id yet.
			exec(s, "DROP INDEX uidx_users_lark_id")
			exec(s, "ALTER TABLE users DROP COLUMN lark_id")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
			defer s.Close()
			indexes(s, map[string]bool{"uidx_users_lark_id": true, "uidx_users_wechat_id": true})
			for id, got := range ids(s) {
				if !strings.HasSuffix(got, " NULL") {
					t.Errorf("user %d: lark_id added as %s, want NULL", id, got)
				}
			}
			u := users[0]
			if err := s.UpdateUserFields(t.Context(), u.ID, map[string]any{model.OutsideLark: "ou_0"}); err != nil {
				t.Fatal(err)
			}
			if got, err := s.UserByOutsideID(t.Context(), model.OutsideLark, "ou_0"); err != nil || got.ID != u.ID || got.LarkID != "ou_0" {
				t.Fatalf("lark_id bound: %+v, %v", got, err)
			}
		})
	}
}
