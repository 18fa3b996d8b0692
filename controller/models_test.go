package controller_test

import (
	"slices"
	"strings"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestModelEndpointsKeepOneAPIsShapes pins the console's two model lists
// as One API serves them: /api/models maps each channel type's number to
// its default models, whatever channels exist, and
// /api/user/available_models lists what the caller's group reaches now.
func TestModelEndpointsKeepOneAPIsShapes(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		user := app.NewUser(t, model.RoleCommon)
		vip := app.NewUser(t, model.RoleCommon)
		root.Do("PUT", "/api/user/", map[string]any{"id": vip.UserID, "group": "vip"}).Want(t, 200, true)
		root.Do("POST", "/api/channel/", map[string]any{"name": "everyone", "type": 8, "key": "sk-a", "base_url": "http://127.0.0.1:1",
			"models": "gpt-4o-mini,模型-ünïcode", "group": "default"}).Want(t, 200, true)
		root.Do("POST", "/api/channel/", map[string]any{"name": "vip only", "type": 8, "key": "sk-b", "base_url": "http://127.0.0.1:1",
			"models": "gpt-4.1,' OR 1=1 --", "group": "vip"}).Want(t, 200, true)

		for _, path := range []string{"/api/models", "/api/user/available_models"} {
			app.Anon(t).Do("GET", path, nil).Want(t, 401, false)
		}

		for name, c := range map[string]*testkit.Client{"user": user, "root": root} {
			var byType map[string][]string
			c.Do("GET", "/api/models", nil).Want(t, 200, true).Decode(t, &byType)
			if !slices.Contains(byType["1"], "gpt-4o-mini") || !slices.Contains(byType["14"], "claude-sonnet-4-5") {
				t.Fatalf("%s: /api/models by type: %v", name, byType)
			}
			if m, ok := byType["8"]; !ok || len(m) != 0 {
				t.Fatalf("%s: the custom type offers no default models, got %v (present %v)", name, m, ok)
			}
			// The channels made above change nothing here.
			for _, models := range byType {
				if slices.Contains(models, "模型-ünïcode") {
					t.Fatalf("%s: /api/models lists a channel's model: %v", name, byType)
				}
			}
		}

		for _, tc := range []struct {
			name string
			c    *testkit.Client
			want string
		}{
			{"user in default", user, "gpt-4o-mini,模型-ünïcode"},
			{"root in default", root, "gpt-4o-mini,模型-ünïcode"},
			{"user in vip", vip, "' OR 1=1 --,gpt-4.1"},
		} {
			var names []string
			tc.c.Do("GET", "/api/user/available_models", nil).Want(t, 200, true).Decode(t, &names)
			if strings.Join(names, ",") != tc.want {
				t.Fatalf("%s: available models %q, want %q", tc.name, names, tc.want)
			}
		}
	})
}
