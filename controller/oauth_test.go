package controller_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchyard/internal/fakegithub"
	"switchyard/internal/fakelark"
	"switchyard/internal/fakeoidc"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// outsideCallback runs the console's side of an outside sign-in for c: a
// state, then the provider's callback (github or oidc) with code.
func outsideCallback(c *testkit.Client, provider, code string) *testkit.Reply {
	var state string
	r := c.Do("GET", "/api/oauth/state", nil)
	if r.Status != 200 || json.Unmarshal(r.Data, &state) != nil || len(state) < 8 {
		return r
	}
	return c.Do("GET", "/api/oauth/"+provider+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state), nil)
}

func githubSignIn(c *testkit.Client, code string) *testkit.Reply {
	return outsideCallback(c, "github", code)
}

// userCount is how many accounts the app has.
func userCount(app *testkit.App) int64 {
	var n int64
	app.Store.DB.Model(&model.User{}).Count(&n)
	return n
}

// TestGitHubSignIn pins GitHub sign-in as One API offers it: off until
// enabled; a first sign-in registers an account (when registration is
// open) with the new-user quota, later ones sign in to it; a signed-in
// caller binds GitHub to their account instead; states work once and only
// in the session that asked for them; GitHub's refusals and outages are
// clear errors that create nothing.
func TestGitHubSignIn(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			gh := fakegithub.Start("http://console.invalid/oauth/github")
			t.Cleanup(gh.Close)
			githubSignInOn(t, gh, testkit.Start(t, db, map[string]string{"GITHUB_URL": gh.URL, "GITHUB_API_URL": gh.URL + "/api"}))
		})
	}
}

