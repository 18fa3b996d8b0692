package controller_test

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"switchyard/internal/smtptest"
	"switchyard/internal/testkit"
	"switchyard/model"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// mailedCode reads the verification code out of the next mail to addr.
func mailedCode(t *testing.T, srv *smtptest.Server, addr string) string {
	t.Helper()
	m := srv.Next(t)
	if len(m.To) != 1 || m.To[0] != addr || m.AuthUser != testkit.MailAccount {
		t.Fatalf("mail envelope = from %s to %v auth %q", m.From, m.To, m.AuthUser)
	}
	code := sixDigits.FindString(m.Text())
	if code == "" {
		t.Fatalf("no 6-digit code in %q", m.Text())
	}
	return code
}

func TestEmailVerificationRegisters(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		srv := root.StartMail()
		root.SetOption("EmailVerificationEnabled", "true")
		anon := app.Anon(t)
		addr := testkit.Name("v") + "@example.com"

		anon.Do("GET", "/api/verification?email="+url.QueryEscape(strings.ToUpper(addr)), nil).Want(t, 200, true)
		code := mailedCode(t, srv, addr)

		reg := func(name, code string) *testkit.Reply {
			return anon.Do("POST", "/api/user/register", map[string]string{"username": name, "password": "password-1", "email": addr, "verification_code": code})
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		name := testkit.Name("v")
		reg(name, "").WantFail(t, 400, "verification code")
		reg(name, wrong).WantFail(t, 400, "verification code")
		reg(name, code).Want(t, 200, true)
		// The code works once.
		reg(testkit.Name("v"), code).WantFail(t, 400, "verification code")
		u, err := app.Store.UserByUsername(t.Context(), name)
		if err != nil || u.Email != addr {
			t.Fatalf("registered user = %+v, %v", u, err)
		}

		// A registered address gets no code, and no mail goes out.
		anon.Do("GET", "/api/verification?email="+url.QueryEscape(addr), nil).WantFail(t, 400, "already registered")
		if srv.Pending() != 0 {
			t.Fatal("a mail went to an address that is already registered")
		}
	})
}

func TestEmailVerificationBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		anon := app.Anon(t)
		// Before SMTP is set up the endpoint says so.
		anon.Do("GET", "/api/verification?email=a@example.com", nil).WantFail(t, 503, "SMTPServer")
		srv := root.StartMail()
		for _, tc := range []struct{ query, msg string }{
			{"", "email must be"},
			{"?email=", "email must be"},
			{"?email=not-an-address", "not an email"},
			{"?email=" + url.QueryEscape("a@b.com' OR '1'='1"), "not an email"},
			{"?email=" + url.QueryEscape("x@example.com\r\nBcc: victim@example.com"), "not an email"},
			{"?email=" + url.QueryEscape("名字 <a@example.com>"), "not an email"},
			{"?email=" + strings.Repeat("a", 200) + "@example.com", "email must be"},
		} {
			anon.Do("GET", "/api/verification"+tc.query, nil).WantFail(t, 400, tc.msg)
		}
		root.SetOption("EmailDomainRestrictionEnabled", "true")
		root.SetOption("EmailDomainWhitelist", "example.com, corp.example")
		anon.Do("GET", "/api/verification?email=someone@elsewhere.org", nil).WantFail(t, 400, "not accepted")
		anon.Do("GET", "/api/verification?email=someone@corp.example", nil).Want(t, 200, true)
		mailedCode(t, srv, "someone@corp.example")
		if srv.Pending() != 0 {
			t.Fatal("refused requests sent mail")
		}
	})
}

// TestEmailVerificationMailFailureKeepsOldCode pins that a failed send
// stores nothing: the code mailed before still works.
func TestEmailVerificationMailFailureKeepsOldCode(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		srv := root.StartMail()
		root.SetOption("EmailVerificationEnabled", "true")
		anon := app.Anon(t)
		addr := testkit.Name("f") + "@example.com"
		anon.Do("GET", "/api/verification?email="+addr, nil).Want(t, 200, true)
		code := mailedCode(t, srv, addr)

		root.SetOption("SMTPToken", "wrong-password")
		r := anon.Do("GET", "/api/verification?email="+addr, nil).WantFail(t, 502, "could not send")
		if strings.Contains(string(r.Raw), "wrong-password") || strings.Contains(string(r.Raw), "535") {
			t.Fatalf("failure leaks SMTP details: %s", r.Raw)
		}
		if srv.Pending() != 0 {
			t.Fatal("a mail went out with the wrong password")
		}
		anon.Do("POST", "/api/user/register", map[string]string{"username": testkit.Name("f"), "password": "password-1", "email": addr, "verification_code": code}).Want(t, 200, true)
	})
}

