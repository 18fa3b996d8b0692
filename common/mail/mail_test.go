package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"switchyard/common/mail"
	"switchyard/internal/smtptest"
)

func TestSendPlainWithAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "bot@example.com", Password: "app-password"})
	s := mail.Settings{Server: srv.Host, Port: srv.Port, Account: "bot@example.com", Token: "app-password", From: "Yard <noreply@example.com>"}
	body := "Line one.\nA long line " + strings.Repeat("x", 200) + "\n. a line that starts with a dot\nÜnïcødé 验证码"
	if err := mail.Send(context.Background(), s, mail.Message{To: "alice@example.org", Subject: "Yard 验证码", Body: body}); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := srv.Next(t)
	if m.From != "noreply@example.com" || len(m.To) != 1 || m.To[0] != "alice@example.org" || m.AuthUser != "bot@example.com" {
		t.Fatalf("envelope = %+v", m)
	}
	if got := m.Header("Subject"); got != "Yard 验证码" {
		t.Fatalf("subject = %q", got)
	}
	if got := strings.TrimRight(m.Text(), "\n"); got != body {
		t.Fatalf("body = %q, want %q", got, body)
	}
	for _, line := range strings.Split(string(m.Raw), "\r\n") {
		if len(line) > 78 {
			t.Fatalf("line longer than 78 octets: %q", line)
		}
	}
}

func TestSendWithoutAccountSkipsAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := mail.Settings{Server: srv.Host, Port: srv.Port, From: "noreply@example.com"}
	if err := mail.Send(context.Background(), s, mail.Message{To: "bob@example.org", Subject: "hi", Body: "hello"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if m := srv.Next(t); m.AuthUser != "" || m.TLS {
		t.Fatalf("message = %+v", m)
	}
}

func TestSendUpgradesWithStartTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "bot", Password: "pw", StartTLS: true})
	s := mail.Settings{Server: srv.Host, Port: srv.Port, Account: "bot", Token: "pw", From: "noreply@example.com",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs()}}
	if err := mail.Send(context.Background(), s, mail.Message{To: "carol@example.org", Subject: "s", Body: "b"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if m := srv.Next(t); !m.TLS || m.AuthUser != "bot" {
		t.Fatalf("message = %+v, want it over TLS", m)
	}

	// A certificate the client does not trust stops the delivery.
	s.TLSConfig = nil
	if err := mail.Send(context.Background(), s, mail.Message{To: "carol@example.org", Subject: "s", Body: "b"}); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("untrusted certificate: err = %v", err)
	}
	if srv.Pending() != 0 {
		t.Fatal("a message went through an untrusted connection")
	}
}

func TestSendFailures(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "bot", Password: "pw"})
	msg := mail.Message{To: "dan@example.org", Subject: "s", Body: "b"}
	closed := closedPort(t)
	cases := []struct {
		name string
		s    mail.Settings
		want string
	}{
		{"not configured", mail.Settings{}, "no SMTP server"},
		{"wrong password", mail.Settings{Server: srv.Host, Port: srv.Port, Account: "bot", Token: "nope", From: "a@example.com"}, "sign in"},
		{"no credentials", mail.Settings{Server: srv.Host, Port: srv.Port, From: "a@example.com"}, "authentication required"},
		{"bad sender", mail.Settings{Server: srv.Host, Port: srv.Port, From: "not an address"}, "SMTPFrom"},
		{"nothing listening", mail.Settings{Server: "127.0.0.1", Port: closed, From: "a@example.com"}, "connect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := mail.Send(context.Background(), tc.s, msg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "nope") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
	if err := mail.Send(context.Background(), mail.Settings{}, msg); !errors.Is(err, mail.ErrNotConfigured) {
		t.Fatalf("err = %v, want ErrNotConfigured", err)
	}
	if srv.Pending() != 0 {
		t.Fatal("a failed send delivered a message")
	}
}

// TestSendTimesOut pins that a server that accepts and then says nothing
// cannot hold a request forever.
func TestSendTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s := mail.Settings{Server: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "a@example.com", Timeout: 200 * time.Millisecond}
	start := time.Now()
	err = mail.Send(context.Background(), s, mail.Message{To: "e@example.org", Subject: "s", Body: "b"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s, want a timeout", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Timeout = time.Minute
	done := make(chan error, 1)
	go func() { done <- mail.Send(ctx, s, mail.Message{To: "e@example.org", Subject: "s", Body: "b"}) }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled send reported success")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled send did not return")
	}
}

func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
