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

// Sign-in with GitHub, One API's flow and paths: the console asks for a
// state (GET /api/oauth/state), sends the browser to GitHub's authorize
// page with it, and GitHub sends the browser back to the console's
// /oauth/github, which hands code and state to GET /api/oauth/github.
// There a signed-in caller binds the GitHub account to theirs; anyone else
// signs in to the account bound to it, or gets a new one when
// registration is open. Accounts are matched by GitHub's numeric id, which
// survives a renamed login (One API matched the login).

// Bounds on what the callback takes before anything is sent to GitHub.
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
// It answers the signed-in account as Login does, or, when it bound the
// GitHub account to the caller's, the message "bind" as One API does.
func (h *Handler) GitHubOAuth(c *gin.Context) error {
	snap := h.Store.Options.Get()
	if !githubEnabled(snap) {
		return errs.Forbidden("sign-in with GitHub is not enabled here").WithCode("github_oauth_disabled")
	}
	// Taken first, whatever follows: a state works once.
	want := middleware.TakeOAuthState(c)
	state, code := c.Query("state"), c.Query("code")
	if want == "" || subtle.ConstantTimeCompare([]byte(state), []byte(want)) != 1 {
		return errs.Forbidden("this sign-in link is stale or was not started here: start again").WithCode("oauth_state_mismatch")
	}
	if code == "" || len(code) > maxOAuthCode {
		return errs.BadRequest("code must be 1 to %d characters", maxOAuthCode).WithParam("code")
	}
	gh, err := h.github(snap).User(c.Request.Context(), code)
	if err != nil {
		return err
	}
	ghID := strconv.FormatInt(gh.ID, 10)
	ctx := c.Request.Context()
	owner, err := h.Store.UserByGitHubID(ctx, ghID)
	if err != nil && errs.As(err).Status >= 500 {
		return err
	}
	if self, signedIn := (middleware.Auth{Store: h.Store}).SignedIn(c); signedIn {
		if owner != nil && owner.ID != self.ID {
			return errs.BadRequest("this GitHub account is bound to another account here").WithCode("github_taken")
		}
		if err := h.Store.UpdateUserFields(ctx, self.ID, map[string]any{"github_id": ghID}); err != nil {
			return err
		}
		okMsg(c, "bind")
		return nil
	}
	if owner == nil {
		if owner, err = h.registerGitHub(c, snap, gh, ghID); err != nil {
			return err
		}
	}
	return signIn(c, owner)
}

// registerGitHub makes the account a first GitHub sign-in gets, when
// registration is open: named github_<login> (github_<id> when that is
// taken or not a valid username), with GitHub's display name and, when no
// other account uses it, GitHub's public email.
func (h *Handler) registerGitHub(c *gin.Context, snap *model.OptionSnapshot, gh oauth.GitHubUser, ghID string) (*model.User, error) {
	if !snap.Bool("RegisterEnabled") {
		return nil, errs.Forbidden("registration is closed by the administrator").WithCode("registration_closed")
	}
	ctx := c.Request.Context()
	u := &model.User{GitHubID: ghID, DisplayName: displayNameOf(gh)}
	if addr, err := validEmail(gh.Email); err == nil {
		if _, err := h.Store.UserByEmail(ctx, addr); errs.As(err).Status == 404 {
			u.Email = addr
		}
	}
	names := []string{"github_" + strings.ToLower(gh.Login), "github_" + ghID, "github_" + ghID + "_" + strings.ToLower(crypto.RandomString(4))}
	for _, name := range names {
		if validUsername(name) != nil {
			continue
		}
		u.ID, u.Username = 0, name
		err := h.Store.CreateUser(ctx, u)
		if err == nil {
			return h.Store.UserByID(ctx, u.ID)
		}
		if errs.As(err).Code != "username_taken" {
			return nil, err
		}
	}
	return nil, errs.New(http.StatusConflict, errs.KindInvalidRequest, "could not find a free username for GitHub account %s: try again", gh.Login)
}

// displayNameOf is GitHub's name for the account, else its login, cut to
// what a display name may hold.
func displayNameOf(gh oauth.GitHubUser) string {
	name := strings.TrimSpace(gh.Name)
	if name == "" || validDisplayName(name) != nil {
		name = gh.Login
	}
	if r := []rune(name); len(r) > maxDisplayName {
		name = string(r[:maxDisplayName])
	}
	return name
}
