// Package fakewechat is a stand-in WeChat Server
// (github.com/songquanpeng/wechat-server, what One API's WeChat sign-in
// talks to), for tests of sign-in with WeChat. It speaks the one call a
// sign-in makes, as that server answers it:
//
//   - GET /api/wechat/user?code=: with the server's token in
//     Authorization, {"success": true, "message": "", "data": openid} for
//     a code it issued; a code it does not know (wrong or expired) has an
//     empty data. A missing code, or a wrong or missing token, is
//     {"success": false, "message": why}. Everything is status 200, and a
//     code works as often as it is asked for until it expires, as there.
//
// It also serves the official account's QR code at /qrcode.png
// (QRCodeURL), for the console to show.
//
// Point the WeChatServerAddress option at Server.URL and set
// WeChatServerToken to Token.
package fakewechat

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"

	"switchyard/internal/fakekit"
)

// Token is the access token the fake accepts.
const Token = "wechat-server-token"

// The WeChat Server's messages (it speaks Chinese).
const (
	msgBadParam  = "无效的参数"
	msgBadToken  = "无权进行此操作，未登录或 token 无效"
	brokenAnswer = "<html><body><h1>502 Bad Gateway</h1></body></html>"
)

// Server is a running fake.
type Server struct {
	*httptest.Server
	// Recorder keeps the calls (Last().Query is the query as sent).
	fakekit.Recorder

	mu       sync.Mutex
	codes    map[string]string // verification code → openid
	broken   bool
	sequence atomic.Int64
}

// Start runs a fake.
func Start() *Server {
	s := &Server{codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/wechat/user", s.user)
	mux.HandleFunc("GET /qrcode.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(qrcodePNG)
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// QRCodeURL is where the fake serves a QR code image.
func (s *Server) QRCodeURL() string { return s.URL + "/qrcode.png" }

// qrcodePNG is a 1×1 black PNG, standing in for the account's QR code.
var qrcodePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82")

// Code issues a verification code for openid, as the official account
// does when that person sends it a message.
func (s *Server) Code(openid string) string {
	c := strconv.FormatInt(100000+s.sequence.Add(1), 10)
	s.mu.Lock()
	s.codes[c] = openid
	s.mu.Unlock()
	return c
}

// Expire forgets code, as the server does a few minutes after issuing it.
func (s *Server) Expire(code string) {
	s.mu.Lock()
	delete(s.codes, code)
	s.mu.Unlock()
}

// Break makes every call answer 502 with an HTML page, as a proxy in
// front of a stopped server does.
func (s *Server) Break() {
	s.mu.Lock()
	s.broken = true
	s.mu.Unlock()
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	s.Keep(r, r.URL.Path)
	s.mu.Lock()
	openid, known := s.codes[r.URL.Query().Get("code")]
	broken := s.broken
	s.mu.Unlock()
	if broken {
		http.Error(w, brokenAnswer, http.StatusBadGateway)
		return
	}
	reply := map[string]any{"success": true, "message": "", "data": openid}
	switch {
	case r.Header.Get("Authorization") != Token:
		reply = map[string]any{"success": false, "message": msgBadToken}
	case r.URL.Query().Get("code") == "":
		reply = map[string]any{"success": false, "message": msgBadParam}
	case !known:
		reply["data"] = ""
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(reply)
}
