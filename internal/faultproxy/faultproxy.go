// Package faultproxy is a TCP proxy for fault tests: put it between the
// app and a database (or Redis) on loopback and make the path refuse
// connections, black-hole traffic, or swallow exactly one reply: the one to
// the next COMMIT, so the server has committed and the client never learns.
//
//	p := faultproxy.Start(t, "127.0.0.1:3306")
//	dsn := "root@tcp(" + p.Addr() + ")/test"
//	p.SwallowNextCommitReply()  // the next COMMIT commits, its reply is lost
//	p.BlackHole()               // everything stalls, nothing is refused
//	p.Refuse()                  // new connections are refused, open ones cut
//	p.Heal()                    // back to forwarding
//
// The proxy knows no protocol beyond spotting the word COMMIT in what the
// client sends; MySQL's COM_QUERY and PostgreSQL's simple and extended
// query messages both carry it as plain text.
package faultproxy

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// Mode is what the proxy does with traffic.
type Mode int

// The modes.
const (
	// Forward passes bytes both ways.
	Forward Mode = iota
	// BlackHole accepts connections and reads what clients send, but
	// forwards nothing either way: every wait on the server stalls.
	BlackHole
	// Refuse closes the listener (new connections are refused) and cuts
	// the open ones.
	Refuse
)

// Proxy is one listening proxy. Its methods are safe for concurrent use.
type Proxy struct {
	target string
	addr   string

	mu       sync.Mutex
	cond     *sync.Cond
	mode     Mode
	ln       net.Listener
	conns    map[*pair]struct{}
	swallow  bool // swallow the reply to the next COMMIT
	swallowd int  // how many replies were swallowed
	closed   bool
}

type pair struct {
	client, server net.Conn
	// armed is set once this connection carried the COMMIT whose reply is
	// to be swallowed.
	armed bool
}

// Start listens on a free loopback port and forwards to target until the
// test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: listen: %v", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[*pair]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept(ln)
	t.Cleanup(p.Close)
	return p
}

// Addr is host:port to dial instead of the target.
func (p *Proxy) Addr() string { return p.addr }

// Port is the proxy's port as a string.
func (p *Proxy) Port() string {
	_, port, _ := net.SplitHostPort(p.addr)
	return port
}

// BlackHole makes every open and new connection stall.
func (p *Proxy) BlackHole() { p.setMode(BlackHole) }

// Refuse refuses new connections and cuts the open ones.
func (p *Proxy) Refuse() { p.setMode(Refuse) }

// Heal forwards again. Connections that were black-holed are cut (their
// clients' view of the protocol is lost anyway), so clients reconnect.
func (p *Proxy) Heal() { p.setMode(Forward) }

// SwallowNextCommitReply lets the next COMMIT through to the server, drops
// the server's reply to it and cuts that connection: the transaction is
// committed and the client sees a broken connection, an unknown outcome.
func (p *Proxy) SwallowNextCommitReply() {
	p.mu.Lock()
	p.swallow = true
	p.mu.Unlock()
}

// Swallowed is how many COMMIT replies were swallowed so far.
func (p *Proxy) Swallowed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.swallowd
}

func (p *Proxy) setMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == m {
		return
	}
	old := p.mode
	p.mode = m
	switch {
	case m == Refuse:
		p.ln.Close()
		p.cutAllLocked()
	case old == Refuse:
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			// The port was taken in between; the proxy keeps refusing.
			p.mode = Refuse
			return
		}
		p.ln = ln
		go p.accept(ln)
	case old == BlackHole:
		p.cutAllLocked()
	}
	p.cond.Broadcast()
}

func (p *Proxy) cutAllLocked() {
	for c := range p.conns {
		c.client.Close()
		if c.server != nil {
			c.server.Close()
		}
		delete(p.conns, c)
	}
}

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	p.cutAllLocked()
	p.cond.Broadcast()
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

// wait blocks while the proxy black-holes, and reports whether the
// connection may go on (false once it was cut or the proxy closed).
func (p *Proxy) wait(c *pair) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == BlackHole && !p.closed {
		if _, ok := p.conns[c]; !ok {
			return false
		}
		p.cond.Wait()
	}
	_, ok := p.conns[c]
	return ok && !p.closed && p.mode == Forward
}

func (p *Proxy) serve(client net.Conn) {
	c := &pair{client: client}
	p.mu.Lock()
	if p.closed || p.mode == Refuse {
		p.mu.Unlock()
		client.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	if !p.wait(c) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok {
		p.mu.Unlock()
		server.Close()
		return
	}
	c.server = server
	p.mu.Unlock()
	go p.pipe(c, client, server, true)
	p.pipe(c, server, client, false)
}

func (p *Proxy) drop(c *pair) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.client.Close()
	if c.server != nil {
		c.server.Close()
	}
}

var commit = []byte("commit")

// pipe copies src to dst chunk by chunk, holding each chunk while the
// proxy black-holes. up is the client-to-server direction.
func (p *Proxy) pipe(c *pair, src, dst net.Conn, up bool) {
	defer p.drop(c)
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait(c) {
				return
			}
			chunk := buf[:n]
			p.mu.Lock()
			if up && p.swallow && bytes.Contains(bytes.ToLower(chunk), commit) {
				p.swallow = false
				c.armed = true
			} else if !up && c.armed {
				// The server answered the COMMIT: it is durable. The
				// client never hears of it.
				p.swallowd++
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}
