package middleware

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/model/limit"
)

// Context keys set by TokenAuth (besides KeyUserID, KeyUsername, KeyRole
// and KeyGroup, where KeyGroup is the token's group override or else the
// owner's group).
const (
	KeyToken         = "switchyard.token"
	KeyPinnedChannel = "switchyard.pinned_channel"
	KeyLimits        = "switchyard.limits"
)

// LimitsOf returns the rate limits TokenAuth found for the caller (its
// token's, its user's and its group's), or nil when none applies.
func LimitsOf(c *gin.Context) *limit.Call {
	v, _ := c.Get(KeyLimits)
	l, _ := v.(*limit.Call)
	return l
}

// TokenOf returns the relay token TokenAuth accepted.
func TokenOf(c *gin.Context) *model.CachedToken {
	t, _ := c.Get(KeyToken)
	tok, _ := t.(*model.CachedToken)
	return tok
}

// TokenAuth authenticates /v1 requests by relay token, from the cache
// only in the steady state (ARCHITECTURE.md, step 1).
type TokenAuth struct {
	Store *model.Store
	// Inquiry admits a token whose quota is used up, for the endpoints
	// that report a balance rather than spend it (0 is an answer there).
	// The zero value refuses it, as every relay route must.
	Inquiry bool
}

// Check is the middleware. The key comes from "Authorization: Bearer
// sk-…", "x-api-key" (Anthropic's header), "x-goog-api-key" or, on
// /v1beta (Gemini's routes), "?key=". An admin's key may end in
// "-<channel id>" to pin a channel, as in One API.
func (a TokenAuth) Check() gin.HandlerFunc {
	return func(c *gin.Context) {
		key := strings.TrimSpace(c.GetHeader("Authorization"))
		if len(key) > 7 && strings.EqualFold(key[:7], "bearer ") {
			key = strings.TrimSpace(key[7:])
		}
		if key == "" {
			key = strings.TrimSpace(c.GetHeader("x-api-key"))
		}
		if key == "" {
			// Gemini clients send x-goog-api-key, or ?key= on /v1beta.
			key = strings.TrimSpace(c.GetHeader("x-goog-api-key"))
			if key == "" && strings.HasPrefix(c.Request.URL.Path, "/v1beta/") {
				key = strings.TrimSpace(c.Query("key"))
			}
		}
		if key == "" {
			errs.Render(c, errs.Unauthorized("no API key: send Authorization: Bearer sk-…").WithCode("invalid_api_key"))
			return
		}
		key, pinned := splitPinned(key)
		if !strings.HasPrefix(key, "sk-") {
			key = "sk-" + key
		}
		ctx := c.Request.Context()
		tok, err := a.Store.Tokens.ByKey(ctx, key)
		if err != nil {
			if errs.As(err).Status >= 500 {
				errs.Render(c, err)
				return
			}
			errs.Render(c, errs.Unauthorized("invalid API key").WithCode("invalid_api_key"))
			return
		}
		a.admit(c, tok, pinned)
	}
}

// PlaygroundTokenHeader names, on the console's playground route, which of
// the signed-in user's tokens pays for the call.
const PlaygroundTokenHeader = "X-Switchyard-Token"

// Playground authenticates the console's playground (POST
// /pg/chat/completions): token keys are stored as hashes, so the console
// cannot send one; the signed-in user (Auth.User runs first) names one of
// their own tokens by id instead. From here on the call is a /v1 call of
// that token: the same checks, handler, billing and consume log. The
// custom header also keeps other sites out: a cross-origin request with
// it needs a CORS preflight, which this route does not answer.
func (a TokenAuth) Playground() gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := strconv.Atoi(strings.TrimSpace(c.GetHeader(PlaygroundTokenHeader)))
		if err != nil || id <= 0 {
			errs.Render(c, errs.BadRequest("name one of your tokens by id in the %s header", PlaygroundTokenHeader).WithCode("playground_token_missing"))
			return
		}
		tok, err := a.Store.ConsoleToken(c.Request.Context(), c.GetInt(KeyUserID), id)
		if err != nil {
			errs.Render(c, err)
			return
		}
		a.admit(c, tok, 0)
	}
}