// githubSignInOn runs TestGitHubSignIn on one app, gh its GitHub.
func githubSignInOn(t *testing.T, gh *fakegithub.Server, app *testkit.App) {
	root := app.Root(t)
	users := func() int64 { return userCount(app) }

	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 1, Login: "octocat", Name: "The Octocat"})).WantFail(t, 403, "not enabled")
	root.SetOption("GitHubOAuthEnabled", "true")
	root.SetOption("GitHubClientId", fakegithub.ClientID)
	root.SetOption("GitHubClientSecret", fakegithub.ClientSecret)
	root.SetOption("QuotaForNewUser", "1234")
	var status struct {
		GitHub       bool   `json:"github_oauth"`
		ClientID     string `json:"github_client_id"`
		AuthorizeURL string `json:"github_authorize_url"`
	}
	app.Anon(t).Do("GET", "/api/status", nil).Want(t, 200, true).Decode(t, &status)
	if !status.GitHub || status.ClientID != fakegithub.ClientID || status.AuthorizeURL != gh.URL+"/login/oauth/authorize" {
		t.Fatalf("status %+v", status)
	}
	if r := root.Do("GET", "/api/option/", nil); strings.Contains(string(r.Raw), fakegithub.ClientSecret) {
		t.Fatal("the client secret is readable through /api/option/")
	}

	// States: only the session that asked, once, and never a guess.
	before := users()
	browser := app.Anon(t)
	var state string
	browser.Do("GET", "/api/oauth/state", nil).Want(t, 200, true).Decode(t, &state)
	code := gh.Code(fakegithub.Account{ID: 1, Login: "octocat", Name: "The Octocat"})
	app.Anon(t).Do("GET", "/api/oauth/github?code="+code+"&state="+state, nil).WantFail(t, 403, "stale")
	browser.Do("GET", "/api/oauth/github?code="+code+"&state=wrong-state", nil).WantFail(t, 403, "stale")
	browser.Do("GET", "/api/oauth/github?code="+code+"&state="+state, nil).WantFail(t, 403, "stale")
	for _, bad := range []struct{ code, msg string }{
		{"", "code must be"},
		{strings.Repeat("c", 300), "code must be"},
		{"' OR 1=1 --", "bad_verification_code"},
		{"代码💥", "bad_verification_code"},
	} {
		githubSignIn(browser, bad.code).WantFail(t, 400, bad.msg)
	}
	if users() != before {
		t.Fatal("refused sign-ins created accounts")
	}

	// First sign-in: a new account, signed in, with the new-user quota.
	r := githubSignIn(browser, code).Want(t, 200, true)
	var who struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
	}
	r.Decode(t, &who)
	var self struct {
		Username    string `json:"username"`
		DisplayName string `json:"display_name"`
		GitHubID    string `json:"github_id"`
		Quota       int64  `json:"quota"`
	}
	browser.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
	if who.Username != "github_octocat" || self.Username != who.Username || self.DisplayName != "The Octocat" || self.GitHubID != "1" || self.Quota != 1234 {
		t.Fatalf("new account %+v, self %+v", who, self)
	}
	// Later sign-ins reach the same account, whatever the login is now.
	var again struct {
		ID int `json:"id"`
	}
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 1, Login: "octocat-renamed"})).Want(t, 200, true).Decode(t, &again)
	if again.ID != who.ID || users() != before+1 {
		t.Fatalf("second sign-in reached %d (want %d); %d accounts", again.ID, who.ID, users()-before)
	}

	// A taken username falls back to GitHub's id; an email no other
	// account uses comes along.
	taken := app.NewUser(t, model.RoleCommon)
	root.Do("PUT", "/api/user/", map[string]any{"id": taken.UserID, "username": "github_collide"}).Want(t, 200, true)
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 42, Login: "collide", Email: "Collide@Example.com"})).Want(t, 200, true).Decode(t, &who)
	if who.Username != "github_42" || userRow(t, app, who.ID).Email != "collide@example.com" {
		t.Fatalf("collision: %+v, email %q", who, userRow(t, app, who.ID).Email)
	}

	// Binding: a signed-in caller takes the GitHub account, then signs
	// in with it; an account bound elsewhere is refused.
	pw := app.NewUser(t, model.RoleCommon)
	githubSignIn(pw, gh.Code(fakegithub.Account{ID: 7, Login: "binder", Name: "B"})).Want(t, 200, true)
	if userRow(t, app, pw.UserID).GitHubID != "7" {
		t.Fatal("bind did not set github_id")
	}
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 7, Login: "binder", Name: "B"})).Want(t, 200, true).Decode(t, &who)
	if who.ID != pw.UserID {
		t.Fatalf("signed in to %d, want the bound account %d", who.ID, pw.UserID)
	}
	githubSignIn(pw, gh.Code(fakegithub.Account{ID: 1, Login: "octocat"})).WantFail(t, 400, "another account")

	// Disabled accounts and closed registration are refused.
	root.Do("POST", "/api/user/manage", map[string]any{"username": userRow(t, app, pw.UserID).Username, "action": "disable"}).Want(t, 200, true)
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 7, Login: "binder"})).WantFail(t, 403, "disabled")
	root.SetOption("RegisterEnabled", "false")
	n := users()
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 99, Login: "newcomer"})).WantFail(t, 403, "registration is closed")

	// GitHub refusing the app, or away: a clear error, nothing made.
	root.SetOption("RegisterEnabled", "true")
	root.SetOption("GitHubClientSecret", "wrong")
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 99, Login: "newcomer"})).WantFail(t, 400, "incorrect_client_credentials")
	root.SetOption("GitHubClientSecret", fakegithub.ClientSecret)
	gh.Break()
	githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 99, Login: "newcomer"})).WantFail(t, 502, "GitHub")
	gh.Close()
	r = githubSignIn(app.Anon(t), gh.Code(fakegithub.Account{ID: 99, Login: "newcomer"})).WantFail(t, 502, "could not reach GitHub")
	if strings.Contains(string(r.Raw), fakegithub.ClientSecret) || strings.Contains(string(r.Raw), "127.0.0.1") {
		t.Fatalf("the error leaks details: %s", r.Raw)
	}
	if users() != n {
		t.Fatal("failed sign-ins created accounts")
	}
}

// enableGitHub switches sign-in with GitHub on, with gh's app credentials.
func enableGitHub(root *testkit.Client) {
	root.SetOption("GitHubOAuthEnabled", "true")
	root.SetOption("GitHubClientId", fakegithub.ClientID)
	root.SetOption("GitHubClientSecret", fakegithub.ClientSecret)
}

// enableOIDC switches sign-in with OpenID Connect on, against idp.
func enableOIDC(app *testkit.App, root *testkit.Client, idp *fakeoidc.Server) {
	root.SetOption("OidcEnabled", "true")
	root.SetOption("ServerAddress", app.URL)
	idp.SetRedirectURI(app.URL + "/oauth/oidc")
	for k, v := range map[string]string{
		"OidcClientId": fakeoidc.ClientID, "OidcClientSecret": fakeoidc.ClientSecret,
		"OidcAuthorizationEndpoint": idp.URL + "/authorize", "OidcTokenEndpoint": idp.URL + "/token", "OidcUserinfoEndpoint": idp.URL + "/userinfo",
	} {
		root.SetOption(k, v)
	}
}

