package controller_test

import (
	"strings"
	"testing"

	"switchyard/internal/fakeoidc"
	"switchyard/internal/testkit"
	"switchyard/model"
)

func oidcSignIn(c *testkit.Client, code string) *testkit.Reply {
	return outsideCallback(c, "oidc", code)
}

// TestOIDCSignIn pins sign-in with an OpenID Connect provider (One API's
// GET /api/oauth/oidc): off until enabled and set up; accounts are matched
// by sub, new ones take the preferred username and only a verified email;
// the token request repeats the redirect_uri the console sent; a
// signed-in caller binds; the provider's refusals and outages are clear
// errors that create nothing.
func TestOIDCSignIn(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			idp := fakeoidc.Start("")
			t.Cleanup(idp.Close)
			oidcSignInOn(t, idp, testkit.Start(t, db, nil))
		})
	}
}

// oidcSignInOn runs TestOIDCSignIn on one app, idp its provider.
func oidcSignInOn(t *testing.T, idp *fakeoidc.Server, app *testkit.App) {
	root := app.Root(t)
	users := func() int64 { return userCount(app) }
	alice := fakeoidc.Account{Sub: "248289761001", PreferredUsername: "Alice", Name: "Alice Liddell", Email: "alice@example.com", EmailVerified: true}

	oidcSignIn(app.Anon(t), idp.Code(alice)).WantFail(t, 403, "not enabled")
	root.SetOption("OidcEnabled", "true")
	oidcSignIn(app.Anon(t), idp.Code(alice)).WantFail(t, 403, "not enabled") // not set up yet
	root.SetOption("ServerAddress", app.URL)
	idp.SetRedirectURI(app.URL + "/oauth/oidc")
	for k, v := range map[string]string{
		"OidcClientId": fakeoidc.ClientID, "OidcClientSecret": fakeoidc.ClientSecret,
		"OidcAuthorizationEndpoint": idp.URL + "/authorize", "OidcTokenEndpoint": idp.URL + "/token", "OidcUserinfoEndpoint": idp.URL + "/userinfo",
	} {
		root.SetOption(k, v)
	}
	var status struct {
		OIDC        bool   `json:"oidc"`
		ClientID    string `json:"oidc_client_id"`
		Authorize   string `json:"oidc_authorization_endpoint"`
		RedirectURI string `json:"oidc_redirect_uri"`
	}
	app.Anon(t).Do("GET", "/api/status", nil).Want(t, 200, true).Decode(t, &status)
	if !status.OIDC || status.ClientID != fakeoidc.ClientID || status.Authorize != idp.URL+"/authorize" || status.RedirectURI != app.URL+"/oauth/oidc" {
		t.Fatalf("status %+v", status)
	}
	if r := root.Do("GET", "/api/option/", nil); strings.Contains(string(r.Raw), fakeoidc.ClientSecret) {
		t.Fatal("the client secret is readable through /api/option/")
	}

	before := users()
	for _, bad := range []struct{ code, msg string }{
		{"", "code must be"},
		{strings.Repeat("c", 300), "code must be"},
		{"' OR 1=1 --", "invalid_grant"},
		{"码💥", "invalid_grant"},
	} {
		oidcSignIn(app.Anon(t), bad.code).WantFail(t, 400, bad.msg)
	}
	app.Anon(t).Do("GET", "/api/oauth/oidc?code="+idp.Code(alice)+"&state=guess", nil).WantFail(t, 403, "stale")
	if users() != before {
		t.Fatal("refused sign-ins created accounts")
	}

	browser := app.Anon(t)
	var who struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
	}
	oidcSignIn(browser, idp.Code(alice)).Want(t, 200, true).Decode(t, &who)
	row := userRow(t, app, who.ID)
	if who.Username != "oidc_alice" || string(row.OIDCID) != alice.Sub || row.Email != "alice@example.com" || row.DisplayName != "Alice Liddell" {
		t.Fatalf("new account %+v, row %+v", who, row)
	}
	browser.Do("GET", "/api/user/self", nil).Want(t, 200, true)
	var again struct {
		ID int `json:"id"`
	}
	oidcSignIn(app.Anon(t), idp.Code(fakeoidc.Account{Sub: alice.Sub, PreferredUsername: "alice2"})).Want(t, 200, true).Decode(t, &again)
	if again.ID != who.ID {
		t.Fatalf("the same sub reached account %d, want %d", again.ID, who.ID)
	}

	// An unverified email is not taken; a sub too long for a username,
	// with no other hint, gets a made-up one.
	long := fakeoidc.Account{Sub: strings.Repeat("s", 255), Email: "mallory@example.com"}
	oidcSignIn(app.Anon(t), idp.Code(long)).Want(t, 200, true).Decode(t, &who)
	if row := userRow(t, app, who.ID); row.Email != "" || !strings.HasPrefix(who.Username, "oidc_") || string(row.OIDCID) != long.Sub {
		t.Fatalf("unverified or long: %+v, row email %q", who, row.Email)
	}

	// Binding, and an account bound elsewhere.
	member := app.NewUser(t, model.RoleCommon)
	bob := fakeoidc.Account{Sub: "bob-sub", PreferredUsername: "bob"}
	oidcSignIn(member, idp.Code(bob)).Want(t, 200, true)
	if userRow(t, app, member.UserID).OIDCID != "bob-sub" {
		t.Fatal("bind did not set oidc_id")
	}
	oidcSignIn(app.Anon(t), idp.Code(bob)).Want(t, 200, true).Decode(t, &who)
	if who.ID != member.UserID {
		t.Fatalf("signed in to %d, want the bound account %d", who.ID, member.UserID)
	}
	r := oidcSignIn(member, idp.Code(alice)).WantFail(t, 400, "another account")
	if !strings.Contains(string(r.Raw), "oidc_taken") {
		t.Fatalf("no oidc_taken code: %s", r.Raw)
	}

	n := users()
	root.SetOption("RegisterEnabled", "false")
	oidcSignIn(app.Anon(t), idp.Code(fakeoidc.Account{Sub: "new"})).WantFail(t, 403, "registration is closed")
	root.SetOption("RegisterEnabled", "true")
	root.SetOption("OidcClientSecret", "wrong")
	oidcSignIn(app.Anon(t), idp.Code(fakeoidc.Account{Sub: "new"})).WantFail(t, 400, "invalid_client")
	root.SetOption("OidcClientSecret", fakeoidc.ClientSecret)
	// The token request must repeat the console's redirect_uri.
	root.SetOption("ServerAddress", "https://relay.example.com")
	oidcSignIn(app.Anon(t), idp.Code(fakeoidc.Account{Sub: "new"})).WantFail(t, 400, "invalid_grant")
	root.SetOption("ServerAddress", app.URL)
	idp.Close()
	r = oidcSignIn(app.Anon(t), "any-code").WantFail(t, 502, "could not reach the identity provider")
	if strings.Contains(string(r.Raw), fakeoidc.ClientSecret) || strings.Contains(string(r.Raw), "127.0.0.1") {
		t.Fatalf("the error leaks details: %s", r.Raw)
	}
	if users() != n {
		t.Fatal("failed sign-ins created accounts")
	}
}
