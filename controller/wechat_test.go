package controller_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"

	"switchyard/internal/fakewechat"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// wechatSignIn sends a verification code to sign in (or, bind, to bind).
func wechatSignIn(c *testkit.Client, code string, bind bool) *testkit.Reply {
	path := "/api/oauth/wechat"
	if bind {
		path += "/bind"
	}
	return c.Do("GET", path+"?"+url.Values{"code": {code}}.Encode(), nil)
}

// wantCode fails t unless r carries the management error code.
func wantCode(t *testing.T, r *testkit.Reply, code string) {
	t.Helper()
	if !strings.Contains(string(r.Raw), `"code":"`+code+`"`) {
		t.Fatalf("want code %s, got %d: %s", code, r.Status, r.Raw)
	}
}

// enableWeChat points app's WeChat sign-in at ws and switches it on.
func enableWeChat(t *testing.T, root *testkit.Client, ws *fakewechat.Server) {
	t.Helper()
	root.SetOption("WeChatServerAddress", ws.URL)
	root.SetOption("WeChatServerToken", fakewechat.Token)
	root.SetOption("WeChatAccountQRCodeImageURL", "https://wechat.example.com/qrcode.png")
	root.SetOption("WeChatAuthEnabled", "true")
}

// TestWeChatSignIn pins sign-in with WeChat as One API offers it (a
// verification code from the operator's WeChat Server): off until enabled;
// a first sign-in registers an account with the new-user quota, later ones
// sign in to it; a signed-in caller binds through /bind, and only a
// signed-in one; an openid bound elsewhere is refused; odd codes are sent
// escaped and refused codes are clear errors that write nothing; the
// server token is never shown.
func TestWeChatSignIn(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		ws := fakewechat.Start()
		t.Cleanup(ws.Close)
		root := app.Root(t)
		users := func() int64 { return userCount(app) }

		r := wechatSignIn(app.Anon(t), ws.Code("oFirst"), false).WantFail(t, 403, "not enabled")
		wantCode(t, r, "wechat_disabled")
		root.Do("PUT", "/api/option/", map[string]string{"key": "WeChatServerAddress", "value": "ftp://wechat.example.com"}).WantFail(t, 400, "http or https")
		enableWeChat(t, root, ws)
		root.SetOption("QuotaForNewUser", "777")
		var status struct {
			WeChat bool   `json:"wechat_login"`
			QRCode string `json:"wechat_qrcode"`
		}
		st := app.Anon(t).Do("GET", "/api/status", nil).Want(t, 200, true)
		st.Decode(t, &status)
		if !status.WeChat || status.QRCode != "https://wechat.example.com/qrcode.png" {
			t.Fatalf("status %+v", status)
		}
		if opts := root.Do("GET", "/api/option/", nil); strings.Contains(string(opts.Raw), fakewechat.Token) || strings.Contains(string(st.Raw), fakewechat.Token) {
			t.Fatal("the WeChat Server token is readable through /api/option/ or /api/status")
		}

		// Codes that are not the server's, sent escaped or not at all.
		before, calls := users(), ws.Calls()
		for _, bad := range []string{"", "   ", strings.Repeat("1", 33)} {
			wechatSignIn(app.Anon(t), bad, false).WantFail(t, 400, "code must be")
		}
		if ws.Calls() != calls {
			t.Fatal("a code that cannot be one was sent to the WeChat Server")
		}
		for _, bad := range []struct{ code, query string }{
			{"999999", "code=999999"},
			{"' OR 1=1 --", "code=%27+OR+1%3D1+--"},
			{"1&code=" + ws.Code("oFirst"), "code=1%26code%3D100"},
			{"验证码💥", "code=%E9%AA%8C%E8%AF%81%E7%A0%81%F0%9F%92%A5"},
		} {
			r := wechatSignIn(app.Anon(t), bad.code, false).WantFail(t, 400, "wrong or has expired")
			wantCode(t, r, "wechat_code_invalid")
			if q := ws.Last().Query; !strings.HasPrefix(q, bad.query) {
				t.Errorf("code %q reached the server as %q", bad.code, q)
			}
		}
		if users() != before {
			t.Fatal("refused codes created accounts")
		}

		// First sign-in: a new account, signed in; later ones reach it.
		browser := app.Anon(t)
		var who struct {
			ID       int    `json:"id"`
			Username string `json:"username"`
		}
		wechatSignIn(browser, ws.Code("oFirst"), false).Want(t, 200, true).Decode(t, &who)
		var self struct {
			DisplayName string `json:"display_name"`
			WeChatID    string `json:"wechat_id"`
			Quota       int64  `json:"quota"`
		}
		browser.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if !strings.HasPrefix(who.Username, "wechat_") || self.DisplayName != "WeChat User" || self.WeChatID != "oFirst" || self.Quota != 777 {
			t.Fatalf("new account %+v, self %+v", who, self)
		}
		var again struct {
			ID int `json:"id"`
		}
		wechatSignIn(app.Anon(t), ws.Code("oFirst"), false).Want(t, 200, true).Decode(t, &again)
		if again.ID != who.ID || users() != before+1 {
			t.Fatalf("second sign-in reached %d (want %d); %d new accounts", again.ID, who.ID, users()-before)
		}

		// Binding needs a signed-in caller; then the account signs in
		// with WeChat alone; an openid bound elsewhere is refused.
		wechatSignIn(app.Anon(t), ws.Code("oBinder"), true).WantFail(t, 401, "")
		pw := app.NewUser(t, model.RoleCommon)
		if r := wechatSignIn(pw, ws.Code("oBinder"), true).Want(t, 200, true); r.Message != "bind" {
			t.Fatalf("bind answered %q, want One API's \"bind\"", r.Message)
		}
		if userRow(t, app, pw.UserID).WeChatID != "oBinder" {
			t.Fatal("bind did not set wechat_id")
		}
		wechatSignIn(app.Anon(t), ws.Code("oBinder"), false).Want(t, 200, true).Decode(t, &who)
		if who.ID != pw.UserID {
			t.Fatalf("signed in to %d, want the bound account %d", who.ID, pw.UserID)
		}
		r = wechatSignIn(pw, ws.Code("oFirst"), true).WantFail(t, 400, "another account")
		wantCode(t, r, "wechat_taken")
		if userRow(t, app, pw.UserID).WeChatID != "oBinder" {
			t.Fatal("a refused bind changed wechat_id")
		}

		// Disabled accounts and closed registration are refused.
		root.Do("POST", "/api/user/manage", map[string]any{"username": pw.Username, "action": "disable"}).Want(t, 200, true)
		wechatSignIn(app.Anon(t), ws.Code("oBinder"), false).WantFail(t, 403, "disabled")
		root.SetOption("RegisterEnabled", "false")
		n := users()
		r = wechatSignIn(app.Anon(t), ws.Code("oNewcomer"), false).WantFail(t, 403, "registration is closed")
		wantCode(t, r, "registration_closed")
		root.SetOption("RegisterEnabled", "true")

		// The server refusing the token, or away: clear errors, nothing
		// made, nothing leaked.
		root.SetOption("WeChatServerToken", "wrong-token")
		r = wechatSignIn(app.Anon(t), ws.Code("oNewcomer"), false).WantFail(t, 400, "refused the code")
		wantCode(t, r, "wechat_code_invalid")
		root.SetOption("WeChatServerToken", fakewechat.Token)
		ws.Break()
		wechatSignIn(app.Anon(t), ws.Code("oNewcomer"), false).WantFail(t, 502, "WeChat Server")
		ws.Close()
		r = wechatSignIn(app.Anon(t), "123456", false).WantFail(t, 502, "could not reach the WeChat Server")
		if strings.Contains(string(r.Raw), fakewechat.Token) || strings.Contains(string(r.Raw), "127.0.0.1") {
			t.Fatalf("the error leaks details: %s", r.Raw)
		}
		if users() != n {
			t.Fatal("failed sign-ins created accounts")
		}

		// Switched off: both routes refuse, signed in or not.
		root.SetOption("WeChatAuthEnabled", "false")
		wantCode(t, wechatSignIn(app.Anon(t), "123456", false).WantFail(t, 403, "not enabled"), "wechat_disabled")
		wantCode(t, wechatSignIn(root, "123456", true).WantFail(t, 403, "not enabled"), "wechat_disabled")
	})
}

