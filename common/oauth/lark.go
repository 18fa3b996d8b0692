package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// Lark is sign-in with Lark (Feishu), as One API offers it: the browser
// comes back from Lark's authorize page with a code, which is traded at
// the passport's /suite/passport/oauth/token (a JSON body with the app's
// id and secret, RFC 6749's fields) for an access token, and the account
// is read from /suite/passport/oauth/userinfo with it.
//
// Lark answers errors in two shapes: RFC 6749's {"error",
// "error_description"} (with its own number in "code" on the newer
// endpoints), and its open platform's envelope {"code": non-zero, "msg"}.
// Both are a refusal of the sign-in.
type Lark struct {
	// PassportURL is the passport's root: "https://passport.feishu.cn"
	// (Feishu), "https://passport.larksuite.com" (Lark), or a test's
	// stand-in (config LARK_PASSPORT_URL).
	PassportURL            string
	ClientID, ClientSecret string
	// RedirectURL is the redirect_uri the authorize request carried; the
	// token request repeats it.
	RedirectURL string
	// Client makes both calls; nil means a client with a 10 s timeout.
	Client *http.Client
}

// LarkUser is the account behind a code, as the userinfo endpoint shows
// it. OpenID is its stable id within this app; Name is its display name
// (often Chinese), EnName its English one, when set.
type LarkUser struct {
	OpenID    string `json:"open_id"`
	UnionID   string `json:"union_id"`
	Name      string `json:"name"`
	EnName    string `json:"en_name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
}

// larkUserinfo is the userinfo answer, with the envelope's error fields.
type larkUserinfo struct {
	LarkUser
	Code json.RawMessage `json:"code"`
	Msg  string          `json:"msg"`
}

// maxLarkID bounds the open_id Lark may answer (the users column holds 64;
// Lark's are "ou_" and 32 hex digits).
const maxLarkID = 64

// User trades code for an access token and reads the account with it. A
// code Lark refuses (wrong, used or expired; or the app's credentials) is
// a 400 with code lark_oauth_refused naming Lark's reason; Lark
// unreachable or answering nonsense is a 502.
func (l Lark) User(ctx context.Context, code string) (LarkUser, error) {
	base := strings.TrimRight(l.PassportURL, "/") + "/suite/passport/oauth"
	req, err := jsonRequest(ctx, base+"/token", map[string]string{
		"grant_type": "authorization_code", "client_id": l.ClientID, "client_secret": l.ClientSecret,
		"code": code, "redirect_uri": l.RedirectURL,
	})
	if err != nil {
		return LarkUser{}, err
	}
	tok, err := exchange(l.Client, "Lark", req, "lark_oauth_refused")
	if err != nil {
		return LarkUser{}, err
	}
	var u larkUserinfo
	if err := account(ctx, l.Client, "Lark", base+"/userinfo", tok, &u, http.Header{"Accept": {"application/json"}}); err != nil {
		return LarkUser{}, err
	}
	if c := envelopeCode(u.Code); c != "" {
		return LarkUser{}, unreadable("Lark", "its userinfo answer is error code "+tidyReason(c))
	}
	if u.OpenID == "" || len(u.OpenID) > maxLarkID {
		return LarkUser{}, unreadable("Lark", "its userinfo answer has no usable open_id")
	}
	return u.LarkUser, nil
}
