// Package oauth signs people in with an outside account: GitHub's OAuth
// web flow, as One API offers it.
package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchyard/common/errs"
)

// GitHub exchanges the code GitHub's authorize page hands back for the
// account that approved it. The zero URLs are github.com's; GitHub
// Enterprise sets its own (config GITHUB_URL, GITHUB_API_URL).
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

// maxReply caps what is read of either GitHub answer.
const maxReply = 64 << 10

// User trades code for an access token and reads the account with it.
// A code GitHub refuses (wrong, used or expired) is a 400 naming GitHub's
// reason; GitHub unreachable or answering nonsense is a 502. The access
// token is used once and kept nowhere.
func (g GitHub) User(ctx context.Context, code string) (GitHubUser, error) {
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	form := url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {code}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(g.URL, "/")+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return GitHubUser{}, errs.Internal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := g.call(client, req, &tok); err != nil {
		return GitHubUser{}, err
	}
	if tok.AccessToken == "" {
		// GitHub answers 200 with an error field for a bad code.
		reason := tok.Error
		if reason == "" {
			reason = "no access token"
		}
		return GitHubUser{}, errs.BadRequest("GitHub refused the sign-in (%s): start again", reason).WithCode("github_oauth_refused")
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(g.APIURL, "/")+"/user", nil)
	if err != nil {
		return GitHubUser{}, errs.Internal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	var u GitHubUser
	if err := g.call(client, req, &u); err != nil {
		return GitHubUser{}, err
	}
	if u.ID <= 0 || u.Login == "" {
		return GitHubUser{}, unreadable("its account answer has no id or login")
	}
	return u, nil
}

// call sends req and decodes a 200 JSON answer into out.
func (g GitHub) call(client *http.Client, req *http.Request, out any) error {
	// GitHub's API refuses requests without a User-Agent.
	req.Header.Set("User-Agent", "Switchyard")
	resp, err := client.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return errs.As(req.Context().Err())
		}
		return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "could not reach GitHub; try again later", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "GitHub's answer was cut off; try again", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return unreadable(fmt.Sprintf("it answered %d", resp.StatusCode))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return unreadable("its answer is not JSON")
	}
	return nil
}

func unreadable(why string) error {
	return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "GitHub sign-in failed: " + why}
}
