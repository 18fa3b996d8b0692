package controller

import (
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// ListUsers pages through all users (GET /api/user/?p=&page_size=).
func (h *Handler) ListUsers(c *gin.Context) error {
	offset, limit := page(c)
	users, total, err := h.Store.ListUsers(c.Request.Context(), offset, limit)
	if err != nil {
		return err
	}
	okPage(c, users, total)
	return nil
}

// SearchUsers matches id, username, display name or email
// (GET /api/user/search?keyword=).
func (h *Handler) SearchUsers(c *gin.Context) error {
	keyword := strings.TrimSpace(c.Query("keyword"))
	if len(keyword) > 128 {
		return errs.BadRequest("keyword must be at most 128 bytes").WithParam("keyword")
	}
	offset, limit := page(c)
	users, err := h.Store.SearchUsers(c.Request.Context(), keyword, offset, limit)
	if err != nil {
		return err
	}
	ok(c, users)
	return nil
}

// GetUser returns one user (GET /api/user/:id). Admins see users below
// their own role, and themselves.
func (h *Handler) GetUser(c *gin.Context) error {
	u, err := h.targetUser(c, c.Param("id"))
	if err != nil {
		return err
	}
	ok(c, u)
	return nil
}

type createUserRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Role        int    `json:"role"`
	// The user's rate limits (rpm_limit, tpm_limit, rpd_limit,
	// max_parallel_requests); absent is none.
	model.LimitPatch
	// The user's period quota (period_quota, quota_period); absent is none.
	model.PeriodPatch
}

// CreateUser adds a user (POST /api/user/). An admin creates common users;
// root may also create admins.
func (h *Handler) CreateUser(c *gin.Context) error {
	var req createUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := firstErr(validUsername(req.Username), validPassword(req.Password), validDisplayName(req.DisplayName)); err != nil {
		return err
	}
	if req.Role == 0 {
		req.Role = model.RoleCommon
	}
	if req.Role != model.RoleCommon && req.Role != model.RoleAdmin {
		return errs.BadRequest("role must be 1 (common) or 10 (admin)").WithParam("role")
	}
	if req.Role >= c.GetInt(middleware.KeyRole) {
		return errs.Forbidden("you cannot create a user with a role equal to or above your own")
	}
	if _, err := req.LimitPatch.Columns(); err != nil {
		return err
	}
	periodQuota, quotaPeriod, err := req.PeriodPatch.Resolve(model.Period{})
	if err != nil {
		return err
	}
	hash, err := crypto.HashPassword(req.Password, h.Cfg.BcryptCost)
	if err != nil {
		return errs.Internal(err)
	}
	u := &model.User{Username: req.Username, Password: hash, DisplayName: req.DisplayName, Role: req.Role}
	req.LimitPatch.Apply(&u.Limits)
	u.PeriodQuota, u.QuotaPeriod = periodQuota, quotaPeriod
	if err := h.Store.CreateUser(c.Request.Context(), u); err != nil {
		return err
	}
	h.Store.Ledger.FillPeriod(&u.Period)
	ok(c, u)
	return nil
}

type updateUserRequest struct {
	ID          int     `json:"id"`
	Username    *string `json:"username"`
	DisplayName *string `json:"display_name"`
	Password    *string `json:"password"`
	Email       *string `json:"email"`
	Group       *string `json:"group"`
	Quota       *int64  `json:"quota"`
	// Rate limits; only the fields sent change.
	model.LimitPatch
	// The period quota; only the fields sent change.
	model.PeriodPatch
}

