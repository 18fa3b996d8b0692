package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

type registerRequest struct {
	Username         string `json:"username"`
	Password         string `json:"password"`
	DisplayName      string `json:"display_name"`
	Email            string `json:"email"`
	VerificationCode string `json:"verification_code"`
	AffCode          string `json:"aff_code"`
}

// Register creates a common user (POST /api/user/register).
func (h *Handler) Register(c *gin.Context) {
	snap := h.Store.Options.Get()
	if !snap.Bool("RegisterEnabled") {
		errs.Render(c, errs.Forbidden("registration is closed by the administrator").WithCode("registration_closed"))
		return
	}
	if !snap.Bool("PasswordRegisterEnabled") {
		errs.Render(c, errs.Forbidden("registration with a password is closed; use another sign-in method"))
		return
	}
	var req registerRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	if err := firstErr(validUsername(req.Username), validPassword(req.Password), validDisplayName(req.DisplayName)); err != nil {
		errs.Render(c, err)
		return
	}
	u := &model.User{Username: req.Username, DisplayName: req.DisplayName}
	if snap.Bool("EmailVerificationEnabled") || req.Email != "" {
		email, err := h.checkRegistrationEmail(c, req.Email, req.VerificationCode)
		if err != nil {
			errs.Render(c, err)
			return
		}
		u.Email = email
	}
	if req.AffCode != "" {
		inviter, err := h.Store.UserByAffCode(c.Request.Context(), req.AffCode)
		if err != nil {
			errs.Render(c, errs.BadRequest("invite code %q does not exist", req.AffCode).WithParam("aff_code"))
			return
		}
		u.InviterID = inviter.ID
	}
	hash, err := crypto.HashPassword(req.Password, h.Cfg.BcryptCost)
	if err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	u.Password = hash
	if err := h.Store.CreateUser(c.Request.Context(), u); err != nil {
		errs.Render(c, err)
		return
	}
	okMsg(c, "")
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Login checks a password and starts a session (POST /api/user/login).
// The username field also takes the account's email, as the console's
// single sign-in box does.
func (h *Handler) Login(c *gin.Context) {
	if !h.Store.Options.Get().Bool("PasswordLoginEnabled") {
		errs.Render(c, errs.Forbidden("sign-in with a password is closed by the administrator"))
		return
	}
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		errs.Render(c, errs.BadRequest("username and password are required"))
		return
	}
	if len(req.Username) > maxEmail || len(req.Password) > maxPassword {
		errs.Render(c, errs.Unauthorized("wrong username or password").WithCode("wrong_credentials"))
		return
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByUsername(ctx, req.Username)
	if err != nil && strings.Contains(req.Username, "@") {
		u, err = h.Store.UserByEmail(ctx, strings.ToLower(req.Username))
	}
	if err != nil {
		if errs.As(err).Status >= 500 {
			errs.Render(c, err)
			return
		}
		// Spend the same bcrypt time as a real check so the answer does
		// not tell which usernames exist.
		crypto.CheckPassword(h.dummyHash(), req.Password)
		errs.Render(c, errs.Unauthorized("wrong username or password").WithCode("wrong_credentials"))
		return
	}
	if !crypto.CheckPassword(u.Password, req.Password) {
		errs.Render(c, errs.Unauthorized("wrong username or password").WithCode("wrong_credentials"))
		return
	}
	if u.Status != model.UserEnabled {
		errs.Render(c, errs.Forbidden("this account is disabled").WithCode("account_disabled"))
		return
	}
	if err := middleware.Login(c, u.ID, u.SessionGen); err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	ok(c, gin.H{"id": u.ID, "username": u.Username, "display_name": u.DisplayName, "role": u.Role, "status": u.Status, "group": u.Group})
}

// Logout ends the session (GET /api/user/logout) server-side: the user's
// session generation moves on, so this cookie (and, since a session is
// identified by its generation, the user's other console sessions too)
// stops working on every node even if a copy of it is replayed.
func (h *Handler) Logout(c *gin.Context) {
	if id, gen, ok := middleware.SessionUserID(c); ok {
		// Only a live session ends the generation: a replayed old cookie
		// must not sign its owner out of the sessions they have now.
		if u, err := h.Store.Users.Get(c.Request.Context(), id); err == nil && u.SessionGen == gen {
			if err := h.Store.EndSessions(c.Request.Context(), id); err != nil {
				errs.Render(c, err)
				return
			}
		} else if err != nil && errs.As(err).Status >= 500 {
			errs.Render(c, err)
			return
		}
	}
	if err := middleware.Logout(c); err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	okMsg(c, "")
}

// GetSelf returns the caller's own account (GET /api/user/self).
func (h *Handler) GetSelf(c *gin.Context) {
	u, err := h.Store.UserByID(c.Request.Context(), c.GetInt(middleware.KeyUserID))
	if err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, u)
}

