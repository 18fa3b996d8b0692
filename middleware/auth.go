package middleware

import (
	"crypto/sha256"
	"net/http"
	"strings"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"

	"switchyard/common/config"
	"switchyard/common/errs"
	"switchyard/model"
)

// SessionName is the cookie name, One API's.
const SessionName = "session"

// sessionUserKey holds the user id inside the session, sessionGenKey the
// user's session generation when it was issued.
const (
	sessionUserKey = "id"
	sessionGenKey  = "gen"
)

// Sessions installs the session store: a cookie signed and encrypted with
// keys derived from SESSION_SECRET, so every node that shares the secret
// reads every session. The role and status are never trusted from the
// cookie; Auth re-reads them from cache. The cookie carries the user's
// session generation (model.User.SessionGen); Auth refuses it once the
// generation moved on, which is how a session ends server-side on every
// node (the user cache is invalidated through the Bus).
func Sessions(cfg config.Config) gin.HandlerFunc {
	sign := sha256.Sum256([]byte("switchyard-session-sign:" + cfg.SessionSecret))
	enc := sha256.Sum256([]byte("switchyard-session-encrypt:" + cfg.SessionSecret))
	store := cookie.NewStore(sign[:], enc[:])
	store.Options(sessions.Options{
		Path:     "/",
		MaxAge:   30 * 24 * 3600,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return sessions.Sessions(SessionName, store)
}

// Login records userID and its current session generation in the
// caller's session.
func Login(c *gin.Context, userID int, gen int64) error {
	s := sessions.Default(c)
	s.Clear()
	s.Set(sessionUserKey, userID)
	s.Set(sessionGenKey, gen)
	return s.Save()
}

// SessionUserID is the user id and session generation in the caller's
// session cookie, if any (whether or not the session is still valid).
func SessionUserID(c *gin.Context) (id int, gen int64, ok bool) {
	s := sessions.Default(c)
	id, ok = s.Get(sessionUserKey).(int)
	gen, _ = s.Get(sessionGenKey).(int64)
	return id, gen, ok && id > 0
}

// sessionOAuthStateKey holds the state an outside sign-in was started
// with, until its callback comes back.
const sessionOAuthStateKey = "oauth_state"

// SetOAuthState keeps state in the caller's session for TakeOAuthState.
func SetOAuthState(c *gin.Context, state string) error {
	s := sessions.Default(c)
	s.Set(sessionOAuthStateKey, state)
	return s.Save()
}

// TakeOAuthState returns the state SetOAuthState kept and forgets it, so
// a callback's state works once ("" when there is none).
func TakeOAuthState(c *gin.Context) string {
	s := sessions.Default(c)
	state, _ := s.Get(sessionOAuthStateKey).(string)
	if state != "" {
		s.Delete(sessionOAuthStateKey)
		_ = s.Save()
	}
	return state
}

// Logout ends the caller's session.
func Logout(c *gin.Context) error {
	s := sessions.Default(c)
	s.Clear()
	s.Options(sessions.Options{Path: "/", MaxAge: -1})
	return s.Save()
}

// Auth authenticates management requests against the user cache.
type Auth struct {
	Store *model.Store
}

// User lets in any signed-in user whose account is enabled.
func (a Auth) User() gin.HandlerFunc { return a.require(model.RoleCommon) }

// Admin lets in admins and root.
func (a Auth) Admin() gin.HandlerFunc { return a.require(model.RoleAdmin) }

// Root lets in root only.
func (a Auth) Root() gin.HandlerFunc { return a.require(model.RoleRoot) }

func (a Auth) require(minRole int) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := a.identify(c)
		if err != nil {
			errs.Render(c, err)
			return
		}
		if u.Status != model.UserEnabled {
			// A disabled user's session is ended so the console signs out.
			if sessions.Default(c).Get(sessionUserKey) != nil {
				_ = Logout(c)
			}
			errs.Render(c, errs.Forbidden("this account is disabled").WithCode("account_disabled"))
			return
		}
		if u.Role < minRole {
			errs.Render(c, errs.Forbidden("permission denied: this needs a higher role").WithCode("permission_denied"))
			return
		}
		c.Set(KeyUserID, u.ID)
		c.Set(KeyUsername, u.Username)
		c.Set(KeyRole, u.Role)
		c.Set(KeyGroup, u.Group)
		c.Next()
	}
}

// SignedIn is the caller's account when a live session or access token
// names an enabled one: for routes anyone may call that act differently
// for a signed-in caller (GitHub's callback binds the account then).
func (a Auth) SignedIn(c *gin.Context) (*model.CachedUser, bool) {
	u, err := a.identify(c)
	if err != nil || u.Status != model.UserEnabled {
		return nil, false
	}
	return u, true
}

// identify finds the caller from the session cookie, or from an access
// token in Authorization (with or without "Bearer ", as One API accepts).
func (a Auth) identify(c *gin.Context) (*model.CachedUser, error) {
	if id, ok := sessions.Default(c).Get(sessionUserKey).(int); ok && id > 0 {
		gen, _ := sessions.Default(c).Get(sessionGenKey).(int64)
		u, err := a.Store.Users.Get(c.Request.Context(), id)
		if err == nil {
			if u.SessionGen != gen && u.Status == model.UserEnabled {
				// (A disabled user is told so by require, which ends
				// the cookie too.)
				// Logged out, password changed or disabled since this
				// cookie was issued.
				_ = Logout(c)
				return nil, errs.Unauthorized("this session has ended: sign in again")
			}
			return u, nil
		}
		if e := errs.As(err); e.Status >= 500 {
			return nil, err
		}
		// The user was deleted: the cookie means nothing any more.
		_ = Logout(c)
	}
	token := strings.TrimSpace(c.GetHeader("Authorization"))
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" {
		return nil, errs.Unauthorized("not signed in: sign in, or send an access token in Authorization").WithCode("not_signed_in")
	}
	id, err := a.Store.UserIDByAccessToken(c.Request.Context(), token)
	if err != nil {
		if e := errs.As(err); e.Status >= 500 {
			return nil, err
		}
		return nil, errs.Unauthorized("invalid access token")
	}
	return a.Store.Users.Get(c.Request.Context(), id)
}