var resetLink = regexp.MustCompile(`https?://\S+/user/reset\?\S+`)

// mailedResetLink reads the reset link out of the next mail.
func mailedResetLink(t *testing.T, srv *smtptest.Server, addr string) *url.URL {
	t.Helper()
	m := srv.Next(t)
	if len(m.To) != 1 || m.To[0] != addr {
		t.Fatalf("reset mail went to %v, want %s", m.To, addr)
	}
	raw := resetLink.FindString(m.Text())
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		t.Fatalf("no reset link in %q", m.Text())
	}
	return u
}

func TestPasswordReset(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		srv := root.StartMail()
		root.SetOption("ServerAddress", "https://yard.example.com/")
		anon := app.Anon(t)
		name, addr := testkit.Name("r"), testkit.Name("r")+"@example.com"
		anon.Do("POST", "/api/user/register", map[string]string{"username": name, "password": "old-password", "email": addr}).Want(t, 200, true)

		// An unknown address gets the same answer and no mail.
		anon.Do("GET", "/api/reset_password?email=nobody@example.com", nil).Want(t, 200, true)
		if srv.Pending() != 0 {
			t.Fatal("a reset mail went to an unknown address")
		}

		anon.Do("GET", "/api/reset_password?email="+url.QueryEscape(strings.ToUpper(addr)), nil).Want(t, 200, true)
		link := mailedResetLink(t, srv, addr)
		if link.Scheme != "https" || link.Host != "yard.example.com" || link.Path != "/user/reset" || link.Query().Get("email") != addr {
			t.Fatalf("reset link = %s", link)
		}
		token := link.Query().Get("token")

		for _, tc := range []struct {
			body any
			msg  string
		}{
			{`{"email": "x@example.com",`, "not valid JSON"},
			{``, "empty"},
			{`{"email": 5, "token": "x"}`, "wrong type"},
			{map[string]string{"email": addr}, "wrong, used or expired"},
			{map[string]string{"email": addr, "token": "wrong-token"}, "wrong, used or expired"},
			{map[string]string{"email": addr, "token": strings.Repeat("t", 5000)}, "wrong, used or expired"},
			{map[string]string{"email": "other@example.com", "token": token}, "wrong, used or expired"},
			{map[string]string{"email": "not-an-address", "token": token}, "not an email"},
		} {
			anon.Do("POST", "/api/user/reset", tc.body).WantFail(t, 400, tc.msg)
		}
		app.Login(t, name, "old-password") // nothing changed yet

		var password string
		anon.Do("POST", "/api/user/reset", map[string]string{"email": addr, "token": token}).Want(t, 200, true).Decode(t, &password)
		if len(password) < 8 {
			t.Fatalf("new password %q", password)
		}
		anon.Do("POST", "/api/user/login", map[string]string{"username": name, "password": "old-password"}).WantFail(t, 401, "wrong")
		app.Login(t, name, password)
		// The link works once.
		anon.Do("POST", "/api/user/reset", map[string]string{"email": addr, "token": token}).WantFail(t, 400, "wrong, used or expired")
	})
}