// TestWeChatFirstSignInsRaceToOneAccount: a person who double-clicks, or
// two tabs sending one code, must end with one account, and every sign-in
// in it (the unique wechat_id decides the race).
func TestWeChatFirstSignInsRaceToOneAccount(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		ws := fakewechat.Start()
		t.Cleanup(ws.Close)
		enableWeChat(t, app.Root(t), ws)
		code := ws.Code("oRacer")
		const racers = 8
		replies := make([]*testkit.Reply, racers)
		browsers := make([]*testkit.Client, racers)
		for i := range browsers {
			browsers[i] = app.Anon(t)
		}
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i] = wechatSignIn(browsers[i], code, false)
			}()
		}
		wg.Wait()
		ids := map[int]bool{}
		for _, r := range replies {
			var who struct {
				ID int `json:"id"`
			}
			r.Want(t, 200, true).Decode(t, &who)
			ids[who.ID] = true
		}
		var bound int64
		app.Store.DB.Model(&model.User{}).Where("wechat_id = ?", "oRacer").Count(&bound)
		if len(ids) != 1 || bound != 1 {
			t.Fatalf("racing first sign-ins reached accounts %v; %d rows hold the openid", ids, bound)
		}
	})
}

// TestOutsideCodesAreRateLimited: a WeChat verification code is a few
// digits, good for minutes, so guessing one must meet the critical rate
// limit (CRITICAL_RATE_LIMIT per 20 minutes per IP) on every route a code
// goes to, as it does on GitHub's and OIDC's callbacks.
func TestOutsideCodesAreRateLimited(t *testing.T) {
	for _, path := range []string{"/api/oauth/wechat?code=1", "/api/oauth/wechat/bind?code=1", "/api/oauth/lark?code=1&state=s"} {
		t.Run(strings.TrimPrefix(path, "/api/oauth/"), func(t *testing.T) {
			// An app per route: the limit counts every critical route of
			// the IP together.
			testkit.ForEachDB(t, map[string]string{"CRITICAL_RATE_LIMIT": "3"}, func(t *testing.T, app *testkit.App) {
				c := app.Anon(t)
				for range 3 {
					if r := c.Do("GET", path, nil); r.Status == 429 {
						t.Fatalf("limited too soon: %s", r.Raw)
					}
				}
				c.Do("GET", path, nil).WantFail(t, 429, "")
			})
		})
	}
}
