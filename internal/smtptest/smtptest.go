// Package smtptest runs a small SMTP server inside a test process, on
// 127.0.0.1 and a free port, and hands every message it accepts to the
// test. It speaks enough of RFC 5321 for a real client: EHLO/HELO,
// STARTTLS (optional, with a throwaway certificate), AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP and QUIT.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape the server.
type Options struct {
	// Username and Password, when Username is set, are the only AUTH PLAIN
	// credentials accepted, and MAIL is refused until a client signs in.
	Username string
	Password string
	// StartTLS offers STARTTLS with a certificate for 127.0.0.1 that
	// Server.RootCAs trusts.
	StartTLS bool
}

// Message is one accepted mail.
type Message struct {
	From string
	To   []string
	// Raw is the message as sent after DATA, dot-unstuffed, CRLF line ends.
	Raw []byte
	// AuthUser is who signed in with AUTH PLAIN ("" when nobody did).
	AuthUser string
	// TLS reports that the message came over a STARTTLS connection.
	TLS bool
}

// Header returns the first header called name, decoded from RFC 2047.
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return ""
	}
	v := msg.Header.Get(name)
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// Text returns the body, decoded when it is quoted-printable.
func (m Message) Text() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return ""
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, _ := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// Server is a running SMTP server.
type Server struct {
	// Host and Port are where it listens.
	Host string
	Port int

	opts  Options
	ln    net.Listener
	tls   *tls.Config
	roots *x509.CertPool
	msgs  chan Message
	done  chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Start listens on 127.0.0.1:0 and serves until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	a := ln.Addr().(*net.TCPAddr)
	s := &Server{Host: "127.0.0.1", Port: a.Port, opts: opts, ln: ln, msgs: make(chan Message, 64), done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	if opts.StartTLS {
		s.tls, s.roots = selfSigned(t)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

// RootCAs trusts the STARTTLS certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Next returns the next accepted message, failing the test if none comes
// within ten seconds.
func (s *Server) Next(t testing.TB) Message {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("smtptest: no message arrived within 10s")
		return Message{}
	}
}

// Pending is how many accepted messages nobody has taken yet. A message
// is queued before the server acknowledges DATA, so once a client's send
// has returned, Pending already counts it.
func (s *Server) Pending() int { return len(s.msgs) }

func (s *Server) close() {
	close(s.done)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// session is one client connection, one command per loop.
func (s *Server) session(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(conn)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			if err := tp.PrintfLine("%s", l); err != nil {
				return false
			}
		}
		return true
	}
	var (
		isTLS    bool
		greeted  bool
		authUser string
		from     string
		to       []string
		hasMail  bool
	)
	reset := func() { from, to, hasMail = "", nil, false }
	if !reply("220 smtptest ESMTP ready") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			greeted = true
			reset()
			ext := []string{"smtptest greets " + arg, "8BITMIME"}
			if s.tls != nil && !isTLS {
				ext = append(ext, "STARTTLS")
			}
			if s.opts.Username != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				if !reply("250" + sep + e) {
					return
				}
			}
		case "HELO":
			greeted = true
			reset()
			reply("250 smtptest")
		case "STARTTLS":
			if s.tls == nil || isTLS {
				reply("502 5.5.1 STARTTLS not offered")
				continue
			}
			if !reply("220 2.0.0 go ahead") {
				return
			}
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, isTLS, greeted, authUser = tc, true, false, ""
			reset()
			tp = textproto.NewConn(conn)
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if s.opts.Username == "" || !strings.EqualFold(mech, "PLAIN") {
				reply("504 5.5.4 only AUTH PLAIN is offered")
				continue
			}
			if initial == "" {
				if !reply("334 ") {
					return
				}
				if initial, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.opts.Username || parts[2] != s.opts.Password {
				reply("535 5.7.8 authentication credentials invalid")
				continue
			}
			authUser = parts[1]
			reply("235 2.7.0 authentication succeeded")
		case "MAIL":
			addr, ok := pathArg(arg, "FROM:")
			switch {
			case !greeted:
				reply("503 5.5.1 say EHLO first")
			case s.opts.Username != "" && authUser == "":
				reply("530 5.7.0 authentication required")
			case !ok:
				reply("501 5.5.4 syntax: MAIL FROM:<address>")
			default:
				reset()
				from, hasMail = addr, true
				reply("250 2.1.0 ok")
			}
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !hasMail:
				reply("503 5.5.1 need MAIL first")
			case !ok || addr == "":
				reply("501 5.5.4 syntax: RCPT TO:<address>")
			default:
				to = append(to, addr)
				reply("250 2.1.5 ok")
			}
		case "DATA":
			if len(to) == 0 {
				reply("503 5.5.1 need RCPT first")
				continue
			}
			if !reply("354 end data with <CR><LF>.<CR><LF>") {
				return
			}
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			raw := bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
			select {
			case s.msgs <- Message{From: from, To: to, Raw: raw, AuthUser: authUser, TLS: isTLS}:
			case <-s.done:
				return
			}
			reset()
			reply("250 2.0.0 queued")
		case "RSET":
			reset()
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 command not recognised")
		}
	}
}

// pathArg reads "FROM:<addr> params" or "TO:<addr>".
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("smtptest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

// Addr is host:port, for clients that want one string.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
