package oauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"switchyard/common/errs"
)

// WeChat reads who a verification code belongs to from a WeChat Server
// (github.com/songquanpeng/wechat-server, what One API's WeChat sign-in
// talks to): the operator's official account hands a person a short code
// when they message it, and the server remembers whose openid it was for
// a few minutes.
//
// GET {ServerAddress}/api/wechat/user?code=... with the server's token in
// Authorization answers {"success": true, "message": "", "data": openid};
// a code it does not know (wrong or expired) has an empty data, and a
// refused token or a missing code is {"success": false, "message": why},
// all with status 200.
type WeChat struct {
	// ServerAddress is the WeChat Server's root, http or https
	// ("https://wechat.example.com").
	ServerAddress string
	// Token is the WeChat Server's access token, sent as Authorization.
	Token string
	// Client makes the call; nil means a client with a 10 s timeout.
	Client *http.Client
}

// maxOpenID bounds the openid a WeChat Server may answer: WeChat's are 28
// characters, and the users column holds 64.
const maxOpenID = 64

// wechatReply is a WeChat Server's answer.
type wechatReply struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

// User returns the openid code was issued for. A code the server does not
// know, or refuses, is a 400 with code wechat_code_invalid; the server
// unreachable or answering nonsense is a 502; an address that is not
// http(s) is refused before anything is sent.
func (w WeChat) User(ctx context.Context, code string) (string, error) {
	base, err := serverAddress(w.ServerAddress)
	if err != nil {
		return "", err
	}
	u := base.JoinPath("api", "wechat", "user")
	// Escaped, so a code cannot add parameters or change the path.
	u.RawQuery = url.Values{"code": {code}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", errs.Internal(err)
	}
	req.Header.Set("Authorization", w.Token)
	req.Header.Set("Accept", "application/json")
	var reply wechatReply
	if _, err := call(w.Client, "the WeChat Server", req, &reply); err != nil {
		return "", err
	}
	if !reply.Success {
		why := tidyMessage(reply.Message, w.Token)
		if why == "" {
			why = "no reason given"
		}
		return "", errs.BadRequest("the WeChat Server refused the code (%s): send the official account a message for a new one", why).WithCode("wechat_code_invalid")
	}
	if reply.Data == "" {
		return "", errs.BadRequest("this verification code is wrong or has expired: send the official account a message for a new one").WithCode("wechat_code_invalid")
	}
	if len(reply.Data) > maxOpenID || strings.IndexFunc(reply.Data, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' }) >= 0 {
		return "", unreadable("the WeChat Server", "its answer is not an openid")
	}
	return reply.Data, nil
}

// serverAddress parses a WeChat Server's address: http or https, with a
// host, and nothing that would be lost or misread (a query, a fragment,
// credentials).
func serverAddress(addr string) (*url.URL, error) {
	bad := errs.New(http.StatusServiceUnavailable, errs.KindUnavailable,
		"sign-in with WeChat is not set up correctly here (the WeChat Server address must be an http or https URL): tell the administrator").WithCode("wechat_misconfigured")
	u, err := url.Parse(strings.TrimSpace(addr))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad
	}
	return u, nil
}

// ValidServerAddress says whether addr can be a WeChat Server's address,
// for the option's check.
func ValidServerAddress(addr string) bool {
	_, err := serverAddress(addr)
	return err == nil
}

// maxMessage bounds the runes of an outside message shown to a caller.
const maxMessage = 120

// tidyMessage is an outside server's message fit to show a caller: its
// secret cut out, control characters dropped, at most maxMessage runes.
func tidyMessage(msg, secret string) string {
	if len(secret) >= 4 {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "")
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, msg)
	if r := []rune(strings.TrimSpace(msg)); len(r) > maxMessage {
		return string(r[:maxMessage]) + "…"
	}
	return strings.TrimSpace(msg)
}