type updateSelfRequest struct {
	Username         *string `json:"username"`
	DisplayName      *string `json:"display_name"`
	Password         *string `json:"password"`
	OriginalPassword string  `json:"original_password"`
}

// UpdateSelf changes the caller's username, display name or password
// (PUT /api/user/self). A new password needs the current one, so a
// stolen session cannot lock the owner out.
func (h *Handler) UpdateSelf(c *gin.Context) {
	var req updateSelfRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	ctx := c.Request.Context()
	id := c.GetInt(middleware.KeyUserID)
	fields := map[string]any{}
	if req.Username != nil && *req.Username != c.GetString(middleware.KeyUsername) {
		if err := validUsername(*req.Username); err != nil {
			errs.Render(c, err)
			return
		}
		fields["username"] = *req.Username
	}
	if req.DisplayName != nil {
		if err := validDisplayName(*req.DisplayName); err != nil {
			errs.Render(c, err)
			return
		}
		fields["display_name"] = *req.DisplayName
	}
	if req.Password != nil && *req.Password != "" {
		if err := validPassword(*req.Password); err != nil {
			errs.Render(c, err)
			return
		}
		u, err := h.Store.UserByID(ctx, id)
		if err != nil {
			errs.Render(c, err)
			return
		}
		if req.OriginalPassword == "" {
			errs.Render(c, errs.BadRequest("setting a new password needs the current one in original_password").WithParam("original_password").WithCode("current_password_required"))
			return
		}
		if !crypto.CheckPassword(u.Password, req.OriginalPassword) {
			errs.Render(c, errs.BadRequest("the current password is wrong (original_password)").WithParam("original_password").WithCode("wrong_current_password"))
			return
		}
		hash, err := crypto.HashPassword(*req.Password, h.Cfg.BcryptCost)
		if err != nil {
			errs.Render(c, errs.Internal(err))
			return
		}
		fields["password"] = hash
	}
	if len(fields) > 0 {
		if err := h.Store.UpdateUserFields(ctx, id, fields); err != nil {
			errs.Render(c, err)
			return
		}
	}
	if _, ok := fields["password"]; ok {
		// Every session of the user ended with the new password; the
		// caller's own goes on under the new generation.
		if sid, _, signedIn := middleware.SessionUserID(c); signedIn && sid == id {
			u, err := h.Store.UserByID(ctx, id)
			if err != nil {
				errs.Render(c, err)
				return
			}
			if err := middleware.Login(c, id, u.SessionGen); err != nil {
				errs.Render(c, errs.Internal(err))
				return
			}
		}
	}
	okMsg(c, "")
}

// DeleteSelf deletes the caller's account (DELETE /api/user/self). Root
// cannot delete itself: the instance would have no owner.
func (h *Handler) DeleteSelf(c *gin.Context) {
	if c.GetInt(middleware.KeyRole) >= model.RoleRoot {
		errs.Render(c, errs.Forbidden("root cannot delete itself"))
		return
	}
	id := c.GetInt(middleware.KeyUserID)
	if err := h.Store.DeleteUser(c.Request.Context(), id); err != nil {
		errs.Render(c, err)
		return
	}
	_ = middleware.Logout(c)
	okMsg(c, "")
}

// GenerateAccessToken makes a new management access token and shows it
// once (GET /api/user/token); only its hash is kept.
func (h *Handler) GenerateAccessToken(c *gin.Context) {
	token := crypto.RandomString(32)
	if err := h.Store.SetAccessToken(c.Request.Context(), c.GetInt(middleware.KeyUserID), token); err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, token)
}

// GetAffCode returns the caller's invite code (GET /api/user/aff).
func (h *Handler) GetAffCode(c *gin.Context) {
	u, err := h.Store.UserByID(c.Request.Context(), c.GetInt(middleware.KeyUserID))
	if err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, u.AffCode)
}

// firstErr returns the first failed check.
func firstErr(list ...error) error {
	for _, e := range list {
		if e != nil {
			return e
		}
	}
	return nil
}
