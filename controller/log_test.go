package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// consume bills one call for the user behind c through the ledger, as the
// relay does.
func consume(t *testing.T, app *testkit.App, c *testkit.Client, tokenID int, modelName string, cost int64) {
	t.Helper()
	ctx := context.Background()
	res, err := app.Store.Ledger.Reserve(ctx, model.Account{UserID: c.UserID, TokenID: tokenID, UnlimitedToken: true}, cost)
	if err != nil {
		t.Fatal(err)
	}
	res.Settle(cost, &model.Log{Username: c.Username, TokenName: "tok", ModelName: modelName, PromptTokens: 10, CompletionTokens: 5, IsStream: true, RequestID: "req-" + modelName})
}

func TestLogsStatsAndDashboard(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		admin := app.NewUser(t, model.RoleAdmin)
		alice := app.NewUser(t, model.RoleCommon)
		bob := app.NewUser(t, model.RoleCommon)
		for _, u := range []*testkit.Client{alice, bob} {
			root.Do("PUT", "/api/user/", map[string]any{"id": u.UserID, "quota": 100_000}).Want(t, 200, true)
		}
		var tok tokenReply
		alice.Do("POST", "/api/token/", map[string]any{"name": "tok", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &tok)
		consume(t, app, alice, tok.ID, "gpt-4o", 300)
		consume(t, app, alice, tok.ID, "gpt-4o", 200)
		consume(t, app, alice, tok.ID, "claude-3-haiku", 50)
		consume(t, app, bob, 0, "gpt-4o", 1000)
		app.Settle(t)

		var logs []model.Log
		alice.Do("GET", "/api/log/self?type=2", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 3 {
			t.Fatalf("alice sees %d consume logs", len(logs))
		}
		for _, l := range logs {
			if l.UserID != alice.UserID || l.TokenID != tok.ID || l.Type != model.LogConsume || !l.IsStream || l.PromptTokens != 10 {
				t.Fatalf("log row %+v", l)
			}
		}
		// username is ignored on /self: nobody reads another user's rows.
		alice.Do("GET", "/api/log/self?username="+bob.Username, nil).Want(t, 200, true).Decode(t, &logs)
		for _, l := range logs {
			if l.UserID != alice.UserID {
				t.Fatalf("alice read bob's log %+v", l)
			}
		}
		alice.Do("GET", "/api/log/self?model_name=gpt-4o", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 2 {
			t.Fatalf("model filter: %d rows", len(logs))
		}
		r := alice.Do("GET", "/api/log/self?type=2&p=0&page_size=2", nil).Want(t, 200, true)
		r.Decode(t, &logs)
		if len(logs) != 2 || string(r.Raw) == "" || !contains(r.Raw, `"has_more":true`) {
			t.Fatalf("paging: %d rows %s", len(logs), r.Raw)
		}
		var st model.LogStat
		alice.Do("GET", "/api/log/self/stat?type=2", nil).Want(t, 200, true).Decode(t, &st)
		if st.Quota != 550 || st.PromptTokens != 30 || st.CompletionTokens != 15 || st.Count != 3 {
			t.Fatalf("self stat %+v", st)
		}
		admin.Do("GET", "/api/log/stat?model_name=gpt-4o", nil).Want(t, 200, true).Decode(t, &st)
		if st.Quota != 1500 {
			t.Fatalf("admin stat %+v", st)
		}
		admin.Do("GET", "/api/log/?type=2&username="+bob.Username, nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 1 || logs[0].Quota != 1000 {
			t.Fatalf("admin filter by username: %+v", logs)
		}
		admin.Do("GET", "/api/log/search?keyword=claude", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 1 {
			t.Fatalf("search: %d", len(logs))
		}
		now := time.Now().Unix()
		admin.Do("GET", fmt.Sprintf("/api/log/?start_timestamp=%d&end_timestamp=%d", now+3600, now+7200), nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 0 {
			t.Fatalf("future window: %d rows", len(logs))
		}

		var dash []model.DashboardRow
		alice.Do("GET", "/api/user/dashboard?days=7", nil).Want(t, 200, true).Decode(t, &dash)
		if len(dash) != 2 || dash[1].ModelName != "gpt-4o" || dash[1].Requests != 2 || dash[1].Quota != 500 || dash[1].Day != now/86400*86400 {
			t.Fatalf("dashboard %+v", dash)
		}
		admin.Do("GET", "/api/user/dashboard?scope=all", nil).Want(t, 200, true).Decode(t, &dash)
		if len(dash) != 2 || dash[1].Quota != 1500 {
			t.Fatalf("admin dashboard %+v", dash)
		}
		alice.Do("GET", "/api/user/dashboard?scope=all", nil).WantFail(t, 403, "admins")
		alice.Do("GET", "/api/user/dashboard?days=0", nil).WantFail(t, 400, "days")
		alice.Do("GET", "/api/user/dashboard?days=abc", nil).WantFail(t, 400, "days")

		// Authorization and bad input.
		anon := app.Anon(t)
		anon.Do("GET", "/api/log/self", nil).WantFail(t, 401, "not signed in")
		anon.Do("GET", "/api/user/dashboard", nil).WantFail(t, 401, "not signed in")
		for _, path := range []string{"/api/log/", "/api/log/search?keyword=a", "/api/log/stat"} {
			alice.Do("GET", path, nil).WantFail(t, 403, "permission")
			anon.Do("GET", path, nil).WantFail(t, 401, "not signed in")
		}
		alice.Do("DELETE", "/api/log/?target_timestamp=1", nil).WantFail(t, 403, "permission")
		alice.Do("GET", "/api/log/self?type=abc", nil).WantFail(t, 400, "type")
		alice.Do("GET", "/api/log/self?type=9", nil).WantFail(t, 400, "type")
		alice.Do("GET", "/api/log/self?start_timestamp=-5", nil).WantFail(t, 400, "start_timestamp")
		alice.Do("GET", "/api/log/self?model_name=%27%20OR%201%3D1--", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 0 {
			t.Fatalf("SQL-ish model filter matched %d", len(logs))
		}
		admin.Do("DELETE", "/api/log/", nil).WantFail(t, 400, "target_timestamp")

		var deleted int64
		admin.Do("DELETE", fmt.Sprintf("/api/log/?target_timestamp=%d", now+10), nil).Want(t, 200, true).Decode(t, &deleted)
		if deleted < 4 {
			t.Fatalf("deleted %d rows", deleted)
		}
		alice.Do("GET", "/api/log/self", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 0 {
			t.Fatalf("%d rows left", len(logs))
		}
	})
}

func TestInviteAndStartingQuota(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		for k, v := range map[string]string{"QuotaForNewUser": "100", "QuotaForInviter": "30", "QuotaForInvitee": "20"} {
			root.Do("PUT", "/api/option/", map[string]string{"key": k, "value": v}).Want(t, 200, true)
		}
		inviter := app.NewUser(t, model.RoleCommon)
		var aff string
		inviter.Do("GET", "/api/user/aff", nil).Want(t, 200, true).Decode(t, &aff)
		name := testkit.Name("inv")
		app.Anon(t).Do("POST", "/api/user/register", map[string]string{"username": name, "password": "password1", "aff_code": aff}).Want(t, 200, true)
		invitee := app.Login(t, name, "password1")

		var self model.User
		invitee.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Quota != 120 || self.InviterID != inviter.UserID {
			t.Fatalf("invitee %+v", self)
		}
		inviter.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Quota != 130 {
			t.Fatalf("inviter quota %d, want 100 + 30", self.Quota)
		}
		var logs []model.Log
		invitee.Do("GET", "/api/log/self?type=4", nil).Want(t, 200, true).Decode(t, &logs)
		if len(logs) != 2 {
			t.Fatalf("invitee system logs %+v", logs)
		}

		var groups []string
		root.Do("GET", "/api/group/", nil).Want(t, 200, true).Decode(t, &groups)
		if len(groups) != 3 || groups[0] != "default" {
			t.Fatalf("groups %v", groups)
		}
		invitee.Do("GET", "/api/group/", nil).WantFail(t, 403, "permission")
	})
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
