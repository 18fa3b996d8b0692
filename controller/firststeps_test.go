package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestRootRelaysRightAfterSetup follows the README's first steps: root
// adds a channel, creates a token and relays at once. Root used to start
// with quota 0 and the first call answered 403.
func TestRootRelaysRightAfterSetup(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		root := app.Root(t)
		var self struct {
			Quota int64 `json:"quota"`
		}
		root.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Quota != model.RootStartingQuota {
			t.Fatalf("root starts with quota %d, want %d", self.Quota, model.RootStartingQuota)
		}
		// The credit is a log row like any other, so the quota sums hold.
		var credited int64
		app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", root.UserID, model.LogSystem).Select("COALESCE(SUM(quota),0)").Scan(&credited)
		if credited != model.RootStartingQuota {
			t.Fatalf("root's starting quota logged as %d", credited)
		}

		f := &relayFixture{app: app, root: root}
		f.channel(t, map[string]any{"type": 1, "name": "first", "base_url": up.URL, "models": "gpt-4o-mini"})
		var tok tokenReply
		root.Do("POST", "/api/token/", map[string]any{"name": "first", "remain_quota": 500000}).Want(t, 200, true).Decode(t, &tok)
		resp, err := f.client(tok.Key).Chat.Completions.New(context.Background(), chat("gpt-4o-mini"))
		if err != nil || len(resp.Choices) == 0 {
			t.Fatalf("root's first call: %v", err)
		}
	})
}

// TestRefusedCallSaysWhichQuotaIsEmpty: the 403 names the empty balance
// and where it is filled, with a code the console translates.
func TestRefusedCallSaysWhichQuotaIsEmpty(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	up := fakeupstream.Start(fakeupstream.Behavior{})
	defer up.Close()
	f := newRelayFixture(t, app, 0, nil)
	f.channel(t, map[string]any{"name": "c", "base_url": up.URL, "models": "gpt-4o-mini"})
	ctx := context.Background()
	_, err := f.client(f.tok.Key).Chat.Completions.New(ctx, chat("gpt-4o-mini"))
	e := apiError(t, err, 403, "user_quota_exhausted")
	if !strings.Contains(e.Message, "account's quota") || !strings.Contains(e.Message, "Users page") {
		t.Fatalf("user-quota refusal %q does not say what is empty and who fills it", e.Message)
	}

	f.root.Do("PUT", "/api/user/", map[string]any{"id": f.user.UserID, "quota": 10_000_000}).Want(t, 200, true)
	var tok tokenReply
	f.user.Do("POST", "/api/token/", map[string]any{"name": "tiny", "remain_quota": 1}).Want(t, 200, true).Decode(t, &tok)
	c := f.client(tok.Key)
	// The first call spends the token's one unit (a nearly empty balance
	// still serves one request); the next is refused.
	_, _ = c.Chat.Completions.New(ctx, chat("gpt-4o-mini"))
	testkit.Eventually(t, 5*time.Second, "the token's refusal", func() bool {
		_, err := c.Chat.Completions.New(ctx, chat("gpt-4o-mini"))
		return err != nil
	})
	_, err = c.Chat.Completions.New(ctx, chat("gpt-4o-mini"))
	e = apiError(t, err, 403, "token_quota_exhausted")
	if !strings.Contains(e.Message, "token's own quota") || !strings.Contains(e.Message, "Tokens page") {
		t.Fatalf("token refusal %q does not say what is empty and who fills it", e.Message)
	}
}

func TestWrongCurrentPasswordHasACode(t *testing.T) {
	app := testkit.Start(t, "sqlite", nil)
	user := app.NewUser(t, model.RoleCommon)
	r := user.Do("PUT", "/api/user/self", map[string]any{"password": "new-password-1", "original_password": "not-it"}).WantFail(t, 400, "the current password is wrong (original_password)")
	var body struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil || body.Code != "wrong_current_password" {
		t.Fatalf("reply %s lacks the code the console translates", r.Raw)
	}
}

// playground sends the console's playground call as the browser does.
func playground(t *testing.T, app *testkit.App, c *testkit.Client, tokenID string, body string) *testkit.Reply {
	t.Helper()
	req, _ := http.NewRequest("POST", app.URL+"/pg/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tokenID != "" {
		req.Header.Set("X-Switchyard-Token", tokenID)
	}
	return c.Send(req)
}

func TestPlaygroundRelaysAsTheChosenToken(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "pg", "remain_quota": 1_000_000})
		f.option(t, "LogContentEnabled", "true")
		f.channel(t, map[string]any{"name": "c", "base_url": up.URL, "models": "gpt-4o-mini"})
		id := fmt.Sprint(f.tok.ID)
		body := `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"my key is sk-proj-abcdefghijklmnop1234 please"}]}`

		r := playground(t, app, f.user, id, body)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "data: [DONE]") || !strings.Contains(r.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("playground stream: %d %s", r.Status, r.Raw)
		}
		var log model.Log
		testkit.Eventually(t, 5*time.Second, "the playground call's consume log", func() bool {
			return app.Store.LogDB.Where("token_id = ? AND type = ?", f.tok.ID, model.LogConsume).First(&log).Error == nil
		})
		if log.Quota <= 0 || !log.IsStream || log.UserID != f.user.UserID || log.TokenName != "pg" {
			t.Fatalf("playground log %+v", log)
		}
		if !strings.Contains(log.Content, "Hello from the fake upstream") || strings.Contains(log.Content, "sk-proj-abcdefghijklmnop1234") || !strings.Contains(log.Content, "[redacted]") {
			t.Fatalf("stored content not kept or not redacted: %q", log.Content)
		}
		var tok tokenReply
		testkit.Eventually(t, 5*time.Second, "the token to be charged", func() bool {
			f.user.Do("GET", "/api/token/"+id, nil).Want(t, 200, true).Decode(t, &tok)
			return tok.UsedQuota == log.Quota
		})

		// Who may use it: the token's owner only, signed in, naming a token.
		other := app.NewUser(t, model.RoleCommon)
		for _, tc := range []struct {
			who    *testkit.Client
			status int
		}{{other, 404}, {f.root, 404}, {app.Anon(t), 401}} {
			if r := playground(t, app, tc.who, id, body); r.Status != tc.status || !strings.Contains(string(r.Raw), `"error"`) {
				t.Fatalf("user %d: %d %s, want %d in OpenAI's shape", tc.who.UserID, r.Status, r.Raw, tc.status)
			}
		}
		for _, bad := range []string{"", "abc", "-1", "0", "1 OR 1=1", "１"} {
			if r := playground(t, app, f.user, bad, body); r.Status != 400 || !strings.Contains(string(r.Raw), "playground_token_missing") {
				t.Fatalf("token header %q: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := playground(t, app, f.user, id, `{"model":`); r.Status != 400 {
			t.Fatalf("malformed JSON: %d %s", r.Status, r.Raw)
		}
		if r := playground(t, app, f.user, id, `{"model":"gpt-4o-mini","messages":"hi"}`); r.Status != 400 {
			t.Fatalf("wrong types: %d %s", r.Status, r.Raw)
		}
		// A disabled token stops working here too.
		f.user.Do("PUT", "/api/token/?status_only=1", map[string]any{"id": f.tok.ID, "status": 2}).Want(t, 200, true)
		if r := playground(t, app, f.user, id, body); r.Status != 401 || !strings.Contains(string(r.Raw), "token_disabled") {
			t.Fatalf("disabled token: %d %s", r.Status, r.Raw)
		}
	})
}