// outsideRace sends every browser's callback of provider at once, browser
// i with codes[i], each with a state it asked for beforehand, and returns
// the replies in the same order.
func outsideRace(t *testing.T, browsers []*testkit.Client, provider string, codes []string) []*testkit.Reply {
	t.Helper()
	states := make([]string, len(browsers))
	for i, b := range browsers {
		b.Do("GET", "/api/oauth/state", nil).Want(t, 200, true).Decode(t, &states[i])
	}
	replies := make([]*testkit.Reply, len(browsers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Go(func() {
			<-start
			replies[i] = b.Do("GET", "/api/oauth/"+provider+"?code="+url.QueryEscape(codes[i])+"&state="+url.QueryEscape(states[i]), nil)
		})
	}
	close(start)
	wg.Wait()
	return replies
}

// outsideProvider is one of an app's two outside sign-ins, with a code
// for its account of a given id.
type outsideProvider struct {
	name   string // in the callback's path: "github"
	column string // the users column: model.OutsideGitHub
	taken  string // the error code of an account bound elsewhere
	code   func(id string) string
}

// startOutsideApp starts an app on db with GitHub, OpenID Connect and
// Lark sign-in on, against fakes, and returns it with the providers.
func startOutsideApp(t *testing.T, db string) (*testkit.App, []outsideProvider) {
	gh := fakegithub.Start("http://console.invalid/oauth/github")
	t.Cleanup(gh.Close)
	idp := fakeoidc.Start("")
	t.Cleanup(idp.Close)
	fl := fakelark.Start("")
	t.Cleanup(fl.Close)
	app := testkit.Start(t, db, map[string]string{"GITHUB_URL": gh.URL, "GITHUB_API_URL": gh.URL + "/api", "LARK_URL": fl.URL, "LARK_PASSPORT_URL": fl.URL})
	root := app.Root(t)
	enableGitHub(root)
	enableOIDC(app, root, idp)
	enableLark(app, root, fl)
	return app, []outsideProvider{
		{"github", model.OutsideGitHub, "github_taken", func(id string) string {
			n, err := strconv.Atoi(id)
			if err != nil {
				t.Fatalf("a GitHub id is a number, not %q", id)
			}
			return gh.Code(fakegithub.Account{ID: n, Login: "racer", Name: "Racer"})
		}},
		{"oidc", model.OutsideOIDC, "oidc_taken", func(id string) string {
			return idp.Code(fakeoidc.Account{Sub: id, PreferredUsername: "racer"})
		}},
		{"lark", model.OutsideLark, "lark_taken", func(id string) string {
			return fl.Code(fakelark.Account{OpenID: id, EnName: "Racer"})
		}},
	}
}

// boundTo lists the ids of the users whose column holds id.
func boundTo(t *testing.T, app *testkit.App, column, id string) []int {
	t.Helper()
	var ids []int
	if err := app.Store.DB.Model(&model.User{}).Where(column+" = ?", id).Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestOutsideFirstSignInsRacingMakeOneAccount is the race the unique
// outside-id columns close: n first sign-ins with one GitHub (or OpenID
// Connect) account at once each found nobody bound and each registered,
// n accounts for one person. Now one account is made and every sign-in
// reaches it, and the losers' refused accounts left nothing behind: one
// new-user credit in all, and the account's quota + used is what was
// credited to it.
func TestOutsideFirstSignInsRacingMakeOneAccount(t *testing.T) {
	const n = 8
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			app, providers := startOutsideApp(t, db)
			app.Root(t).SetOption("QuotaForNewUser", "1234")
			for i, p := range providers {
				t.Run(p.name, func(t *testing.T) {
					id := strconv.Itoa(4242 + i)
					credits := func() (c int64) {
						app.Store.LogDB.Model(&model.Log{}).Where("type = ?", model.LogSystem).Count(&c)
						return c
					}
					users, logs := userCount(app), credits()
					browsers := make([]*testkit.Client, n)
					codes := make([]string, n)
					for j := range browsers {
						browsers[j], codes[j] = app.Anon(t), p.code(id)
					}
					var owner int
					for j, r := range outsideRace(t, browsers, p.name, codes) {
						var who struct {
							ID int `json:"id"`
						}
						r.Want(t, 200, true).Decode(t, &who)
						if j == 0 {
							owner = who.ID
						}
						if who.ID != owner {
							t.Fatalf("sign-in %d reached account %d, sign-in 0 account %d", j, who.ID, owner)
						}
					}
					if got := boundTo(t, app, p.column, id); len(got) != 1 || got[0] != owner {
						t.Fatalf("accounts bound to %s %s: %v, want only %d", p.column, id, got, owner)
					}
					if userCount(app) != users+1 || credits() != logs+1 {
						t.Fatalf("%d accounts and %d credit logs made, want 1 of each", userCount(app)-users, credits()-logs)
					}
					for j, b := range browsers {
						var self struct {
							ID int `json:"id"`
						}
						b.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
						if self.ID != owner {
							t.Fatalf("browser %d is signed in as %d, want %d", j, self.ID, owner)
						}
					}
					app.Settle(t)
					var credited int64
					app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type <> ?", owner, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&credited)
					if u := userRow(t, app, owner); u.Quota+u.UsedQuota != credited || credited != 1234 {
						t.Fatalf("quota %d + used %d, credited %d: want 1234 each way", u.Quota, u.UsedQuota, credited)
					}
				})
			}
		})
	}
}

