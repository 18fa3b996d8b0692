package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/common/oauth"
	"switchyard/middleware"
	"switchyard/model"
)

// Sign-in with WeChat, One API's flow and paths: the operator runs a
// WeChat Server (github.com/songquanpeng/wechat-server) behind their
// official account, which answers a person's message with a short
// verification code. The console shows the account's QR code and a field
// for the code; GET /api/oauth/wechat?code= asks the WeChat Server whose
// openid the code was for, and signs in to the account bound to it (or
// registers one); GET /api/oauth/wechat/bind?code= binds it to the
// signed-in caller. There is no state: the code itself is the proof, good
// for a few minutes, which is why the routes are rate-limited.

// maxWeChatCode bounds a verification code before it is sent out: the
// WeChat Server's are a few digits.
const maxWeChatCode = 32

// wechatEnabled is whether WeChat sign-in is switched on and set up.
func wechatEnabled(snap *model.OptionSnapshot) bool {
	return snap.Bool("WeChatAuthEnabled") && snap.String("WeChatServerAddress") != ""
}

// WeChatOAuth signs in with a WeChat verification code
// (GET /api/oauth/wechat?code=). A signed-in caller binds instead, as the
// other outside sign-ins do.
func (h *Handler) WeChatOAuth(c *gin.Context) error {
	who, err := h.wechatOutsider(c)
	if err != nil {
		return err
	}
	return h.outsideSignIn(c, h.Store.Options.Get(), who)
}

// WeChatBind binds the WeChat account a verification code names to the
// signed-in caller (GET /api/oauth/wechat/bind?code=, behind auth).
func (h *Handler) WeChatBind(c *gin.Context) error {
	who, err := h.wechatOutsider(c)
	if err != nil {
		return err
	}
	return h.bindOutsider(c, c.GetInt(middleware.KeyUserID), who)
}

// wechatOutsider checks the request and asks the WeChat Server whose the
// code is. Nothing is written here: a refused code leaves no trace.
func (h *Handler) wechatOutsider(c *gin.Context) (outsider, error) {
	snap := h.Store.Options.Get()
	if !wechatEnabled(snap) {
		return outsider{}, errs.Forbidden("sign-in with WeChat is not enabled here").WithCode("wechat_disabled")
	}
	code := strings.TrimSpace(c.Query("code"))
	if code == "" || len(code) > maxWeChatCode {
		return outsider{}, errs.BadRequest("code must be 1 to %d characters: the verification code the official account sent", maxWeChatCode).WithParam("code")
	}
	ws := oauth.WeChat{ServerAddress: snap.String("WeChatServerAddress"), Token: snap.String("WeChatServerToken")}
	openid, err := ws.User(c.Request.Context(), code)
	if err != nil {
		return outsider{}, err
	}
	// One API names its accounts wechat_<n> and "WeChat User"; ours get a
	// random suffix instead (an openid is too long for a username).
	return outsider{provider: "WeChat", column: model.OutsideWeChat, code: "wechat_taken", prefix: "wechat_", id: openid, name: "WeChat User"}, nil
}
