package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

// Client calls an App over HTTP with its own cookie jar, like one browser,
// or with an access token.
type Client struct {
	app  *App
	t    testing.TB
	http *http.Client
	// AccessToken, when set, goes in Authorization on every request.
	AccessToken string
	// UserID is the signed-in user's id (0 for anonymous).
	UserID int
	// Username is the signed-in user's name.
	Username string
}

// Reply is a decoded answer.
type Reply struct {
	Status int
	Header http.Header
	Raw    []byte
	// Success, Message and Data are the management envelope's fields.
	Success bool
	Message string
	Data    json.RawMessage
	Total   int64
}

// Anon returns a client with no session.
func (a *App) Anon(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{app: a, t: t, http: &http.Client{Jar: jar}}
}

// Login signs username in with a session cookie, failing the test if
// that does not work.
func (a *App) Login(t testing.TB, username, password string) *Client {
	t.Helper()
	c := a.Anon(t)
	r := c.Do("POST", "/api/user/login", map[string]string{"username": username, "password": password})
	if !r.Success {
		t.Fatalf("login %s: %d %s", username, r.Status, r.Raw)
	}
	var who struct {
		ID int `json:"id"`
	}
	r.Decode(t, &who)
	c.UserID, c.Username = who.ID, username
	return c
}

// Root returns root signed in.
func (a *App) Root(t testing.TB) *Client { return a.Login(t, "root", RootPassword) }

// NewUser creates a user with role (1 common, 10 admin) through root and
// returns it signed in. The password is "password-" + the username.
func (a *App) NewUser(t testing.TB, role int) *Client {
	t.Helper()
	name := Name("u")
	root := a.Root(t)
	r := root.Do("POST", "/api/user/", map[string]any{"username": name, "password": "password-" + name, "role": role})
	if !r.Success {
		t.Fatalf("create user: %d %s", r.Status, r.Raw)
	}
	return a.Login(t, name, "password-"+name)
}

// Do sends body (JSON-encoded unless it is a string or []byte) and decodes
// the reply; a request that cannot be sent ends the test. From a goroutine
// of the test's own, use Try: t.Fatalf may only be called from the test's.
func (c *Client) Do(method, path string, body any) *Reply {
	c.t.Helper()
	r, err := c.Try(method, path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// Try is Do for any goroutine: it returns what Do would end the test with.
func (c *Client) Try(method, path string, body any) (*Reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.app.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.AccessToken != "" {
		req.Header.Set("Authorization", c.AccessToken)
	}
	return c.send(req)
}

// Send sends a prepared request with the client's cookies and decodes the
// reply.
func (c *Client) Send(req *http.Request) *Reply {
	c.t.Helper()
	r, err := c.send(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *Client) send(req *http.Request) (*Reply, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read: %w", req.Method, req.URL.Path, err)
	}
	r := &Reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	var env struct {
		Success bool            `json:"success"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
		Total   int64           `json:"total"`
	}
	if json.Unmarshal(raw, &env) == nil {
		r.Success, r.Message, r.Data, r.Total = env.Success, env.Message, env.Data, env.Total
	}
	return r, nil
}

// Decode unmarshals the envelope's data into dst.
func (r *Reply) Decode(t testing.TB, dst any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, dst); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Want fails the test unless the reply has the given status and success.
func (r *Reply) Want(t testing.TB, status int, success bool) *Reply {
	t.Helper()
	if r.Status != status || r.Success != success {
		t.Fatalf("want %d success=%v, got %d: %s", status, success, r.Status, r.Raw)
	}
	return r
}

// WantFail fails the test unless the reply is a management error with the
// given status and a non-empty message containing msgPart.
func (r *Reply) WantFail(t testing.TB, status int, msgPart string) *Reply {
	t.Helper()
	if r.Status != status || r.Success || r.Message == "" || !strings.Contains(strings.ToLower(r.Message), strings.ToLower(msgPart)) {
		t.Fatalf("want %d failure mentioning %q, got %d: %s", status, msgPart, r.Status, r.Raw)
	}
	return r
}