// TestOutsideBindsRacing: signed-in users binding one outside account at
// once each found it free and each bound it. Now one bind wins and every
// other is refused as an account bound elsewhere (github_taken,
// oidc_taken), the same answer as when the look-up already sees it.
func TestOutsideBindsRacing(t *testing.T) {
	const n = 8
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			app, providers := startOutsideApp(t, db)
			for i, p := range providers {
				t.Run(p.name, func(t *testing.T) {
					id := strconv.Itoa(5151 + i)
					members := make([]*testkit.Client, n)
					codes := make([]string, n)
					for j := range members {
						members[j], codes[j] = app.NewUser(t, model.RoleCommon), p.code(id)
					}
					winner := 0
					for j, r := range outsideRace(t, members, p.name, codes) {
						if r.Status == 200 && r.Success && r.Message == "bind" {
							if winner != 0 {
								t.Fatalf("users %d and %d both bound %s %s", winner, members[j].UserID, p.column, id)
							}
							winner = members[j].UserID
							continue
						}
						if r.Status != 400 || r.Success || !strings.Contains(string(r.Raw), p.taken) {
							t.Fatalf("bind %d: want 400 %s, got %d: %s", j, p.taken, r.Status, r.Raw)
						}
					}
					if got := boundTo(t, app, p.column, id); winner == 0 || len(got) != 1 || got[0] != winner {
						t.Fatalf("accounts bound to %s %s: %v, want only the winner %d", p.column, id, got, winner)
					}
				})
			}
		})
	}
}

// TestOutsideIDsOfUnboundUsersAreNull: an unbound user holds NULL, not
// the empty string, in github_id and oidc_id (the unique indexes admit
// any number of NULLs and one empty string), and reads as "" in JSON, as
// One API's clients expect. An admin's edit that sends empty outside ids
// writes no empty string.
func TestOutsideIDsOfUnboundUsersAreNull(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		a, b := app.NewUser(t, model.RoleCommon), app.NewUser(t, model.RoleCommon)
		if err := app.Store.UpdateUserFields(t.Context(), b.UserID, map[string]any{model.OutsideGitHub: "31", model.OutsideOIDC: "b-sub"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*testkit.Client{a, b} {
			root.Do("PUT", "/api/user/", map[string]any{"id": c.UserID, "github_id": "", "oidc_id": "", "display_name": "edited"}).Want(t, 200, true)
		}
		var empty int64
		app.Store.DB.Model(&model.User{}).Where("github_id = '' OR oidc_id = ''").Count(&empty)
		if empty != 0 {
			t.Fatalf("%d users hold '' in an outside-id column", empty)
		}
		var nulls int64
		app.Store.DB.Model(&model.User{}).Where("id = ? AND github_id IS NULL AND oidc_id IS NULL", a.UserID).Count(&nulls)
		if nulls != 1 {
			t.Fatal("an unbound user's outside ids are not NULL")
		}
		if u := userRow(t, app, b.UserID); u.GitHubID != "31" || u.OIDCID != "b-sub" {
			t.Fatalf("the admin's edit unbound %+v", u)
		}
		var self map[string]any
		a.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self["github_id"] != "" || self["oidc_id"] != "" {
			t.Fatalf("unbound reads github_id %#v, oidc_id %#v; want \"\"", self["github_id"], self["oidc_id"])
		}
	})
}
