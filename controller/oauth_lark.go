package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/common/oauth"
	"switchyard/model"
)

// Sign-in with Lark (Feishu), One API's flow and paths: the console sends
// the browser to Lark's authorize page (LARK_URL's
// /open-apis/authen/v1/index) with the app's id, a state and the console's
// /oauth/lark as redirect_uri; that page hands code and state to
// GET /api/oauth/lark, which trades the code at Lark's passport
// (LARK_PASSPORT_URL) and ends like GitHub's callback. Accounts are matched
// by Lark's open_id; a new one is named lark_<English name> (or the
// email's local part, else random), with the Lark name as display name.
// The email stays behind: Lark does not say it was verified.

// larkEnabled is whether Lark sign-in is set up: One API has no switch
// for it, an app id turns it on.
func larkEnabled(snap *model.OptionSnapshot) bool {
	return snap.String("LarkClientId") != "" && snap.String("LarkClientSecret") != ""
}

// larkRedirectURL is the redirect_uri of Lark sign-in: the console's
// /oauth/lark under ServerAddress, as One API's.
func larkRedirectURL(snap *model.OptionSnapshot) string {
	return strings.TrimRight(snap.String("ServerAddress"), "/") + "/oauth/lark"
}

// larkAuthorizeURL is Lark's authorize page, where the console sends the
// browser.
func (h *Handler) larkAuthorizeURL() string {
	return strings.TrimRight(h.Cfg.LarkURL, "/") + "/open-apis/authen/v1/index"
}

// LarkOAuth is Lark's callback (GET /api/oauth/lark?code=&state=).
func (h *Handler) LarkOAuth(c *gin.Context) error {
	snap := h.Store.Options.Get()
	if !larkEnabled(snap) {
		return errs.Forbidden("sign-in with Lark is not enabled here").WithCode("lark_disabled")
	}
	code, err := callbackCode(c)
	if err != nil {
		return err
	}
	l := oauth.Lark{PassportURL: h.Cfg.LarkPassportURL, ClientID: snap.String("LarkClientId"),
		ClientSecret: snap.String("LarkClientSecret"), RedirectURL: larkRedirectURL(snap)}
	u, err := l.User(c.Request.Context(), code)
	if err != nil {
		return err
	}
	who := outsider{provider: "Lark", column: model.OutsideLark, code: "lark_taken", prefix: "lark_", id: u.OpenID, name: u.Name}
	if who.name == "" {
		who.name = u.EnName
	}
	if who.name == "" {
		who.name = "Lark User"
	}
	for _, l := range []string{strings.Join(strings.Fields(u.EnName), "_"), strings.SplitN(u.Email, "@", 2)[0]} {
		if l != "" {
			who.logins = append(who.logins, l)
		}
	}
	return h.outsideSignIn(c, snap, who)
}

// larkClientID is the Lark app's id for the console: "" until Lark
// sign-in is set up.
func larkClientID(snap *model.OptionSnapshot) string {
	if !larkEnabled(snap) {
		return ""
	}
	return snap.String("LarkClientId")
}
