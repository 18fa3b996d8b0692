// Package fakeoidc is a stand-in OpenID Connect provider for tests of
// sign-in with OIDC, speaking the authorization-code flow as OpenID
// Connect Core 1.0 and RFC 6749 define it:
//
//   - GET /authorize?response_type=code&client_id=&redirect_uri=&scope=&state=:
//     approves at once, as the next account Approve queued, and redirects
//     to redirect_uri with code and state. A redirect_uri other than the
//     registered one is refused there, as providers do.
//   - POST /token: grant_type=authorization_code, code, redirect_uri and
//     the client's id and secret in the form (client_secret_post) or in
//     basic auth; errors are 400 (401 for the client) with RFC 6749's
//     {"error", "error_description"}.
//   - GET /userinfo: the account's claims, with the access token as a
//     bearer; 401 with WWW-Authenticate without a valid one.
package fakeoidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"switchyard/internal/fakekit"
)

// The client credentials the fake accepts.
const (
	ClientID     = "switchyard-test"
	ClientSecret = "oidc-client-secret"
)

// Account is an account's claims.
type Account struct {
	Sub, PreferredUsername, Name, Email string
	EmailVerified                       bool
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	// Approvals says who the authorize endpoint approves as (Approve).
	fakekit.Approvals[Account]
	// Grants keeps the client's registered redirect_uri (SetRedirectURI),
	// the codes (Code) and the tokens.
	fakekit.Grants[Account]
}

// Start runs a fake whose client is registered with redirectURI (see
// SetRedirectURI).
func Start(redirectURI string) *Server {
	s := &Server{}
	s.CodePrefix, s.TokenPrefix = "oidc-code-", "at-"
	s.SetRedirectURI(redirectURI)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	s.Server = httptest.NewServer(mux)
	return s
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	registered := s.RedirectURI()
	if q.Get("client_id") != ClientID || q.Get("redirect_uri") != registered {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		back := url.Values{"error": {"invalid_request"}, "state": {q.Get("state")}}
		http.Redirect(w, r, registered+"?"+back.Encode(), http.StatusFound)
		return
	}
	a, ok := s.Next()
	if !ok {
		http.Error(w, "nobody is there to approve the client (fakeoidc.Approve)", http.StatusForbidden)
		return
	}
	back := url.Values{"code": {s.Code(a)}, "state": {q.Get("state")}}
	http.Redirect(w, r, registered+"?"+back.Encode(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != ClientID || secret != ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	a, grantedTo, ok := s.Redeem(r.PostForm.Get("code"))
	if !ok || grantedTo != r.PostForm.Get("redirect_uri") {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is invalid, used, or for another redirect_uri")
		return
	}
	tok := s.Issue(a)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300, "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig", "scope": "openid profile email"})
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	a, ok := s.Holder(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	claims := map[string]any{"sub": a.Sub}
	for k, v := range map[string]string{"preferred_username": a.PreferredUsername, "name": a.Name, "email": a.Email} {
		if v != "" {
			claims[k] = v
		}
	}
	if a.Email != "" {
		claims["email_verified"] = a.EmailVerified
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(claims)
}
