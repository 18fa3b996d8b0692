package controller_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"switchyard/internal/fakegithub"
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
