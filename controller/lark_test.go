package controller_test

import (
	"strings"
	"testing"

	"switchyard/internal/fakelark"
	"switchyard/internal/testkit"
	"switchyard/model"
)

func larkSignIn(c *testkit.Client, code string) *testkit.Reply {
	return outsideCallback(c, "lark", code)
}

// enableLark sets up sign-in with Lark against fl, whose app's redirect
// URL is the app's /oauth/lark.
func enableLark(app *testkit.App, root *testkit.Client, fl *fakelark.Server) {
	root.SetOption("ServerAddress", app.URL)
	fl.SetRedirectURI(app.URL + "/oauth/lark")
	root.SetOption("LarkClientId", fakelark.ClientID)
	root.SetOption("LarkClientSecret", fakelark.ClientSecret)
}

// TestLarkSignIn pins sign-in with Lark (Feishu) as One API offers it: off
// until the app is set up; states work once and only in the session that
// asked; the code is traded at the passport with the redirect_uri the
// console sent; accounts are matched by open_id, a first sign-in
// registers one (Lark's name, no email), later ones sign in to it; a
// signed-in caller binds; Lark's refusals, in both its error shapes, and
// its outages are clear errors that write nothing; the secret is never
// shown.
func TestLarkSignIn(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fl := fakelark.Start("")
			t.Cleanup(fl.Close)
			larkSignInOn(t, fl, testkit.Start(t, db, map[string]string{"LARK_URL": fl.URL, "LARK_PASSPORT_URL": fl.URL}))
		})
	}
}

