package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
)

// ListGroups lists the groups the GroupRatio option defines (GET /api/group/).
func (h *Handler) ListGroups(c *gin.Context) error {
	ok(c, model.GroupNames(h.Store.Options.Get()))
	return nil
}

// UsableGroups lists the groups the caller may give their tokens, each
// with its ratio and description (GET /api/user/self/groups, new-api's
// path and shape: data is {"vip": {"ratio": 1.5, "desc": "…"}}).
func (h *Handler) UsableGroups(c *gin.Context) error {
	ok(c, model.UsableGroups(h.Store.Options.Get(), c.GetString(middleware.KeyGroup)))
	return nil
}

// validGroup accepts only groups that GroupRatio defines.
func (h *Handler) validGroup(group string) error {
	if !model.HasGroup(h.Store.Options.Get(), group) {
		return errs.BadRequest("group %q is not defined in the GroupRatio option", group).WithParam("group")
	}
	return nil
}
