package controller

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/common/oauth"
	"switchyard/middleware"
	"switchyard/model"
)

// Sign-in with GitHub or an OpenID Connect provider (Lark's, in
// oauth_lark.go, is the same flow; WeChat's, in oauth_wechat.go, ends the
// same way), One API's flows and paths: the console asks for a state (GET
// /api/oauth/state), sends the browser to the provider's authorize page
// with it, and the provider sends the browser back to the console's
// /oauth/github or /oauth/oidc, which hands code and state to GET
// /api/oauth/github or /api/oauth/oidc. There a signed-in caller binds the
// outside account to theirs; anyone else signs in to the account bound to
// it, or gets a new one when registration is open (outsideSignIn).
// Accounts are matched by the provider's stable id: GitHub's number, which
// survives a renamed login (One API matched the login), or OIDC's sub.
// Each column is unique, so two first sign-ins of one account racing make
// one account, and both sign in to it; of two binds racing, one wins.

// Bounds on what a callback takes before anything is sent out.
const (
	oauthStateLen = 12
	maxOAuthCode  = 256
)

// OAuthState starts an outside sign-in: a fresh state, kept in the
// caller's session and returned for the authorize URL.
func (h *Handler) OAuthState(c *gin.Context) error {
	state := crypto.RandomString(oauthStateLen)
	if err := middleware.SetOAuthState(c, state); err != nil {
		return errs.Internal(err)
	}
	ok(c, state)
	return nil
}

// github is the GitHub client the options and config describe.
func (h *Handler) github(snap *model.OptionSnapshot) oauth.GitHub {
	return oauth.GitHub{URL: h.Cfg.GitHubURL, APIURL: h.Cfg.GitHubAPIURL,
		ClientID: snap.String("GitHubClientId"), ClientSecret: snap.String("GitHubClientSecret")}
}

// githubEnabled is whether GitHub sign-in is switched on and set up.
func githubEnabled(snap *model.OptionSnapshot) bool {
	return snap.Bool("GitHubOAuthEnabled") && snap.String("GitHubClientId") != ""
}

// GitHubOAuth is GitHub's callback (GET /api/oauth/github?code=&state=).
func (h *Handler) GitHubOAuth(c *gin.Context) error {
	snap := h.Store.Options.Get()
	if !githubEnabled(snap) {
		return errs.Forbidden("sign-in with GitHub is not enabled here").WithCode("github_oauth_disabled")
	}
	code, err := callbackCode(c)
	if err != nil {
		return err
	}
	gh, err := h.github(snap).User(c.Request.Context(), code)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(gh.ID, 10)
	return h.outsideSignIn(c, snap, outsider{
		provider: "GitHub", column: model.OutsideGitHub, code: "github_taken", prefix: "github_",
		id: id, logins: []string{gh.Login, id}, name: gh.Name, email: gh.Email,
	})
}

// oidcEnabled is whether OpenID Connect sign-in is switched on and set up.
func oidcEnabled(snap *model.OptionSnapshot) bool {
	return snap.Bool("OidcEnabled") && snap.String("OidcClientId") != "" &&
		snap.String("OidcAuthorizationEndpoint") != "" && snap.String("OidcTokenEndpoint") != "" && snap.String("OidcUserinfoEndpoint") != ""
}

// oidcRedirectURL is the redirect_uri of OpenID Connect sign-in: the
// console's /oauth/oidc under ServerAddress, as One API's. The console's
// authorize request and the token request must both send it.
func oidcRedirectURL(snap *model.OptionSnapshot) string {
	return strings.TrimRight(snap.String("ServerAddress"), "/") + "/oauth/oidc"
}

// OIDCOAuth is an OpenID Connect provider's callback
// (GET /api/oauth/oidc?code=&state=). Accounts are matched by the
// provider's sub; a new one is named oidc_<preferred_username> (or the
// email's local part), and takes the email only when the provider says it
// is verified.
func (h *Handler) OIDCOAuth(c *gin.Context) error {
	snap := h.Store.Options.Get()
	if !oidcEnabled(snap) {
		return errs.Forbidden("sign-in with OpenID Connect is not enabled here").WithCode("oidc_disabled")
	}
	code, err := callbackCode(c)
	if err != nil {
		return err
	}
	o := oauth.OIDC{
		TokenURL: snap.String("OidcTokenEndpoint"), UserinfoURL: snap.String("OidcUserinfoEndpoint"),
		ClientID: snap.String("OidcClientId"), ClientSecret: snap.String("OidcClientSecret"),
		RedirectURL: oidcRedirectURL(snap),
	}
	u, err := o.User(c.Request.Context(), code)
	if err != nil {
		return err
	}
	who := outsider{provider: "OpenID Connect", column: model.OutsideOIDC, code: "oidc_taken", prefix: "oidc_", id: u.Sub, name: u.Name}
	for _, l := range []string{u.PreferredUsername, strings.SplitN(u.Email, "@", 2)[0], u.Sub} {
		if l != "" {
			who.logins = append(who.logins, l)
		}
	}
	if u.EmailVerified {
		who.email = u.Email
	}
	return h.outsideSignIn(c, snap, who)
}

