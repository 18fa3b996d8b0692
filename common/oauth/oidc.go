package oauth

import (
	"context"
	"net/http"
	"net/url"
)

// OIDC is an OpenID Connect provider's authorization-code flow for a
// confidential client (Keycloak, Authentik, Okta, Google, Microsoft Entra
// ID, ...): the code is traded at TokenURL with the client's secret in the
// form (client_secret_post), and the account is read from UserinfoURL with
// the access token. The userinfo answer comes straight from the provider
// over the connection the relay opened, so no ID token signature needs
// checking.
type OIDC struct {
	TokenURL, UserinfoURL  string
	ClientID, ClientSecret string
	// RedirectURL is the redirect_uri the authorize request carried; the
	// token request must repeat it.
	RedirectURL string
	// Client makes both calls; nil means a client with a 10 s timeout.
	Client *http.Client
}

// OIDCUser is the account behind a code: the standard claims Switchyard
// reads. Sub is the provider's stable id for it.
type OIDCUser struct {
	Sub               string `json:"sub"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	Email             string `json:"email"`
	EmailVerified     bool   `json:"email_verified"`
}

// User trades code for an access token and reads the account with it. A
// refused code (RFC 6749's error answer, such as invalid_grant) is a 400
// naming the reason; the provider away or answering nonsense is a 502.
func (o OIDC) User(ctx context.Context, code string) (OIDCUser, error) {
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {o.RedirectURL},
		"client_id": {o.ClientID}, "client_secret": {o.ClientSecret},
	}
	req, err := formRequest(ctx, o.TokenURL, form)
	if err != nil {
		return OIDCUser{}, err
	}
	tok, err := exchange(o.Client, "the identity provider", req, "oidc_refused")
	if err != nil {
		return OIDCUser{}, err
	}
	var u OIDCUser
	if err := account(ctx, o.Client, "the identity provider", o.UserinfoURL, tok, &u, http.Header{"Accept": {"application/json"}}); err != nil {
		return OIDCUser{}, err
	}
	if u.Sub == "" {
		return OIDCUser{}, unreadable("the identity provider", "its userinfo answer has no sub")
	}
	return u, nil
}
