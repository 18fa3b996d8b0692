// Package mail sends the few plain-text mails Switchyard needs
// (verification codes, password reset links) through an SMTP server. The
// settings are passed in on every call; nothing here reads options or the
// environment.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"switchyard/common/crypto"
)

// DefaultTimeout bounds one whole delivery when Settings.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// ErrNotConfigured is returned when no SMTP server is set.
var ErrNotConfigured = errors.New("mail: no SMTP server is configured")

// Settings say how to reach the SMTP server: One API's options SMTPServer,
// SMTPPort, SMTPAccount, SMTPToken and SMTPFrom.
type Settings struct {
	// Server is the SMTP host name. Empty means mail is not configured.
	Server string
	// Port is the SMTP port. 465 means implicit TLS (SMTPS); any other port
	// speaks plain SMTP and upgrades with STARTTLS when the server offers it.
	Port int
	// Account and Token are the AUTH PLAIN credentials. An empty Account
	// sends without authenticating.
	Account string
	Token   string
	// From is the sender address. Empty means Account.
	From string
	// Timeout bounds the whole delivery, dial to QUIT. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// TLSConfig verifies the server's certificate. Nil means the system
	// roots with ServerName set to Server; tests pass their own roots.
	TLSConfig *tls.Config
}

// Message is one plain-text mail to one recipient.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Send delivers m. It gives up when ctx ends or the timeout passes,
// whichever is first. Credentials are only ever sent over TLS, or to a
// server on the loopback interface (net/smtp's own rule for AUTH PLAIN).
func Send(ctx context.Context, s Settings, m Message) error {
	if strings.TrimSpace(s.Server) == "" {
		return ErrNotConfigured
	}
	from := s.From
	if from == "" {
		from = s.Account
	}
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return fmt.Errorf("mail: sender %q (SMTPFrom) is not an email address", from)
	}
	toAddr, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: recipient %q is not an email address", m.To)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: subject may not hold line breaks")
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	tlsCfg := s.TLSConfig.Clone()
	if tlsCfg == nil {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = s.Server
	}
	addr := net.JoinHostPort(s.Server, strconv.Itoa(s.Port))
	dialer := &net.Dialer{}
	var conn net.Conn
	if s.Port == 465 {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	// net/smtp has no context: a cancelled ctx expires the deadline so a
	// blocked read or write returns at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.Server)
	if err != nil {
		return fmt.Errorf("mail: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if s.Port != 465 {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsCfg); err != nil {
				return fmt.Errorf("mail: STARTTLS with %s: %w", addr, err)
			}
		}
	}
	if s.Account != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("mail: %s does not offer AUTH, but SMTPAccount is set", addr)
		}
		if err := c.Auth(smtp.PlainAuth("", s.Account, s.Token, s.Server)); err != nil {
			return fmt.Errorf("mail: sign in to %s as %s: %w", addr, s.Account, err)
		}
	}
	if err := c.Mail(fromAddr.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM %s: %w", fromAddr.Address, err)
	}
	if err := c.Rcpt(toAddr.Address); err != nil {
		return fmt.Errorf("mail: RCPT TO %s: %w", toAddr.Address, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(compose(fromAddr, toAddr, m)); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	// The message was accepted at the end of DATA; a failed QUIT does not
	// undo that.
	_ = c.Quit()
	return nil
}

// compose builds the RFC 5322 message: UTF-8 text, quoted-printable so
// any line length and any script survive every relay.
func compose(from, to *mail.Address, m Message) []byte {
	var b strings.Builder
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+crypto.RandomString(24)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	// The writer turns every line break into CRLF.
	_, _ = qp.Write([]byte(m.Body))
	_ = qp.Close()
	return []byte(b.String())
}
