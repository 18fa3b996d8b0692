// Package oauth signs people in with an outside account, as One API
// offers it: GitHub's OAuth web flow (github.go), any OpenID Connect
// provider's authorization-code flow (oidc.go), Lark's (lark.go) and a
// WeChat Server's verification codes (wechat.go). The first three trade
// the code a browser brought back for an access token, then read the
// account with it; the token is used once and kept nowhere.
package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"switchyard/common/errs"
)

// maxReply caps what is read of a provider's answer.
const maxReply = 64 << 10

// timeout bounds each call when the provider has no client of its own.
const timeout = 10 * time.Second

// tokenReply is an access-token answer: RFC 6749's, which GitHub's
// follows too (but with status 200 for an error), and Lark's, which may
// instead carry its open platform's envelope ({"code": 20003, "msg": ...}).
type tokenReply struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
	// Code is Lark's error number; raw, so that a provider sending
	// something else under that name still decodes.
	Code json.RawMessage `json:"code"`
}

// refusal is the provider's reason for refusing, fit to show; "" when it
// gave none.
func (t tokenReply) refusal() string {
	if t.Error != "" {
		return tidyReason(t.Error)
	}
	if c := envelopeCode(t.Code); c != "" {
		return "code " + tidyReason(c)
	}
	return ""
}

// envelopeCode is a non-zero error number of Lark's envelope, else "".
func envelopeCode(raw json.RawMessage) string {
	c := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if c == "" || c == "0" || c == "null" {
		return ""
	}
	return c
}

// formRequest is a POST of form to tokenURL.
func formRequest(ctx context.Context, tokenURL string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errs.Internal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// jsonRequest is a POST of body, as JSON, to tokenURL.
func jsonRequest(ctx context.Context, tokenURL string, body any) (*http.Request, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, errs.Internal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, bytes.NewReader(buf))
	if err != nil {
		return nil, errs.Internal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return req, nil
}

// exchange sends req, a token request, and returns the access token. A
// refusal (an error field or a non-zero envelope code, whatever the
// status) is a 400 with code refusedCode naming the provider's reason;
// the provider away or answering nonsense is a 502.
func exchange(client *http.Client, provider string, req *http.Request, refusedCode string) (string, error) {
	req.Header.Set("Accept", "application/json")
	var tok tokenReply
	status, err := call(client, provider, req, &tok)
	reason := tok.refusal()
	if err != nil && reason == "" {
		return "", err
	}
	if reason != "" || tok.AccessToken == "" {
		if reason == "" {
			reason = fmt.Sprintf("no access token, status %d", status)
		}
		return "", errs.BadRequest("%s refused the sign-in (%s): start again", provider, reason).WithCode(refusedCode)
	}
	return tok.AccessToken, nil
}

// reasonShape is what a provider's reason may look like to be shown:
// RFC 6749's error codes and Lark's numbers are short ASCII words.
var reasonShape = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// tidyReason is a provider's reason fit to show: a word-like one as it
// is, anything else (long, odd characters, perhaps an echoed secret) not.
func tidyReason(reason string) string {
	if reasonShape.MatchString(reason) {
		return reason
	}
	return "a reason it did not explain"
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
