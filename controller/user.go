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
func (h *Handler) Register(c *gin.Context) error {
	snap := h.Store.Options.Get()
	if !snap.Bool("RegisterEnabled") {
		return errs.Forbidden("registration is closed by the administrator").WithCode("registration_closed")
	}
	if !snap.Bool("PasswordRegisterEnabled") {
		return errs.Forbidden("registration with a password is closed; use another sign-in method")
	}
	var req registerRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := firstErr(validUsername(req.Username), validPassword(req.Password), validDisplayName(req.DisplayName)); err != nil {
		return err
	}
	u := &model.User{Username: req.Username, DisplayName: req.DisplayName}
	if snap.Bool("EmailVerificationEnabled") || req.Email != "" {
		email, err := h.checkRegistrationEmail(c, req.Email, req.VerificationCode)
		if err != nil {
			return err
		}
		u.Email = email
	}
	if req.AffCode != "" {
		inviter, err := h.Store.UserByAffCode(c.Request.Context(), req.AffCode)
		if err != nil {
			return errs.BadRequest("invite code %q does not exist", req.AffCode).WithParam("aff_code")
		}
		u.InviterID = inviter.ID
	}
	hash, err := crypto.HashPassword(req.Password, h.Cfg.BcryptCost)
	if err != nil {
		return errs.Internal(err)
	}
	u.Password = hash
	if err := h.Store.CreateUser(c.Request.Context(), u); err != nil {
		return err
	}
	okMsg(c, "")
	return nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Login checks a password and starts a session (POST /api/user/login).
// The username field also takes the account's email, as the console's
// single sign-in box does.
func (h *Handler) Login(c *gin.Context) error {
	if !h.Store.Options.Get().Bool("PasswordLoginEnabled") {
		return errs.Forbidden("sign-in with a password is closed by the administrator")
	}
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return errs.BadRequest("username and password are required")
	}
	if len(req.Username) > maxEmail || len(req.Password) > maxPassword {
		return errs.Unauthorized("wrong username or password").WithCode("wrong_credentials")
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByUsername(ctx, req.Username)
	if err != nil && strings.Contains(req.Username, "@") {
		u, err = h.Store.UserByEmail(ctx, strings.ToLower(req.Username))
	}
	if err != nil {
		if errs.As(err).Status >= 500 {
			return err
		}
		// Spend the same bcrypt time as a real check so the answer does
		// not tell which usernames exist.
		crypto.CheckPassword(h.dummyHash(), req.Password)
		return errs.Unauthorized("wrong username or password").WithCode("wrong_credentials")
	}
	if !crypto.CheckPassword(u.Password, req.Password) {
		return errs.Unauthorized("wrong username or password").WithCode("wrong_credentials")
	}
	return signIn(c, u)
}

// signIn starts a session for u, unless the account is disabled, and
// answers the account as One API's login does.
func signIn(c *gin.Context, u *model.User) error {
	if u.Status != model.UserEnabled {
		return errs.Forbidden("this account is disabled").WithCode("account_disabled")
	}
	if err := middleware.Login(c, u.ID, u.SessionGen); err != nil {
		return errs.Internal(err)
	}
	ok(c, gin.H{"id": u.ID, "username": u.Username, "display_name": u.DisplayName, "role": u.Role, "status": u.Status, "group": u.Group})
	return nil
}

// Logout ends the session (GET /api/user/logout) server-side: the user's
// session generation moves on, so this cookie (and, since a session is
// identified by its generation, the user's other console sessions too)
// stops working on every node even if a copy of it is replayed.
func (h *Handler) Logout(c *gin.Context) error {
	if id, gen, ok := middleware.SessionUserID(c); ok {
		// Only a live session ends the generation: a replayed old cookie
		// must not sign its owner out of the sessions they have now.
		if u, err := h.Store.Users.Get(c.Request.Context(), id); err == nil && u.SessionGen == gen {
			if err := h.Store.EndSessions(c.Request.Context(), id); err != nil {
				return err
			}
		} else if err != nil && errs.As(err).Status >= 500 {
			return err
		}
	}
	if err := middleware.Logout(c); err != nil {
		return errs.Internal(err)
	}
	okMsg(c, "")
	return nil
}

// GetSelf returns the caller's own account (GET /api/user/self).
func (h *Handler) GetSelf(c *gin.Context) error {
	u, err := h.Store.UserByID(c.Request.Context(), c.GetInt(middleware.KeyUserID))
	if err != nil {
		return err
	}
	ok(c, u)
	return nil
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
func (h *Handler) UpdateSelf(c *gin.Context) error {
	var req updateSelfRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	id := c.GetInt(middleware.KeyUserID)
	fields := map[string]any{}
	if req.Username != nil && *req.Username != c.GetString(middleware.KeyUsername) {
		if err := validUsername(*req.Username); err != nil {
			return err
		}
		fields["username"] = *req.Username
	}
	if req.DisplayName != nil {
		if err := validDisplayName(*req.DisplayName); err != nil {
			return err
		}
		fields["display_name"] = *req.DisplayName
	}
	if req.Password != nil && *req.Password != "" {
		if err := validPassword(*req.Password); err != nil {
			return err
		}
		u, err := h.Store.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if req.OriginalPassword == "" {
			return errs.BadRequest("setting a new password needs the current one in original_password").WithParam("original_password").WithCode("current_password_required")
		}
		if !crypto.CheckPassword(u.Password, req.OriginalPassword) {
			return errs.BadRequest("the current password is wrong (original_password)").WithParam("original_password").WithCode("wrong_current_password")
		}
		hash, err := crypto.HashPassword(*req.Password, h.Cfg.BcryptCost)
		if err != nil {
			return errs.Internal(err)
		}
		fields["password"] = hash
	}
	if len(fields) > 0 {
		if err := h.Store.UpdateUserFields(ctx, id, fields); err != nil {
			return err
		}
	}
	if _, ok := fields["password"]; ok {
		// Every session of the user ended with the new password; the
		// caller's own goes on under the new generation.
		if sid, _, signedIn := middleware.SessionUserID(c); signedIn && sid == id {
			u, err := h.Store.UserByID(ctx, id)
			if err != nil {
				return err
			}
			if err := middleware.Login(c, id, u.SessionGen); err != nil {
				return errs.Internal(err)
			}
		}
	}
	okMsg(c, "")
	return nil
}

// DeleteSelf deletes the caller's account (DELETE /api/user/self). Root
// cannot delete itself: the instance would have no owner.
func (h *Handler) DeleteSelf(c *gin.Context) error {
	if c.GetInt(middleware.KeyRole) >= model.RoleRoot {
		return errs.Forbidden("root cannot delete itself")
	}
	id := c.GetInt(middleware.KeyUserID)
	if err := h.Store.DeleteUser(c.Request.Context(), id); err != nil {
		return err
	}
	_ = middleware.Logout(c)
	okMsg(c, "")
	return nil
}

// GenerateAccessToken makes a new management access token and shows it
// once (GET /api/user/token); only its hash is kept.
func (h *Handler) GenerateAccessToken(c *gin.Context) error {
	token := crypto.RandomString(32)
	if err := h.Store.SetAccessToken(c.Request.Context(), c.GetInt(middleware.KeyUserID), token); err != nil {
		return err
	}
	ok(c, token)
	return nil
}

// GetAffCode returns the caller's invite code (GET /api/user/aff).
func (h *Handler) GetAffCode(c *gin.Context) error {
	u, err := h.Store.UserByID(c.Request.Context(), c.GetInt(middleware.KeyUserID))
	if err != nil {
		return err
	}
	ok(c, u.AffCode)
	return nil
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
