package testkit

import (
	"strconv"

	"switchyard/internal/smtptest"
)

// The SMTP credentials StartMail sets up.
const (
	MailAccount  = "bot@mail.example.com"
	MailPassword = "smtp-app-password"
)

// SetOption sets one runtime option through PUT /api/option/; c must be
// root. It fails the test if the option is refused.
func (c *Client) SetOption(key, value string) {
	c.t.Helper()
	r := c.Do("PUT", "/api/option/", map[string]string{"key": key, "value": value})
	if r.Status != 200 || !r.Success {
		c.t.Fatalf("set option %s=%q: %d %s", key, value, r.Status, r.Raw)
	}
}

// StartMail starts an SMTP server inside the test that wants AUTH PLAIN
// with MailAccount/MailPassword, and points the app's SMTP options at it;
// c must be root.
func (c *Client) StartMail() *smtptest.Server {
	c.t.Helper()
	srv := smtptest.Start(c.t, smtptest.Options{Username: MailAccount, Password: MailPassword})
	c.SetOption("SMTPServer", srv.Host)
	c.SetOption("SMTPPort", strconv.Itoa(srv.Port))
	c.SetOption("SMTPAccount", MailAccount)
	c.SetOption("SMTPToken", MailPassword)
	c.SetOption("SMTPFrom", "Switchyard <noreply@mail.example.com>")
	return srv
}
