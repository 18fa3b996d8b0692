package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/model"
)

// ListGroups lists the groups the GroupRatio option defines (GET /api/group/).
func (h *Handler) ListGroups(c *gin.Context) error {
	ok(c, model.GroupNames(h.Store.Options.Get()))
	return nil
}

// validGroup accepts only groups that GroupRatio defines.
func (h *Handler) validGroup(group string) error {
	if !model.HasGroup(h.Store.Options.Get(), group) {
		return errs.BadRequest("group %q is not defined in the GroupRatio option", group).WithParam("group")
	}
	return nil
}
