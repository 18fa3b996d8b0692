// Package fakelark is a stand-in for Lark's (Feishu's) web sign-in, the
// three steps One API's Lark sign-in uses, for tests of sign-in with Lark:
//
//   - GET /open-apis/authen/v1/index?redirect_uri=&app_id=&state=: the
//     page where a person approves the app; here it approves at once, as
//     the next account Approve queued, and redirects to redirect_uri with
//     code and state.
//   - POST /suite/passport/oauth/token: a JSON body with grant_type
//     authorization_code, client_id, client_secret, code and
//     redirect_uri; an access token, or RFC 6749's {"error",
//     "error_description"} with status 400 (invalid_client, invalid_grant
//     for a wrong, used or expired code or another redirect_uri), or,
//     after Refuse, Lark's open platform envelope {"code", "msg"} (20010:
//     the person may not use the app).
//   - GET /suite/passport/oauth/userinfo: the account, with the access
//     token as a bearer; 401 with the envelope without a valid one.
//
// Point LARK_URL and LARK_PASSPORT_URL at Server.URL.
package fakelark

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"switchyard/internal/fakekit"
)

// The app credentials the fake accepts.
const (
	ClientID     = "cli_a1b2c3d4e5f60718"
	ClientSecret = "lark-app-secret"
)

// Account is a Lark account as the userinfo endpoint shows it.
type Account struct {
	OpenID, UnionID, Name, EnName, Email string
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	// Approvals says who the authorize page approves as (Approve).
	fakekit.Approvals[Account]
	// Grants keeps the app's registered redirect URL (SetRedirectURI),
	// the codes (Code) and the tokens.
	fakekit.Grants[Account]

	mu      sync.Mutex
	refusal *envelope
	broken  bool
}

// envelope is Lark's open platform error answer.
type envelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// Start runs a fake whose app is registered with redirectURI (see
// SetRedirectURI).
func Start(redirectURI string) *Server {
	s := &Server{}
	s.CodePrefix, s.TokenPrefix = "lark-code-", "u-"
	s.SetRedirectURI(redirectURI)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open-apis/authen/v1/index", s.authorize)
	mux.HandleFunc("POST /suite/passport/oauth/token", s.token)
	mux.HandleFunc("GET /suite/passport/oauth/userinfo", s.userinfo)
	s.Server = httptest.NewServer(mux)
	return s
}

// Refuse makes the token endpoint answer Lark's envelope with code and
// msg (status 400) until Refuse(0, ""), as when the person may not use
// the app (20010).
func (s *Server) Refuse(code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.refusal = nil
		return
	}
	s.refusal = &envelope{code, msg}
}

// Break makes the userinfo endpoint answer 500 with an HTML page.
func (s *Server) Break() {
	s.mu.Lock()
	s.broken = true
	s.mu.Unlock()
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	registered := s.RedirectURI()
	if q.Get("app_id") != ClientID || q.Get("redirect_uri") != registered {
		http.Error(w, "unknown app_id, or a redirect_uri the app did not register", http.StatusBadRequest)
		return
	}
	a, ok := s.Next()
	if !ok {
		http.Error(w, "nobody is there to approve the app (fakelark.Approve)", http.StatusForbidden)
		return
	}
	back := url.Values{"code": {s.Code(a)}, "state": {q.Get("state")}}
	http.Redirect(w, r, registered+"?"+back.Encode(), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var body struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Code         string `json:"code"`
		RedirectURI  string `json:"redirect_uri"`
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" || json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&body) != nil {
		oauthError(w, "invalid_request", "the body must be JSON")
		return
	}
	s.mu.Lock()
	refusal := s.refusal
	s.mu.Unlock()
	if refusal != nil {
		writeJSON(w, http.StatusBadRequest, refusal)
		return
	}
	if body.ClientID != ClientID || body.ClientSecret != ClientSecret {
		oauthError(w, "invalid_client", "client authentication failed")
		return
	}
	if body.GrantType != "authorization_code" {
		oauthError(w, "unsupported_grant_type", "only authorization_code")
		return
	}
	a, grantedTo, ok := s.Redeem(body.Code)
	if !ok || grantedTo != body.RedirectURI {
		oauthError(w, "invalid_grant", "the code is invalid, used or expired, or was issued for another redirect_uri")
		return
	}
	tok := s.Issue(a)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 7200,
		"refresh_token": "ur-" + tok, "refresh_expires_in": 2592000})
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	a, ok := s.Holder(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken {
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusInternalServerError)
		return
	}
	if !ok {
		writeJSON(w, http.StatusUnauthorized, envelope{99991668, "Invalid access token for authorization. Please make a request with token attached."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": a.OpenID, "open_id": a.OpenID, "union_id": a.UnionID, "name": a.Name, "en_name": a.EnName,
		"email": a.Email, "avatar_url": "https://s1-imfile.feishucdn.com/avatar.png", "tenant_key": "736588c9260f175d",
	})
}