// larkSignInOn runs TestLarkSignIn on one app, fl its Lark.
func larkSignInOn(t *testing.T, fl *fakelark.Server, app *testkit.App) {
	root := app.Root(t)
	users := func() int64 { return userCount(app) }
	zhang := fakelark.Account{OpenID: "ou_7d8a6e6df7621556ce0d21922b676706", UnionID: "on_1", Name: "张三", EnName: "San Zhang", Email: "zhang.san@example.com"}

	wantCode(t, larkSignIn(app.Anon(t), fl.Code(zhang)).WantFail(t, 403, "not enabled"), "lark_disabled")
	root.SetOption("ServerAddress", app.URL)
	fl.SetRedirectURI(app.URL + "/oauth/lark")
	root.SetOption("LarkClientId", fakelark.ClientID)
	wantCode(t, larkSignIn(app.Anon(t), fl.Code(zhang)).WantFail(t, 403, "not enabled"), "lark_disabled") // no secret yet
	root.SetOption("LarkClientSecret", fakelark.ClientSecret)
	root.SetOption("QuotaForNewUser", "4321")
	var status struct {
		ClientID    string `json:"lark_client_id"`
		Authorize   string `json:"lark_authorize_url"`
		RedirectURI string `json:"lark_redirect_uri"`
	}
	st := app.Anon(t).Do("GET", "/api/status", nil).Want(t, 200, true)
	st.Decode(t, &status)
	if status.ClientID != fakelark.ClientID || status.Authorize != fl.URL+"/open-apis/authen/v1/index" || status.RedirectURI != app.URL+"/oauth/lark" {
		t.Fatalf("status %+v", status)
	}
	if opts := root.Do("GET", "/api/option/", nil); strings.Contains(string(opts.Raw), fakelark.ClientSecret) || strings.Contains(string(st.Raw), fakelark.ClientSecret) {
		t.Fatal("the Lark app secret is readable through /api/option/ or /api/status")
	}

	// States: only the session that asked, once, and never a guess.
	before := users()
	browser := app.Anon(t)
	var state string
	browser.Do("GET", "/api/oauth/state", nil).Want(t, 200, true).Decode(t, &state)
	code := fl.Code(zhang)
	wantCode(t, app.Anon(t).Do("GET", "/api/oauth/lark?code="+code+"&state="+state, nil).WantFail(t, 403, "stale"), "oauth_state_mismatch")
	browser.Do("GET", "/api/oauth/lark?code="+code+"&state=wrong-state", nil).WantFail(t, 403, "stale")
	browser.Do("GET", "/api/oauth/lark?code="+code+"&state="+state, nil).WantFail(t, 403, "stale")
	browser.Do("GET", "/api/oauth/lark?code="+code, nil).WantFail(t, 403, "stale")
	for _, bad := range []struct{ code, msg string }{
		{"", "code must be"},
		{strings.Repeat("c", 300), "code must be"},
		{"' OR 1=1 --", "invalid_grant"},
		{"代码💥", "invalid_grant"},
		{"lark-code-1\"}", "invalid_grant"},
	} {
		r := larkSignIn(browser, bad.code).WantFail(t, 400, bad.msg)
		if bad.msg == "invalid_grant" {
			wantCode(t, r, "lark_oauth_refused")
		}
	}
	if users() != before {
		t.Fatal("refused sign-ins created accounts")
	}

	// First sign-in: a new account named from the English name, with
	// Lark's name and the new-user quota, and no email.
	var who struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
	}
	larkSignIn(browser, code).Want(t, 200, true).Decode(t, &who)
	var self struct {
		Username    string `json:"username"`
		DisplayName string `json:"display_name"`
		LarkID      string `json:"lark_id"`
		Email       string `json:"email"`
		Quota       int64  `json:"quota"`
	}
	browser.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
	if who.Username != "lark_san_zhang" || self.Username != who.Username || self.DisplayName != "张三" || self.LarkID != zhang.OpenID || self.Email != "" || self.Quota != 4321 {
		t.Fatalf("new account %+v, self %+v", who, self)
	}
	var again struct {
		ID int `json:"id"`
	}
	renamed := zhang
	renamed.Name, renamed.EnName = "张三丰", "Sanfeng Zhang"
	larkSignIn(app.Anon(t), fl.Code(renamed)).Want(t, 200, true).Decode(t, &again)
	if again.ID != who.ID || users() != before+1 {
		t.Fatalf("second sign-in reached %d (want %d); %d new accounts", again.ID, who.ID, users()-before)
	}
	// No English name: the email's local part, else a made-up name.
	larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_2", Name: "李四", Email: "li.si@example.com"})).Want(t, 200, true).Decode(t, &who)
	if who.Username != "lark_li.si" {
		t.Fatalf("account without an English name: %+v", who)
	}
	larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_3"})).Want(t, 200, true).Decode(t, &who)
	if !strings.HasPrefix(who.Username, "lark_") || userRow(t, app, who.ID).DisplayName != "Lark User" {
		t.Fatalf("account with no name: %+v, %q", who, userRow(t, app, who.ID).DisplayName)
	}

	// Binding: a signed-in caller takes the Lark account, then signs in
	// with it; an account bound elsewhere is refused.
	pw := app.NewUser(t, model.RoleCommon)
	binder := fakelark.Account{OpenID: "ou_binder", Name: "Binder"}
	if r := larkSignIn(pw, fl.Code(binder)).Want(t, 200, true); r.Message != "bind" {
		t.Fatalf("bind answered %q", r.Message)
	}
	if userRow(t, app, pw.UserID).LarkID != "ou_binder" {
		t.Fatal("bind did not set lark_id")
	}
	larkSignIn(app.Anon(t), fl.Code(binder)).Want(t, 200, true).Decode(t, &who)
	if who.ID != pw.UserID {
		t.Fatalf("signed in to %d, want the bound account %d", who.ID, pw.UserID)
	}
	wantCode(t, larkSignIn(pw, fl.Code(zhang)).WantFail(t, 400, "another account"), "lark_taken")

	// Registration closed; Lark refusing the app or the person, or away.
	root.SetOption("RegisterEnabled", "false")
	n := users()
	wantCode(t, larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_new"})).WantFail(t, 403, "registration is closed"), "registration_closed")
	root.SetOption("RegisterEnabled", "true")
	root.SetOption("LarkClientSecret", "wrong")
	larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_new"})).WantFail(t, 400, "invalid_client")
	root.SetOption("LarkClientSecret", fakelark.ClientSecret)
	fl.Refuse(20010, "user has no permission to use this app")
	wantCode(t, larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_new"})).WantFail(t, 400, "code 20010"), "lark_oauth_refused")
	fl.Refuse(0, "")
	root.SetOption("ServerAddress", "https://moved.example.com")
	larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_new"})).WantFail(t, 400, "invalid_grant") // another redirect_uri
	root.SetOption("ServerAddress", app.URL)
	fl.Break()
	larkSignIn(app.Anon(t), fl.Code(fakelark.Account{OpenID: "ou_new"})).WantFail(t, 502, "Lark")
	fl.Close()
	r := larkSignIn(app.Anon(t), "lark-code-1").WantFail(t, 502, "could not reach Lark")
	if strings.Contains(string(r.Raw), fakelark.ClientSecret) || strings.Contains(string(r.Raw), "127.0.0.1") {
		t.Fatalf("the error leaks details: %s", r.Raw)
	}
	if users() != n {
		t.Fatal("failed sign-ins created accounts")
	}
}
