package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// ListUsers pages through all users (GET /api/user/?p=&page_size=).
func (h *Handler) ListUsers(c *gin.Context) {
	offset, limit := page(c)
	users, total, err := h.Store.ListUsers(c.Request.Context(), offset, limit)
	if err != nil {
		errs.Render(c, err)
		return
	}
	okPage(c, users, total)
}

// SearchUsers matches id, username, display name or email
// (GET /api/user/search?keyword=).
func (h *Handler) SearchUsers(c *gin.Context) {
	keyword := strings.TrimSpace(c.Query("keyword"))
	if len(keyword) > 128 {
		errs.Render(c, errs.BadRequest("keyword must be at most 128 bytes").WithParam("keyword"))
		return
	}
	offset, limit := page(c)
	users, err := h.Store.SearchUsers(c.Request.Context(), keyword, offset, limit)
	if err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, users)
}

// GetUser returns one user (GET /api/user/:id). Admins see users below
// their own role, and themselves.
func (h *Handler) GetUser(c *gin.Context) {
	u, err := h.targetUser(c, c.Param("id"))
	if err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, u)
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
func (h *Handler) CreateUser(c *gin.Context) {
	var req createUserRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	if err := firstErr(validUsername(req.Username), validPassword(req.Password), validDisplayName(req.DisplayName)); err != nil {
		errs.Render(c, err)
		return
	}
	if req.Role == 0 {
		req.Role = model.RoleCommon
	}
	if req.Role != model.RoleCommon && req.Role != model.RoleAdmin {
		errs.Render(c, errs.BadRequest("role must be 1 (common) or 10 (admin)").WithParam("role"))
		return
	}
	if req.Role >= c.GetInt(middleware.KeyRole) {
		errs.Render(c, errs.Forbidden("you cannot create a user with a role equal to or above your own"))
		return
	}
	if _, err := req.LimitPatch.Columns(); err != nil {
		errs.Render(c, err)
		return
	}
	periodQuota, quotaPeriod, err := req.PeriodPatch.Resolve(model.Period{})
	if err != nil {
		errs.Render(c, err)
		return
	}
	hash, err := crypto.HashPassword(req.Password, h.Cfg.BcryptCost)
	if err != nil {
		errs.Render(c, errs.Internal(err))
		return
	}
	u := &model.User{Username: req.Username, Password: hash, DisplayName: req.DisplayName, Role: req.Role}
	req.LimitPatch.Apply(&u.Limits)
	u.PeriodQuota, u.QuotaPeriod = periodQuota, quotaPeriod
	if err := h.Store.CreateUser(c.Request.Context(), u); err != nil {
		errs.Render(c, err)
		return
	}
	h.Store.Ledger.FillPeriod(&u.Period)
	ok(c, u)
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
func (h *Handler) UpdateUser(c *gin.Context) {
	var req updateUserRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	idRaw := c.Param("id")
	if idRaw == "" {
		if req.ID <= 0 {
			errs.Render(c, errs.BadRequest("id is required").WithParam("id"))
			return
		}
		idRaw = itoa(req.ID)
	}
	u, err := h.targetUser(c, idRaw)
	if err != nil {
		errs.Render(c, err)
		return
	}
	if u.ID == c.GetInt(middleware.KeyUserID) && u.Role < model.RoleRoot {
		// Editing oneself goes through /api/user/self so an admin cannot
		// grant themselves quota.
		errs.Render(c, errs.Forbidden("edit your own account with PUT /api/user/self"))
		return
	}
	fields := map[string]any{}
	if req.Username != nil && *req.Username != u.Username {
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
	if req.Email != nil {
		if *req.Email == "" {
			fields["email"] = ""
		} else {
			addr, err := validEmail(*req.Email)
			if err != nil {
				errs.Render(c, err)
				return
			}
			fields["email"] = addr
		}
	}
	if req.Group != nil {
		if err := h.validGroup(*req.Group); err != nil {
			errs.Render(c, err)
			return
		}
		fields["group"] = *req.Group
	}
	if req.Password != nil && *req.Password != "" {
		if err := validPassword(*req.Password); err != nil {
			errs.Render(c, err)
			return
		}
		hash, err := crypto.HashPassword(*req.Password, h.Cfg.BcryptCost)
		if err != nil {
			errs.Render(c, errs.Internal(err))
			return
		}
		fields["password"] = hash
	}
	if req.Quota != nil && *req.Quota < 0 {
		errs.Render(c, errs.BadRequest("quota cannot be negative").WithParam("quota"))
		return
	}
	limitCols, err := req.LimitPatch.Columns()
	if err != nil {
		errs.Render(c, err)
		return
	}
	for k, v := range limitCols {
		fields[k] = v
	}
	periodQuota, quotaPeriod, err := req.PeriodPatch.Resolve(u.Period)
	if err != nil {
		errs.Render(c, err)
		return
	}
	periodCols := req.PeriodPatch.Columns(u.Period, periodQuota, quotaPeriod)
	_, periodReset := periodCols["period_start"]
	for k, v := range periodCols {
		fields[k] = v
	}
	ctx := c.Request.Context()
	if len(fields) > 0 {
		if err := h.Store.UpdateUserFields(ctx, u.ID, fields); err != nil {
			errs.Render(c, err)
			return
		}
	}
	if periodReset {
		h.Store.Ledger.ResetPeriod(ctx, u.ID, 0)
	}
	if req.Quota != nil {
		if err := h.Store.SetUserQuota(ctx, u.ID, *req.Quota, c.GetInt(middleware.KeyUserID)); err != nil {
			errs.Render(c, err)
			return
		}
	}
	u, err = h.Store.UserByID(ctx, u.ID)
	if err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, u)
}

// DeleteUser removes a user (DELETE /api/user/:id).
func (h *Handler) DeleteUser(c *gin.Context) {
	u, err := h.targetUser(c, c.Param("id"))
	if err != nil {
		errs.Render(c, err)
		return
	}
	if err := h.canManage(c, u); err != nil {
		errs.Render(c, err)
		return
	}
	if err := h.Store.DeleteUser(c.Request.Context(), u.ID); err != nil {
		errs.Render(c, err)
		return
	}
	okMsg(c, "")
}

type manageUserRequest struct {
	Username string `json:"username"`
	Action   string `json:"action"`
}

// ManageUser applies one action to a user by name (POST /api/user/manage):
// disable, enable, delete, promote (to admin; root only) or demote.
func (h *Handler) ManageUser(c *gin.Context) {
	var req manageUserRequest
	if err := bindJSON(c, &req); err != nil {
		errs.Render(c, err)
		return
	}
	if req.Username == "" || len(req.Username) > maxUsername {
		errs.Render(c, errs.BadRequest("username is required").WithParam("username"))
		return
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByUsername(ctx, req.Username)
	if err != nil {
		errs.Render(c, err)
		return
	}
	if err := h.canManage(c, u); err != nil {
		errs.Render(c, err)
		return
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
			return
		}
	case "promote":
		if c.GetInt(middleware.KeyRole) < model.RoleRoot {
			errs.Render(c, errs.Forbidden("only root can promote users"))
			return
		}
		if u.Role >= model.RoleAdmin {
			errs.Render(c, errs.BadRequest("%s is already an admin", u.Username))
			return
		}
		err = h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"role": model.RoleAdmin})
		u.Role = model.RoleAdmin
	case "demote":
		if u.Role < model.RoleAdmin {
			errs.Render(c, errs.BadRequest("%s is already a common user", u.Username))
			return
		}
		err = h.Store.UpdateUserFields(ctx, u.ID, map[string]any{"role": model.RoleCommon})
		u.Role = model.RoleCommon
	default:
		errs.Render(c, errs.BadRequest("action must be one of disable, enable, delete, promote, demote").WithParam("action"))
		return
	}
	if err != nil {
		errs.Render(c, err)
		return
	}
	ok(c, gin.H{"role": u.Role, "status": u.Status})
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
