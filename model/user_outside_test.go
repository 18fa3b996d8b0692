package model_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/common/config"
	"switchyard/common/errs"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestOutsideIDWritesKeepOneUserPerAccount pins the store's side of the
// unique outside ids: unbound is NULL whichever way it is written, and a
// create or update that would bind an account bound elsewhere is refused
// with CodeOutsideIDTaken (so a sign-in can tell it from a taken
// username), writing nothing: no row, no starting-quota log.
func TestOutsideIDWritesKeepOneUserPerAccount(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		ctx, s := t.Context(), app.Store
		app.Root(t).SetOption("QuotaForNewUser", "500")
		code := func(err error) string {
			if err == nil {
				return ""
			}
			return errs.As(err).Code
		}
		a := &model.User{Username: testkit.Name("a"), Password: "x", GitHubID: "900", OIDCID: "sub-900"}
		b := &model.User{Username: testkit.Name("b"), Password: "x"}
		for _, u := range []*model.User{a, b} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for _, col := range []string{model.OutsideGitHub, model.OutsideOIDC} {
			if err := s.UpdateUserFields(ctx, b.ID, map[string]any{col: ""}); err != nil {
				t.Fatal(err)
			}
			if err := s.UpdateUserFields(ctx, b.ID, map[string]any{col: map[string]string{model.OutsideGitHub: "900", model.OutsideOIDC: "sub-900"}[col]}); code(err) != model.CodeOutsideIDTaken {
				t.Fatalf("binding %s bound elsewhere: %v, want %s", col, err, model.CodeOutsideIDTaken)
			}
		}
		var empty, unbound int64
		s.DB.Model(&model.User{}).Where("github_id = '' OR oidc_id = ''").Count(&empty)
		s.DB.Model(&model.User{}).Where("id = ? AND github_id IS NULL AND oidc_id IS NULL", b.ID).Count(&unbound)
		if empty != 0 || unbound != 1 {
			t.Fatalf("%d rows hold '', unbound b has NULLs: %v", empty, unbound == 1)
		}
		if got, err := s.UserByID(ctx, b.ID); err != nil || got.GitHubID != "" || got.OIDCID != "" {
			t.Fatalf("unbound reads %+v, %v", got, err)
		}

		users, logs := countRows(t, s, &model.User{}), countRows(t, s, &model.Log{})
		for _, tc := range []struct {
			name string
			u    *model.User
			want string
		}{
			{"github taken", &model.User{Username: testkit.Name("c"), GitHubID: "900"}, model.CodeOutsideIDTaken},
			{"oidc taken", &model.User{Username: testkit.Name("c"), OIDCID: "sub-900"}, model.CodeOutsideIDTaken},
			// Both taken, as the loser of two first sign-ins finds them:
			// the outside account is what it has to know of.
			{"github and username taken", &model.User{Username: a.Username, GitHubID: "900"}, model.CodeOutsideIDTaken},
			{"username taken", &model.User{Username: a.Username, GitHubID: "901"}, "username_taken"},
		} {
			if err := s.CreateUser(ctx, tc.u); code(err) != tc.want {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
			}
		}
		if countRows(t, s, &model.User{}) != users || countRows(t, s, &model.Log{}) != logs {
			t.Fatal("refused creates left rows behind")
		}
	})
}

