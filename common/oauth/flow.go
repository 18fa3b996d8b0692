// Package oauth signs people in with an outside account, as One API
// offers it: GitHub's OAuth web flow (github.go) and any OpenID Connect
// provider's authorization-code flow (oidc.go). Both trade the code a
// browser brought back for an access token, then read the account with
// it; the token is used once and kept nowhere.
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

// maxReply caps what is read of a provider's answer.
const maxReply = 64 << 10

// timeout bounds each call when the provider has no client of its own.
const timeout = 10 * time.Second

// tokenReply is an access-token answer: RFC 6749's, which GitHub's
// follows too (but with status 200 for an error).
type tokenReply struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// exchange posts form to tokenURL and returns the access token. A refusal
// (an error field, whatever the status) is a 400 with code refusedCode
// naming the provider's reason; the provider away or answering nonsense
// is a 502.
func exchange(ctx context.Context, client *http.Client, provider, tokenURL string, form url.Values, refusedCode string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", errs.Internal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var tok tokenReply
	status, err := call(client, provider, req, &tok)
	if err != nil && tok.Error == "" {
		return "", err
	}
	if tok.Error != "" || tok.AccessToken == "" {
		reason := tok.Error
		if reason == "" {
			reason = fmt.Sprintf("no access token, status %d", status)
		}
		return "", errs.BadRequest("%s refused the sign-in (%s): start again", provider, reason).WithCode(refusedCode)
	}
	return tok.AccessToken, nil
}

// account reads url with the access token as a bearer into out.
func account(ctx context.Context, client *http.Client, provider, url, token string, out any, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return errs.Internal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	_, err = call(client, provider, req, out)
	return err
}

// call sends req and decodes its JSON answer into out. An answer that is
// not 200 is an error, but its JSON is still decoded (an RFC 6749 error).
func call(client *http.Client, provider string, req *http.Request, out any) (int, error) {
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	// GitHub's API refuses requests without a User-Agent.
	req.Header.Set("User-Agent", "Switchyard")
	resp, err := client.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return 0, errs.As(req.Context().Err())
		}
		return 0, &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "could not reach " + provider + "; try again later", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return resp.StatusCode, &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: provider + "'s answer was cut off; try again", Err: err}
	}
	jsonErr := json.Unmarshal(body, out)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, unreadable(provider, fmt.Sprintf("it answered %d", resp.StatusCode))
	}
	if jsonErr != nil {
		return resp.StatusCode, unreadable(provider, "its answer is not JSON")
	}
	return resp.StatusCode, nil
}

func unreadable(provider, why string) error {
	return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: provider + " sign-in failed: " + why}
}
