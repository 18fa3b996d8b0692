package controller_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"switchyard/internal/testkit"
	"switchyard/model"
)

// signIn logs in over HTTP and returns the session cookie.
func signIn(t *testing.T, baseURL, username, password string) *http.Cookie {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	resp, err := http.Post(baseURL+"/api/user/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			return c
		}
	}
	t.Fatalf("login %s answered %d without a session cookie", username, resp.StatusCode)
	return nil
}

// withCookie sends method path with cookie (and JSON body) to baseURL and
// returns the status and any new session cookie.
func withCookie(t *testing.T, baseURL, method, path string, cookie *http.Cookie, body any) (int, *http.Cookie) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, baseURL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.MaxAge >= 0 {
			return resp.StatusCode, c
		}
	}
	return resp.StatusCode, nil
}

// TestSessionsEndServerSide is defect 6 of issue 13: a cookie kept working
// after logout and after a password change. Copies of the old cookie are
// replayed on this node and on a second node that shares the database and
// Redis.
func TestSessionsEndServerSide(t *testing.T) {
	testkit.ForEachDB(t, map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}, func(t *testing.T, app *testkit.App) {
		b := testkit.SecondNode(t, app)
		user := app.NewUser(t, model.RoleCommon)
		pass := "password-" + user.Username
		nodes := []string{app.URL, b.URL}
		wantStatus := func(what string, cookie *http.Cookie, want int) {
			t.Helper()
			for _, n := range nodes {
				// The other node learns through the bus; within a second.
				testkit.Eventually(t, 2*time.Second, what, func() bool {
					got, _ := withCookie(t, n, "GET", "/api/user/self", cookie, nil)
					return got == want
				})
			}
		}

		// Logout ends the session: the old cookie gets 401 on both nodes.
		c1 := signIn(t, app.URL, user.Username, pass)
		wantStatus("a fresh session works on both nodes", c1, 200)
		if st, _ := withCookie(t, app.URL, "GET", "/api/user/logout", c1, nil); st != 200 {
			t.Fatalf("logout %d", st)
		}
		wantStatus("the logged-out cookie is refused on both nodes", c1, 401)
		// Replaying the dead cookie's logout does not end newer sessions.
		c2 := signIn(t, b.URL, user.Username, pass)
		withCookie(t, app.URL, "GET", "/api/user/logout", c1, nil)
		wantStatus("a new session survives a replayed old logout", c2, 200)

		// A password change ends every older session; the changer's own
		// goes on with a fresh cookie.
		c3 := signIn(t, app.URL, user.Username, pass)
		st, renewed := withCookie(t, app.URL, "PUT", "/api/user/self", c2, map[string]string{"password": "brand-new-password", "original_password": pass})
		if st != 200 || renewed == nil {
			t.Fatalf("password change answered %d, renewed cookie %v", st, renewed)
		}
		wantStatus("an older cookie is refused after the password change", c3, 401)
		wantStatus("the pre-change cookie itself is refused", c2, 401)
		wantStatus("the changer's renewed cookie works", renewed, 200)

		// An admin's disable ends the session too, and an enable does not
		// bring it back.
		c4 := signIn(t, b.URL, user.Username, "brand-new-password")
		root := app.Root(t)
		root.Do("POST", "/api/user/manage", map[string]any{"username": user.Username, "action": "disable"}).Want(t, 200, true)
		root.Do("POST", "/api/user/manage", map[string]any{"username": user.Username, "action": "enable"}).Want(t, 200, true)
		wantStatus("a session from before a disable is refused", c4, 401)
		c5 := signIn(t, app.URL, user.Username, "brand-new-password")
		wantStatus("signing in again works", c5, 200)
	})
}
