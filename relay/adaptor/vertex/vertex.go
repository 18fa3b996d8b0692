// Package vertex speaks Google Vertex AI (channel type 42): Gemini models
// through publishers/google (the Gemini API's bodies, from package gemini)
// and Claude through publishers/anthropic (Anthropic's Messages body with
// anthropic_version "vertex-2023-10-16" on rawPredict and
// streamRawPredict), and text embeddings through publishers/google's
// predict (embed.go). The channel's config holds the service account key
// (vertex_ai_adc), the project (vertex_ai_project_id) and the region, as
// One API stores them; access tokens come from golang.org/x/oauth2/google,
// cached per channel until shortly before they expire and refreshed once
// for every concurrent call.
//
// Format is FormatNeutral: which body a call takes depends on its model
// (Gemini or Claude), so no client body can be promised to pass through
// unchanged, and every call is converted from the neutral chat.
package vertex

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/gemini"
)

// Config keys, One API's names.
const (
	ConfigADC     = "vertex_ai_adc"
	ConfigProject = "vertex_ai_project_id"
	ConfigRegion  = "region"
)

// AnthropicVersion is the anthropic_version Vertex AI wants in Claude bodies.
const AnthropicVersion = "vertex-2023-10-16"

// scope is the OAuth scope of Vertex AI calls.
const scope = "https://www.googleapis.com/auth/cloud-platform"

// earlyRefresh is how long before its expiry a token is replaced, so no
// call goes out with a token that expires on the way.
const earlyRefresh = 5 * time.Minute

// Adaptor is the Vertex AI upstream. Its zero value is not usable: build
// it with New and share it, since it holds the token cache.
type Adaptor struct {
	mu     sync.Mutex
	tokens map[tokenKey]oauth2.TokenSource
	// tokenClient fetches tokens (bounded wait, no redirects).
	tokenClient *http.Client
}

// tokenKey names a service account key and the proxy its token requests
// go through: channels sharing both share its tokens, and an edited key
// or proxy gets a new source.
type tokenKey [32]byte

// maxSources bounds the token cache.
const maxSources = 1024