// TestPasswordResetMailFailureKeepsOldLink pins that a failed send stores
// no new token and leaves the link mailed before working.
func TestPasswordResetMailFailureKeepsOldLink(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		srv := root.StartMail()
		anon := app.Anon(t)
		name, addr := testkit.Name("m"), testkit.Name("m")+"@example.com"
		anon.Do("POST", "/api/user/register", map[string]string{"username": name, "password": "old-password", "email": addr}).Want(t, 200, true)
		anon.Do("GET", "/api/reset_password?email="+addr, nil).Want(t, 200, true)
		token := mailedResetLink(t, srv, addr).Query().Get("token")

		root.SetOption("SMTPPort", strconv.Itoa(closedPort(t)))
		anon.Do("GET", "/api/reset_password?email="+addr, nil).WantFail(t, 502, "could not send")
		root.SetOption("SMTPServer", "")
		anon.Do("GET", "/api/reset_password?email="+addr, nil).WantFail(t, 503, "not set up")
		anon.Do("GET", "/api/reset_password?email=nobody@example.com", nil).WantFail(t, 503, "not set up")

		var password string
		anon.Do("POST", "/api/user/reset", map[string]string{"email": addr, "token": token}).Want(t, 200, true).Decode(t, &password)
		var row model.User
		app.Store.DB.First(&row, "username = ?", name)
		if row.Password == "" || row.Password == password {
			t.Fatal("password not stored as a hash")
		}
	})
}

// closedPort is a local port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestBindEmail pins GET /api/oauth/email/bind (One API's path): a
// signed-in account takes an address it proved it reads, once per mailed
// code, never one another account uses, and can then reset its password
// by mail. Refusals change nothing.
func TestBindEmail(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		root := app.Root(t)
		srv := root.StartMail()
		user := app.NewUser(t, model.RoleCommon)
		other := app.NewUser(t, model.RoleCommon)
		addr := testkit.Name("b") + "@example.com"
		bind := func(c *testkit.Client, email, code string) *testkit.Reply {
			return c.Do("GET", "/api/oauth/email/bind?email="+url.QueryEscape(email)+"&code="+url.QueryEscape(code), nil)
		}
		emailOf := func(id int) string { return userRow(t, app, id).Email }

		app.Anon(t).Do("GET", "/api/verification?email="+url.QueryEscape(addr), nil).Want(t, 200, true)
		code := mailedCode(t, srv, addr)
		bind(app.Anon(t), addr, code).WantFail(t, 401, "")

		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for _, tc := range []struct{ email, code, msg string }{
			{addr, "", "verification code"},
			{addr, wrong, "verification code"},
			{"someone-else@example.com", code, "verification code"},
			{"", code, "email must be"},
			{"not-an-address", code, "not an email"},
			{"a@b.com' OR '1'='1", code, "not an email"},
			{"名字 <" + addr + ">", code, "not an email"},
			{strings.Repeat("a", 200) + "@example.com", code, "email must be"},
		} {
			bind(user, tc.email, tc.code).WantFail(t, 400, tc.msg)
		}
		if emailOf(user.UserID) != "" {
			t.Fatal("a refused bind set an email")
		}

		// An address another account took meanwhile is refused, and the
		// code is not spent on it.
		root.Do("PUT", "/api/user/", map[string]any{"id": other.UserID, "email": addr}).Want(t, 200, true)
		r := bind(user, strings.ToUpper(addr), code).WantFail(t, 400, "another account")
		if !strings.Contains(string(r.Raw), "email_taken") {
			t.Fatalf("no email_taken code: %s", r.Raw)
		}
		root.Do("PUT", "/api/user/", map[string]any{"id": other.UserID, "email": ""}).Want(t, 200, true)

		bind(user, strings.ToUpper(addr), code).Want(t, 200, true)
		var self struct {
			Email string `json:"email"`
		}
		user.Do("GET", "/api/user/self", nil).Want(t, 200, true).Decode(t, &self)
		if self.Email != addr || emailOf(user.UserID) != addr {
			t.Fatalf("bound email %q (row %q), want %q", self.Email, emailOf(user.UserID), addr)
		}
		// The code works once, and only for whom it was mailed.
		bind(other, addr, code).WantFail(t, 400, "another account")
		bind(user, addr, code).WantFail(t, 400, "verification code")

		// The bound address now resets the password.
		app.Anon(t).Do("GET", "/api/reset_password?email="+url.QueryEscape(addr), nil).Want(t, 200, true)
		mailedResetLink(t, srv, addr)

		root.SetOption("EmailDomainRestrictionEnabled", "true")
		root.SetOption("EmailDomainWhitelist", "corp.example")
		bind(other, testkit.Name("d")+"@example.com", code).WantFail(t, 400, "not accepted")
		if srv.Pending() != 0 || emailOf(other.UserID) != "" {
			t.Fatal("refused binds sent mail or set an email")
		}
	})
}