func countRows(t *testing.T, s *model.Store, m any) int64 {
	t.Helper()
	var n int64
	db := s.DB
	if _, ok := m.(*model.Log); ok {
		db = s.LogDB
	}
	if err := db.Model(m).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// warnings records the warnings logged while a test runs.
type warnings struct {
	mu   sync.Mutex
	msgs []map[string]string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	w.mu.Lock()
	w.msgs = append(w.msgs, m)
	w.mu.Unlock()
	return nil
}

// unboundUsers are the usernames that warnings say lost a binding.
func (w *warnings) unboundUsers(among []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for _, m := range w.msgs {
		if strings.Contains(m["msg"], "bound to several users") && slices.Contains(among, m["username"]) {
			names = append(names, m["column"]+":"+m["username"])
		}
	}
	slices.Sort(names)
	return names
}

// TestOutsideIDMigrationOfAnOlderDatabase starts on the users table an
// older version left: unbound users holding the empty string, plain indexes
// idx_users_github_id and idx_users_oidc_id, and outside accounts bound
// to several users by the race those allowed. The start leaves NULL for
// unbound, each account on its lowest user id (a warning per user that
// lost it), and unique indexes that refuse a new duplicate; a second
// start changes nothing and warns of nothing.
func TestOutsideIDMigrationOfAnOlderDatabase(t *testing.T) {
	w := &warnings{}
	prev := slog.Default()
	slog.SetDefault(slog.New(w))
	t.Cleanup(func() { slog.SetDefault(prev) })
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			open := starter(t, db)

			// The older shape, made from a new one.
			s := open()
			users := make([]*model.User, 6)
			var names []string
			for i := range users {
				users[i] = &model.User{Username: testkit.Name("m"), Password: "x"}
				if err := s.CreateUser(t.Context(), users[i]); err != nil {
					t.Fatal(err)
				}
				names = append(names, users[i].Username)
			}
			id := func(i int) int { return users[i].ID }
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"DROP INDEX uidx_users_github_id", nil},
				{"DROP INDEX uidx_users_oidc_id", nil},
				{"CREATE INDEX idx_users_github_id ON users (github_id)", nil},
				{"CREATE INDEX idx_users_oidc_id ON users (oidc_id)", nil},
				{"UPDATE users SET github_id = '', oidc_id = ''", nil},
				// github 77 on users 0, 1, 2 (0 keeps it); 88 on 5 alone.
				{"UPDATE users SET github_id = '77' WHERE id IN (?, ?, ?)", []any{id(2), id(0), id(1)}},
				{"UPDATE users SET github_id = '88' WHERE id = ?", []any{id(5)}},
				// oidc dup-sub on users 3 and 4 (3 keeps it), and on 0.
				{"UPDATE users SET oidc_id = 'dup-sub' WHERE id IN (?, ?)", []any{id(4), id(3)}},
				{"UPDATE users SET oidc_id = 'own-sub' WHERE id = ?", []any{id(0)}},
			} {
				sql := q.sql
				if db == "mysql" && strings.HasPrefix(sql, "DROP INDEX") {
					sql += " ON users"
				}
				if err := s.DB.Exec(sql, q.args...).Error; err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// rows reads each user's github_id and oidc_id as SQL shows
			// them: NULL or a quoted string.
			rows := func(s *model.Store) map[int][2]string {
				var rs []struct {
					ID       int
					GitHubID *string `gorm:"column:github_id"`
					OIDCID   *string `gorm:"column:oidc_id"`
				}
				if err := s.DB.Raw("SELECT id, github_id, oidc_id FROM users").Scan(&rs).Error; err != nil {
					t.Fatal(err)
				}
				str := func(p *string) string {
					if p == nil {
						return "NULL"
					}
					return "'" + *p + "'"
				}
				m := map[int][2]string{}
				for _, r := range rs {
					m[r.ID] = [2]string{str(r.GitHubID), str(r.OIDCID)}
				}
				return m
			}

			s = open()
			after := rows(s)
			want := map[int][2]string{
				id(0): {"'77'", "'own-sub'"}, id(1): {"NULL", "NULL"}, id(2): {"NULL", "NULL"},
				id(3): {"NULL", "'dup-sub'"}, id(4): {"NULL", "NULL"}, id(5): {"'88'", "NULL"},
			}
			for rid, got := range after {
				wantRow, ok := want[rid]
				if !ok {
					wantRow = [2]string{"NULL", "NULL"} // root
				}
				if got != wantRow {
					t.Errorf("user %d: github_id, oidc_id = %v, want %v", rid, got, wantRow)
				}
			}
			wantWarn := []string{"github_id:" + names[1], "github_id:" + names[2], "oidc_id:" + names[4]}
			slices.Sort(wantWarn)
			if got := w.unboundUsers(names); !slices.Equal(got, wantWarn) {
				t.Errorf("warnings for %v, want one for each of %v", got, wantWarn)
			}
			m := s.DB.Migrator()
			for _, ix := range []string{"idx_users_github_id", "idx_users_oidc_id"} {
				if m.HasIndex(&model.User{}, ix) {
					t.Errorf("the old index %s is still there", ix)
				}
			}
			for _, ix := range []string{"uidx_users_github_id", "uidx_users_oidc_id"} {
				if !m.HasIndex(&model.User{}, ix) {
					t.Errorf("no unique index %s", ix)
				}
			}
			for _, q := range []string{"UPDATE users SET github_id = '77' WHERE id = ?", "UPDATE users SET oidc_id = 'dup-sub' WHERE id = ?"} {
				if err := s.DB.Exec(q, id(1)).Error; !model.IsUniqueViolation(err) {
					t.Errorf("%s: %v, want a unique violation", q, err)
				}
			}
			if u, err := s.UserByID(t.Context(), id(1)); err != nil {
				t.Fatal(err)
			} else if raw, _ := json.Marshal(u); !strings.Contains(string(raw), `"github_id":"","oidc_id":""`) {
				t.Errorf("an unbound user in JSON: %s", raw)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			warned := len(w.unboundUsers(names))
			s = open()
			defer s.Close()
			if again := rows(s); !maps.Equal(again, after) || len(w.unboundUsers(names)) != warned {
				t.Errorf("a second start changed rows or warned again")
			}
			for _, ix := range []string{"uidx_users_github_id", "uidx_users_oidc_id"} {
				if !s.DB.Migrator().HasIndex(&model.User{}, ix) {
					t.Errorf("no unique index %s after a second start", ix)
				}
			}
		})
	}
}

// TestOutsideIDsDifferingOnlyInCaseAreTwoAccounts: outside ids are
// case-sensitive (a WeChat openid, an OpenID Connect sub), so two that
// differ only in case bind two users and each finds its own, on every
// database: MySQL's default collation would make them one, and whoever
// signed in second would reach the first one's account. The next start
// keeps it so.
func TestOutsideIDsDifferingOnlyInCaseAreTwoAccounts(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			open := starter(t, db)
			for round := range 2 {
				s := open()
				for _, col := range []string{model.OutsideGitHub, model.OutsideOIDC, model.OutsideWeChat, model.OutsideLark} {
					upper, lower := fmt.Sprintf("oAbC-%d-%s", round, col), fmt.Sprintf("oabc-%d-%s", round, col)
					var ids []int
					for _, id := range []string{upper, lower} {
						u := &model.User{Username: testkit.Name("case"), Password: "x"}
						u.SetOutsideID(col, id)
						if err := s.CreateUser(t.Context(), u); err != nil {
							t.Fatalf("start %d, %s %q: %v", round, col, id, err)
						}
						ids = append(ids, u.ID)
					}
					for i, id := range []string{upper, lower} {
						got, err := s.UserByOutsideID(t.Context(), col, id)
						if err != nil || got.ID != ids[i] {
							t.Fatalf("start %d, %s %q found %+v, %v; want user %d", round, col, id, got, err, ids[i])
						}
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// starter is a fresh database of db and the start of a store on it, as a
// process start would open it: each call is the next start (close the
// store it gave before calling again).
func starter(t *testing.T, db string) func() *model.Store {
	t.Helper()
	vars := testkit.Env(t, db, nil)
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return func() *model.Store {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		s, err := model.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		return s
	}
}