// New returns a Vertex AI adaptor with an empty token cache.
func New() *Adaptor {
	return &Adaptor{
		tokens: map[tokenKey]oauth2.TokenSource{},
		tokenClient: &http.Client{
			Timeout:       20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Format is FormatNeutral: every call is converted (see the package doc).
func (*Adaptor) Format() adaptor.Format { return adaptor.FormatNeutral }

func misconfigured(what string) *adaptor.UpstreamError {
	return &adaptor.UpstreamError{Status: http.StatusUnauthorized, Class: adaptor.ClassAuth, Code: "channel_misconfigured",
		Message: "the Vertex AI channel's config " + what}
}

// tokenSource is the channel's cached token source. oauth2's reuse source
// holds a lock while it refreshes, so concurrent calls wait for one token
// request instead of each making their own.
func (a *Adaptor) tokenSource(up *adaptor.Upstream) (oauth2.TokenSource, error) {
	adc := up.Config[ConfigADC]
	if adc == "" {
		return nil, misconfigured("needs vertex_ai_adc, the service account key JSON")
	}
	h := sha256.New()
	h.Write([]byte(adc))
	if up.Proxy != nil {
		h.Write([]byte{0})
		h.Write([]byte(up.Proxy.String()))
	}
	var k tokenKey
	h.Sum(k[:0])
	a.mu.Lock()
	defer a.mu.Unlock()
	if ts, ok := a.tokens[k]; ok {
		return ts, nil
	}
	// The source outlives the call that made it: it gets a background
	// context carrying the bounded token client, never a client's.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, a.tokenClientFor(up))
	creds, err := google.CredentialsFromJSON(ctx, []byte(adc), scope)
	if err != nil {
		return nil, misconfigured("has a vertex_ai_adc that is not a service account key: " + err.Error())
	}
	// Entries are never stale, only unused once a key is edited; a bound
	// keeps a process that sees many edits from growing.
	if len(a.tokens) >= maxSources {
		clear(a.tokens)
	}
	ts := oauth2.ReuseTokenSourceWithExpiry(nil, creds.TokenSource, earlyRefresh)
	a.tokens[k] = ts
	return ts, nil
}

// tokenClientFor is the client a channel's token requests go out with:
// through the channel's proxy when it has one, since a channel proxied to
// reach Google must fetch its tokens that way too. The proxy is fixed on
// a transport of the source's own, as oauth2 sends token requests without
// a context for adaptor.ProxyFor to read; tokens are fetched about once an
// hour, so the transport's pool matters little.
func (a *Adaptor) tokenClientFor(up *adaptor.Upstream) *http.Client {
	if up.Proxy == nil {
		return a.tokenClient
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(up.Proxy)
	c := *a.tokenClient
	c.Transport = tr
	return &c
}

// token is an access token for the channel. A refused grant means the
// service account is dead (deleted, key revoked): the channel's fault.
func (a *Adaptor) token(up *adaptor.Upstream) (string, error) {
	ts, err := a.tokenSource(up)
	if err != nil {
		return "", err
	}
	t, err := ts.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return "", &adaptor.UpstreamError{Status: http.StatusUnauthorized, Class: adaptor.ClassDeadKey, Code: "invalid_grant",
				Message: "Google refused the service account's token request: " + re.ErrorDescription}
		}
		return "", &adaptor.UpstreamError{Status: http.StatusBadGateway, Class: adaptor.ClassUpstream, Code: "token_unavailable",
			Message: "no access token from Google's token endpoint"}
	}
	return t.AccessToken, nil
}

// endpoint is the channel's API root: its base URL, or the region's.
func endpoint(up *adaptor.Upstream, region string) string {
	base := strings.TrimRight(up.BaseURL, "/")
	if u, err := url.Parse(base); base == "" || err == nil && (u.Host == "aiplatform.googleapis.com" || strings.HasSuffix(u.Host, "-aiplatform.googleapis.com")) {
		if region == "global" {
			return "https://aiplatform.googleapis.com"
		}
		return "https://" + region + "-aiplatform.googleapis.com"
	}
	return base
}

// IsClaude reports whether a model is served by publishers/anthropic.
func IsClaude(model string) bool { return strings.HasPrefix(model, "claude") }

// NewRequest builds the call with a fresh or cached access token.
func (a *Adaptor) NewRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	model := gemini.ModelName(req.UpstreamModel)
	embed := req.Mode == adaptor.ModeEmbeddings && len(req.Input) > 0 && !IsClaude(model)
	if !embed && ((req.Mode != adaptor.ModeChat && req.Mode != adaptor.ModeCompletions) || req.Chat == nil) {
		return nil, adaptor.Unsupported("Vertex AI", req.Mode)
	}
	var publisher, method string
	var body []byte
	var err error
	switch {
	case embed:
		publisher, method = "google", "predict"
		body, err = embedBody(req)
	case IsClaude(model):
		publisher, method = "anthropic", "rawPredict"
		if req.Stream {
			method = "streamRawPredict"
		}
		body, err = claudeBody(req)
	default:
		publisher, method = "google", gemini.Method(req)
		body, err = gemini.ChatBody(req, false)
	}
	if err != nil {
		return nil, err
	}
	return a.post(ctx, up, publisher, model, method, body)
}

// post is the call of method on a publisher's model in the channel's
// project and region, with a fresh or cached access token.
func (a *Adaptor) post(ctx context.Context, up *adaptor.Upstream, publisher, model, method string, body []byte) (*http.Request, error) {
	project, region := up.Config[ConfigProject], up.Config[ConfigRegion]
	if project == "" || region == "" {
		return nil, misconfigured("needs vertex_ai_project_id and region")
	}
	tok, err := a.token(up)
	if err != nil {
		return nil, err
	}
	u := fmt.Sprintf("%s/v1/projects/%s/locations/%s/publishers/%s/models/%s:%s", endpoint(up, region),
		url.PathEscape(project), url.PathEscape(region), publisher, url.PathEscape(model), method)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+tok)
	return hr, nil
}

// ParseError classifies a non-2xx reply: Google's error shape, or
// Anthropic's for errors the Claude model itself raised.
func (*Adaptor) ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	if e := claudeError(status, h, body); e != nil {
		return e
	}
	return gemini.ParseError(status, h, body)
}

// ParseResponse decodes a whole answer of either publisher.
func (*Adaptor) ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	if req.Mode == adaptor.ModeEmbeddings {
		return embedResponse(req, body)
	}
	if IsClaude(gemini.ModelName(req.UpstreamModel)) {
		return claudeResponse(req, body)
	}
	return gemini.ParseResponse(req, body)
}

// NewStream returns the stream decoder of the call's publisher.
func (*Adaptor) NewStream(req *adaptor.Request) adaptor.StreamDecoder {
	if IsClaude(gemini.ModelName(req.UpstreamModel)) {
		return claudeStream(req)
	}
	return gemini.NewDecoder()
}
