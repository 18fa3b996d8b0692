package controller_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// fakeGitHub speaks the two calls of GitHub's OAuth web flow as GitHub
// documents them: POST /login/oauth/access_token (a form; with Accept:
// application/json it answers JSON, and a bad code is a 200 whose error
// field says why) and GET /api/user with the token as a bearer (401
// without one, 403 without a User-Agent). Codes map to accounts; each
// code works once.
type fakeGitHub struct {
	*httptest.Server
	mu    sync.Mutex
	codes map[string]map[string]any // code → the /user answer
	// broken makes GET /api/user answer 500 with an HTML page.
	broken bool
}

const (
	ghClientID     = "Iv1.test-client"
	ghClientSecret = "gh-client-secret"
)

func startFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{codes: map[string]map[string]any{}}
	tokens := map[string]map[string]any{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" || r.ParseForm() != nil {
			http.Error(w, "want a form and Accept: application/json", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("client_id") != ghClientID || r.PostForm.Get("client_secret") != ghClientSecret {
			json.NewEncoder(w).Encode(map[string]string{"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect."})
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		u, ok := g.codes[r.PostForm.Get("code")]
		if !ok {
			json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
			return
		}
		delete(g.codes, r.PostForm.Get("code"))
		tok := "gho_" + testkit.Name("t")
		tokens[tok] = u
		json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": "user:email"})
	})
	mux.HandleFunc("GET /api/user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") == "" {
			http.Error(w, `{"message":"Request forbidden by administrative rules. Please make sure your request has a User-Agent header"}`, 403)
			return
		}
		g.mu.Lock()
		u, ok := tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		broken := g.broken
		g.mu.Unlock()
		if broken {
			http.Error(w, "<html>Unicorn! This page is taking too long to load.</html>", 500)
			return
		}
		if !ok {
			w.WriteHeader(401)
			w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(u)
	})
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// code issues a one-time code for a GitHub account.
func (g *fakeGitHub) code(id int, login, name string, email any) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := testkit.Name("code")
	g.codes[c] = map[string]any{"id": id, "login": login, "name": name, "email": email, "node_id": "MDQ6VXNlcjE="}
	return c
}

// githubSignIn runs the console's side of the flow for c: a state, then
// the callback with code.
func githubSignIn(c *testkit.Client, code string) *testkit.Reply {
	var state string
	r := c.Do("GET", "/api/oauth/state", nil)
	if r.Status != 200 || json.Unmarshal(r.Data, &state) != nil || len(state) < 8 {
		return r
	}
	return c.Do("GET", "/api/oauth/github?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state), nil)
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
			gh := startFakeGitHub(t)
			githubSignInOn(t, gh, testkit.Start(t, db, map[string]string{"GITHUB_URL": gh.URL, "GITHUB_API_URL": gh.URL + "/api"}))
		})
	}
}