// UpdateUser edits a user (PUT /api/user/ with the id in the body, as One
// API does, or PUT /api/user/:id). Quota is set through the ledger.
func (h *Handler) UpdateUser(c *gin.Context) error {
	var req updateUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	idRaw := c.Param("id")
	if idRaw == "" {
		if req.ID <= 0 {
			return errs.BadRequest("id is required").WithParam("id")
		}
		idRaw = itoa(req.ID)
	}
	u, err := h.targetUser(c, idRaw)
	if err != nil {
		return err
	}
	if u.ID == c.GetInt(middleware.KeyUserID) && u.Role < model.RoleRoot {
		// Editing oneself goes through /api/user/self so an admin cannot
		// grant themselves quota.
		return errs.Forbidden("edit your own account with PUT /api/user/self")
	}
	fields := map[string]any{}
	if req.Username != nil && *req.Username != u.Username {
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
	if req.Email != nil {
		if *req.Email == "" {
			fields["email"] = ""
		} else {
			addr, err := validEmail(*req.Email)
			if err != nil {
				return err
			}
			fields["email"] = addr
		}
	}
	if req.Group != nil {
		if err := h.validGroup(*req.Group); err != nil {
			return err
		}
		fields["group"] = *req.Group
	}
	if req.Password != nil && *req.Password != "" {
		if err := validPassword(*req.Password); err != nil {
			return err
		}
		hash, err := crypto.HashPassword(*req.Password, h.Cfg.BcryptCost)
		if err != nil {
			return errs.Internal(err)
		}
		fields["password"] = hash
	}
	if req.Quota != nil && *req.Quota < 0 {
		return errs.BadRequest("quota cannot be negative").WithParam("quota")
	}
	limitCols, err := req.LimitPatch.Columns()
	if err != nil {
		return err
	}
	for k, v := range limitCols {
		fields[k] = v
	}
	periodQuota, quotaPeriod, err := req.PeriodPatch.Resolve(u.Period)
	if err != nil {
		return err
	}
	periodCols := req.PeriodPatch.Columns(u.Period, periodQuota, quotaPeriod)
	_, periodReset := periodCols["period_start"]
	for k, v := range periodCols {
		fields[k] = v
	}
	ctx := c.Request.Context()
	if len(fields) > 0 {
		if err := h.Store.UpdateUserFields(ctx, u.ID, fields); err != nil {
			return err
		}
	}
	if periodReset {
		h.Store.Ledger.ResetPeriod(ctx, u.ID, 0)
	}
	if req.Quota != nil {
		if err := h.Store.SetUserQuota(ctx, u.ID, *req.Quota, c.GetInt(middleware.KeyUserID)); err != nil {
			return err
		}
	}
	u, err = h.Store.UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	ok(c, u)
	return nil
}

// DeleteUser removes a user (DELETE /api/user/:id).
func (h *Handler) DeleteUser(c *gin.Context) error {
	u, err := h.targetUser(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.canManage(c, u); err != nil {
		return err
	}
	if err := h.Store.DeleteUser(c.Request.Context(), u.ID); err != nil {
		return err
	}
	okMsg(c, "")
	return nil
}

// ClearUserBinding unbinds a user from one outside account, or clears
// their email (DELETE /api/user/:id/bindings/:binding_type, new-api's
// path): binding_type is github, oidc, wechat, lark or email. Admins
// clear users below their role and themselves; the outside account can
// then sign in or be bound anew.
func (h *Handler) ClearUserBinding(c *gin.Context) error {
	bt := c.Param("binding_type")
	u, err := h.targetUser(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.Store.ClearUserBinding(c.Request.Context(), u.ID, bt); err != nil {
		return err
	}
	slog.Info("user binding cleared", "user", u.ID, "binding", bt, "by", c.GetInt(middleware.KeyUserID))
	okMsg(c, "")
	return nil
}

type manageUserRequest struct {
	Username string `json:"username"`
	Action   string `json:"action"`
}

// ManageUser applies one action to a user by name (POST /api/user/manage):
// disable, enable, delete, promote (to admin; root only) or demote.
func (h *Handler) ManageUser(c *gin.Context) error {
	var req manageUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Username == "" || len(req.Username) > maxUsername {
		return errs.BadRequest("username is required").WithParam("username")
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByUsername(ctx, req.Username)
	if err != nil {
		return err
	}
	if err := h.canManage(c, u); err != nil {
		return err
	}
	switch req.Action {
	case "disable":
		err = h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"status": model.UserDisabled})
		u.Status = model.UserDisabled
	case "enable":
		err = h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"status": model.UserEnabled})
		u.Status = model.UserEnabled
	case "delete":
		if err = h.Store.DeleteUser(ctx, u.ID); err == nil {
			okMsg(c, "")
			return nil
		}
	case "promote":
		if c.GetInt(middleware.KeyRole) < model.RoleRoot {
			return errs.Forbidden("only root can promote users")
		}
		if u.Role >= model.RoleAdmin {
			return errs.BadRequest("%s is already an admin", u.Username)
		}
		err = h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"role": model.RoleAdmin})
		u.Role = model.RoleAdmin
	case "demote":
		if u.Role < model.RoleAdmin {
			return errs.BadRequest("%s is already a common user", u.Username)
		}
		err = h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"role": model.RoleCommon})
		u.Role = model.RoleCommon
	default:
		return errs.BadRequest("action must be one of disable, enable, delete, promote, demote").WithParam("action")
	}
	if err != nil {
		return err
	}
	ok(c, gin.H{"role": u.Role, "status": u.Status})
	return nil
}

// targetUser loads the user named by a path id for an admin action. Users
// at or above the caller's role answer as if they did not exist, except
// the caller themself.
func (h *Handler) targetUser(c *gin.Context, idRaw string) (*model.User, error) {
	id, err := atoiPositive(idRaw)
	if err != nil {
		return nil, errs.BadRequest("id must be a positive whole number").WithParam("id")
	}
	u, err := h.Store.UserByID(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	if u.ID != c.GetInt(middleware.KeyUserID) && u.Role >= c.GetInt(middleware.KeyRole) {
		return nil, errs.Forbidden("you cannot manage a user whose role is equal to or above yours")
	}
	return u, nil
}

// canManage refuses actions on oneself, on equal or higher roles, and on
// root, which can never be disabled, demoted or deleted.
func (h *Handler) canManage(c *gin.Context, u *model.User) error {
	if u.Role >= model.RoleRoot {
		return errs.Forbidden("root cannot be disabled, demoted or deleted")
	}
	if u.ID == c.GetInt(middleware.KeyUserID) {
		return errs.Forbidden("you cannot do this to your own account")
	}
	if u.Role >= c.GetInt(middleware.KeyRole) {
		return errs.Forbidden("you cannot manage a user whose role is equal to or above yours")
	}
	return nil
}
