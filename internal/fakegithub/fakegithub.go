// Package fakegithub is a stand-in for GitHub's OAuth web flow, speaking
// its three steps as GitHub documents them, for tests of sign-in with
// GitHub:
//
//   - GET /login/oauth/authorize?client_id=&state=: the page where a
//     person approves the app; here it approves at once, as the next
//     account Approve queued, and redirects to the callback with code and
//     state.
//   - POST /login/oauth/access_token: a form with client_id,
//     client_secret and code; with Accept: application/json it answers
//     JSON, and a bad code or wrong credentials is a 200 whose error field
//     says why.
//   - GET /api/user: the account, with the access token as a bearer; 401
//     without a valid one, 403 without a User-Agent.
//
// Point GITHUB_URL at Server.URL and GITHUB_API_URL at Server.URL+"/api".
package fakegithub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"switchyard/internal/fakekit"
)

// The app credentials the fake accepts.
const (
	ClientID     = "Iv1.test-client"
	ClientSecret = "gh-client-secret"
)

// Account is a GitHub account as GET /user shows it.
type Account struct {
	ID    int
	Login string
	Name  string
	// Email is the public email; "" is GitHub's null.
	Email string
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	// Approvals says who the authorize page approves as (Approve).
	fakekit.Approvals[Account]
	// Grants keeps the OAuth app's callback URL (SetRedirectURI), the
	// codes (Code) and the tokens.
	fakekit.Grants[Account]

	mu     sync.Mutex
	broken bool
}

// Start runs a fake whose authorize page redirects to callback (see
// SetRedirectURI).
func Start(callback string) *Server {
	s := &Server{}
	s.CodePrefix, s.TokenPrefix = "code-", "gho_"
	s.SetRedirectURI(callback)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.accessToken)
	mux.HandleFunc("GET /api/user", s.user)
	s.Server = httptest.NewServer(mux)
	return s
}

// Break makes GET /api/user answer 500 with an HTML page, as GitHub does
// when it is having a bad day.
func (s *Server) Break() {
	s.mu.Lock()
	s.broken = true
	s.mu.Unlock()
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != ClientID {
		http.Error(w, "The client_id is not known to GitHub.", http.StatusNotFound)
		return
	}
	a, ok := s.Next()
	if !ok {
		http.Error(w, "nobody is there to approve the app (fakegithub.Approve)", http.StatusForbidden)
		return
	}
	back := url.Values{"code": {s.Code(a)}, "state": {q.Get("state")}}
	http.Redirect(w, r, s.RedirectURI()+"?"+back.Encode(), http.StatusFound)
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Accept") != "application/json" || r.ParseForm() != nil {
		http.Error(w, "want a form and Accept: application/json", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
		json.NewEncoder(w).Encode(map[string]string{"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect."})
		return
	}
	a, _, ok := s.Redeem(r.PostForm.Get("code"))
	if !ok {
		json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"access_token": s.Issue(a), "token_type": "bearer", "scope": "user:email"})
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("User-Agent") == "" {
		http.Error(w, `{"message":"Request forbidden by administrative rules. Please make sure your request has a User-Agent header"}`, http.StatusForbidden)
		return
	}
	a, ok := s.Holder(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken {
		http.Error(w, "<html>Unicorn! This page is taking too long to load.</html>", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`))
		return
	}
	// GitHub sends null for a name or public email the account lacks.
	orNull := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	json.NewEncoder(w).Encode(map[string]any{"id": a.ID, "login": a.Login, "name": orNull(a.Name), "email": orNull(a.Email), "node_id": "MDQ6VXNlcjE=", "type": "User"})
}