// callbackCode checks an outside sign-in's callback: its state must be the
// one this session was given (taken first, whatever follows: a state
// works once), and its code plausible before anything is sent out.
func callbackCode(c *gin.Context) (string, error) {
	want := middleware.TakeOAuthState(c)
	state, code := c.Query("state"), c.Query("code")
	if want == "" || subtle.ConstantTimeCompare([]byte(state), []byte(want)) != 1 {
		return "", errs.Forbidden("this sign-in link is stale or was not started here: start again").WithCode("oauth_state_mismatch")
	}
	if code == "" || len(code) > maxOAuthCode {
		return "", errs.BadRequest("code must be 1 to %d characters", maxOAuthCode).WithParam("code")
	}
	return code, nil
}

// outsider is an outside provider's account, as a callback found it.
type outsider struct {
	provider string // for messages: "GitHub"
	column   string // the users column that binds it: "github_id"
	code     string // the error code of an account bound elsewhere
	prefix   string // of the usernames made for it: "github_"
	id       string // the provider's stable id for the account
	// logins are username hints in order of preference, before prefix.
	logins      []string
	name, email string
}

// taken is the answer when the outside account is bound to another user.
func (who outsider) taken() error {
	return errs.BadRequest("this %s account is bound to another account here", who.provider).WithCode(who.code)
}

// outsideSignIn ends a callback. A signed-in caller binds the outside
// account to theirs (the reply's message is "bind", as One API's); anyone
// else signs in to the account bound to it, or to a new one while
// registration is open, and is answered the account as Login does.
func (h *Handler) outsideSignIn(c *gin.Context, snap *model.OptionSnapshot, who outsider) error {
	if self, signedIn := (middleware.Auth{Store: h.Store}).SignedIn(c); signedIn {
		return h.bindOutsider(c, self.ID, who)
	}
	owner, err := h.Store.UserByOutsideID(c.Request.Context(), who.column, who.id)
	if err != nil && errs.As(err).Status >= 500 {
		return err
	}
	if owner == nil {
		if owner, err = h.registerOutsider(c, snap, who); err != nil {
			return err
		}
	}
	return signIn(c, owner)
}

// bindOutsider binds the outside account to user self, answering "bind"
// as One API does; an account bound to another user is refused with
// who.code. A route that only binds (WeChat's /bind, behind auth) calls
// it directly.
func (h *Handler) bindOutsider(c *gin.Context, self int, who outsider) error {
	ctx := c.Request.Context()
	owner, err := h.Store.UserByOutsideID(ctx, who.column, who.id)
	if err != nil && errs.As(err).Status >= 500 {
		return err
	}
	if owner != nil && owner.ID != self {
		return who.taken()
	}
	if err := h.Store.UpdateUserFields(ctx, self, map[string]any{who.column: who.id}); err != nil {
		if errs.As(err).Code == model.CodeOutsideIDTaken {
			// Another bind of the same account got in since the look-up.
			return who.taken()
		}
		return err
	}
	okMsg(c, "bind")
	return nil
}

// registerOutsider makes the account a first outside sign-in gets, when
// registration is open: named prefix + the first login hint that makes a
// free, valid username (else a random one), with the provider's display
// name and, when no other account uses it, its email.
func (h *Handler) registerOutsider(c *gin.Context, snap *model.OptionSnapshot, who outsider) (*model.User, error) {
	if !snap.Bool("RegisterEnabled") {
		return nil, errs.Forbidden("registration is closed by the administrator").WithCode("registration_closed")
	}
	ctx := c.Request.Context()
	u := &model.User{DisplayName: displayNameOf(who)}
	u.SetOutsideID(who.column, who.id)
	if addr, err := validEmail(who.email); err == nil {
		if _, err := h.Store.UserByEmail(ctx, addr); errs.As(err).Status == http.StatusNotFound {
			u.Email = addr
		}
	}
	names := make([]string, 0, len(who.logins)+1)
	for _, l := range who.logins {
		names = append(names, who.prefix+strings.ToLower(l))
	}
	names = append(names, who.prefix+strings.ToLower(crypto.RandomString(8)))
	for _, name := range names {
		if validUsername(name) != nil {
			continue
		}
		u.ID, u.Username = 0, name
		err := h.Store.CreateUser(ctx, u)
		if err == nil {
			return h.Store.UserByID(ctx, u.ID)
		}
		switch errs.As(err).Code {
		case model.CodeOutsideIDTaken:
			// Another first sign-in with this account created it since the
			// look-up (the unique index refused ours, and its transaction
			// wrote nothing): this one signs in to that account too.
			return h.Store.UserByOutsideID(ctx, who.column, who.id)
		case "username_taken":
			// The next name.
		default:
			return nil, err
		}
	}
	return nil, errs.New(http.StatusConflict, errs.KindInvalidRequest, "could not find a free username for this %s account: try again", who.provider)
}

// displayNameOf is the provider's name for the account, else its first
// login hint, cut to what a display name may hold.
func displayNameOf(who outsider) string {
	name := strings.TrimSpace(who.name)
	if (name == "" || validDisplayName(name) != nil) && len(who.logins) > 0 {
		name = who.logins[0]
	}
	if r := []rune(name); len(r) > maxDisplayName {
		name = string(r[:maxDisplayName])
	}
	return name
}