// admit runs the checks every relay token passes (status, expiry, balance,
// network, owner) and puts the caller in the context.
func (a TokenAuth) admit(c *gin.Context, tok *model.CachedToken, pinned int) {
	ctx := c.Request.Context()
	if err := a.usable(ctx, tok, ClientIP(c)); err != nil {
		errs.Render(c, err)
		return
	}
	owner, err := a.Store.Users.Get(ctx, tok.UserID)
	if err != nil {
		errs.Render(c, errs.Unauthorized("invalid API key").WithCode("invalid_api_key"))
		return
	}
	if owner.Status != model.UserEnabled {
		errs.Render(c, errs.Forbidden("the owner of this API key is disabled"))
		return
	}
	if pinned > 0 {
		if owner.Role < model.RoleAdmin {
			errs.Render(c, errs.Forbidden("only admins may pin a channel with a key suffix"))
			return
		}
		c.Set(KeyPinnedChannel, pinned)
	}
	group := owner.Group
	if tok.Group != "" {
		group = tok.Group
	}
	c.Set(KeyToken, tok)
	c.Set(KeyUserID, owner.ID)
	c.Set(KeyUsername, owner.Username)
	c.Set(KeyRole, owner.Role)
	c.Set(KeyGroup, group)
	if l := a.limits(tok, owner, group); l != nil {
		c.Set(KeyLimits, l)
	}
	c.Next()
}

// limits gathers the rules a call is admitted by (issue 11): the token's,
// its owner's and the group's (GroupRateLimits, shared by the whole
// group). The relay admits the call where it reserves quota, once the
// token estimate is known; a refusal answers 429 in this route's style.
func (a TokenAuth) limits(tok *model.CachedToken, owner *model.CachedUser, group string) *limit.Call {
	gl := a.Store.Options.Get().GroupLimits(group)
	if tok.Limits == (model.Limits{}) && owner.Limits == (model.Limits{}) && gl == (model.Limits{}) {
		return nil
	}
	l := &limit.Call{L: a.Store.Limits, Rules: make([]limit.Rule, 0, 3)}
	for _, r := range []limit.Rule{tok.Limits.Rule(model.TokenSubject(tok.ID)), owner.Limits.Rule(model.UserSubject(owner.ID)), gl.Rule(model.GroupSubject(group))} {
		if r.Limited() {
			l.Rules = append(l.Rules, r)
		}
	}
	return l
}

// usable checks status, expiry, balance and client network.
func (a TokenAuth) usable(ctx context.Context, tok *model.CachedToken, ip string) error {
	switch tok.Status {
	case model.TokenEnabled:
	case model.TokenExpired:
		return errs.Unauthorized("this API key has expired").WithCode("token_expired")
	case model.TokenExhausted:
		if !a.Inquiry {
			return model.ErrTokenQuotaExhausted
		}
	default:
		return errs.Unauthorized("this API key is disabled").WithCode("token_disabled")
	}
	if tok.Expired(time.Now().Unix()) {
		// Flip the row so lists show it; the refusal does not wait for it.
		go a.Store.MarkTokenStatus(context.WithoutCancel(ctx), tok.ID, model.TokenExpired)
		return errs.Unauthorized("this API key has expired").WithCode("token_expired")
	}
	if !tok.UnlimitedQuota && !a.Inquiry {
		if remain, ok := a.Store.Ledger.Remaining(tok.ID); ok && remain <= 0 {
			return model.ErrTokenQuotaExhausted
		}
	}
	if !tok.AllowsIP(ip) {
		return errs.Forbidden("this API key may not be used from %s", ip)
	}
	return nil
}

// splitPinned separates a "-<channel id>" suffix from a key. Keys are
// alphanumeric after "sk-", so a dash later than that starts the suffix.
func splitPinned(key string) (string, int) {
	i := strings.LastIndexByte(key, '-')
	if i <= 2 || i == len(key)-1 {
		return key, 0
	}
	id, err := strconv.Atoi(key[i+1:])
	if err != nil || id <= 0 {
		return key, 0
	}
	return key[:i], id
}