// githubSignInOn runs TestGitHubSignIn on one app, gh its GitHub.
func githubSignInOn(t *testing.T, gh *fakeGitHub, app *testkit.App) {
	root := app.Root(t)
	users := func() int64 {
		var n int64
		app.Store.DB.Model(&model.User{}).Count(&n)
		return n
	}

	githubSignIn(app.Anon(t), gh.code(1, "octocat", "The Octocat", nil)).WantFail(t, 403, "not enabled")
	root.SetOption("GitHubOAuthEnabled", "true")
	root.SetOption("GitHubClientId", ghClientID)
	root.SetOption("GitHubClientSecret", ghClientSecret)
	root.SetOption("QuotaForNewUser", "1234")
	var status struct {
		GitHub       bool   `json:"github_oauth"`
		ClientID     string `json:"github_client_id"`
		AuthorizeURL string `json:"github_authorize_url"`
	}
	app.Anon(t).Do("GET", "/api/status", nil).Want(t, 200, true).Decode(t, &status)
	if !status.GitHub || status.ClientID != ghClientID || status.AuthorizeURL != gh.URL+"/login/oauth/authorize" {
		t.Fatalf("status %+v", status)
	}
	if r := root.Do("GET", "/api/option/", nil); strings.Contains(string(r.Raw), ghClientSecret) {
		t.Fatal("the client secret is readable through /api/option/")
	}

	// States: only the session that asked, once, and never a guess.
	before := users()
	browser := app.Anon(t)
	var state string
	browser.Do("GET", "/api/oauth/state", nil).Want(t, 200, true).Decode(t, &state)
	code := gh.code(1, "octocat", "The Octocat", nil)
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
	githubSignIn(app.Anon(t), gh.code(1, "octocat-renamed", "", nil)).Want(t, 200, true).Decode(t, &again)
	if again.ID != who.ID || users() != before+1 {
		t.Fatalf("second sign-in reached %d (want %d); %d accounts", again.ID, who.ID, users()-before)
	}

	// A taken username falls back to GitHub's id; an email no other
	// account uses comes along.
	taken := app.NewUser(t, model.RoleCommon)
	root.Do("PUT", "/api/user/", map[string]any{"id": taken.UserID, "username": "github_collide"}).Want(t, 200, true)
	githubSignIn(app.Anon(t), gh.code(42, "collide", "", "Collide@Example.com")).Want(t, 200, true).Decode(t, &who)
	if who.Username != "github_42" || userRow(t, app, who.ID).Email != "collide@example.com" {
		t.Fatalf("collision: %+v, email %q", who, userRow(t, app, who.ID).Email)
	}

	// Binding: a signed-in caller takes the GitHub account, then signs
	// in with it; an account bound elsewhere is refused.
	pw := app.NewUser(t, model.RoleCommon)
	githubSignIn(pw, gh.code(7, "binder", "B", nil)).Want(t, 200, true)
	if userRow(t, app, pw.UserID).GitHubID != "7" {
		t.Fatal("bind did not set github_id")
	}
	githubSignIn(app.Anon(t), gh.code(7, "binder", "B", nil)).Want(t, 200, true).Decode(t, &who)
	if who.ID != pw.UserID {
		t.Fatalf("signed in to %d, want the bound account %d", who.ID, pw.UserID)
	}
	githubSignIn(pw, gh.code(1, "octocat", "", nil)).WantFail(t, 400, "another account")

	// Disabled accounts and closed registration are refused.
	root.Do("POST", "/api/user/manage", map[string]any{"username": userRow(t, app, pw.UserID).Username, "action": "disable"}).Want(t, 200, true)
	githubSignIn(app.Anon(t), gh.code(7, "binder", "", nil)).WantFail(t, 403, "disabled")
	root.SetOption("RegisterEnabled", "false")
	n := users()
	githubSignIn(app.Anon(t), gh.code(99, "newcomer", "", nil)).WantFail(t, 403, "registration is closed")

	// GitHub refusing the app, or away: a clear error, nothing made.
	root.SetOption("RegisterEnabled", "true")
	root.SetOption("GitHubClientSecret", "wrong")
	githubSignIn(app.Anon(t), gh.code(99, "newcomer", "", nil)).WantFail(t, 400, "incorrect_client_credentials")
	root.SetOption("GitHubClientSecret", ghClientSecret)
	gh.mu.Lock()
	gh.broken = true
	gh.mu.Unlock()
	githubSignIn(app.Anon(t), gh.code(99, "newcomer", "", nil)).WantFail(t, 502, "GitHub")
	gh.Close()
	r = githubSignIn(app.Anon(t), gh.code(99, "newcomer", "", nil)).WantFail(t, 502, "could not reach GitHub")
	if strings.Contains(string(r.Raw), ghClientSecret) || strings.Contains(string(r.Raw), "127.0.0.1") {
		t.Fatalf("the error leaks details: %s", r.Raw)
	}
	if users() != n {
		t.Fatal("failed sign-ins created accounts")
	}
}
