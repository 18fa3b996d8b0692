package oauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// GitHub exchanges the code GitHub's authorize page hands back for the
// account that approved it. The URLs are github.com's or a GitHub
// Enterprise server's (config GITHUB_URL, GITHUB_API_URL).
type GitHub struct {
	// URL is where the authorize and access_token pages live
	// ("https://github.com").
	URL string
	// APIURL is the REST API's root ("https://api.github.com").
	APIURL       string
	ClientID     string
	ClientSecret string
	// Client makes both calls; nil means a client with a 10 s timeout.
	Client *http.Client
}

// GitHubUser is the account behind a code. ID is GitHub's number for it,
// which stays when the login is renamed.
type GitHubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// User trades code for an access token and reads the account with it.
// A code GitHub refuses (wrong, used or expired; GitHub answers those
// with 200 and an error field) is a 400 naming GitHub's reason; GitHub
// unreachable or answering nonsense is a 502.
func (g GitHub) User(ctx context.Context, code string) (GitHubUser, error) {
	form := url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {code}}
	req, err := formRequest(ctx, strings.TrimRight(g.URL, "/")+"/login/oauth/access_token", form)
	if err != nil {
		return GitHubUser{}, err
	}
	tok, err := exchange(g.Client, "GitHub", req, "github_oauth_refused")
	if err != nil {
		return GitHubUser{}, err
	}
	var u GitHubUser
	header := http.Header{"Accept": {"application/vnd.github+json"}, "X-Github-Api-Version": {"2022-11-28"}}
	if err := account(ctx, g.Client, "GitHub", strings.TrimRight(g.APIURL, "/")+"/user", tok, &u, header); err != nil {
		return GitHubUser{}, err
	}
	if u.ID <= 0 || u.Login == "" {
		return GitHubUser{}, unreadable("GitHub", "its account answer has no id or login")
	}
	return u, nil
}
