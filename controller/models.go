package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/common/channeltype"
	"switchyard/common/errs"
	"switchyard/middleware"
)

// ModelsByType answers GET /api/models as One API does: each channel
// type's number (as a JSON key) to the models a new channel of that type
// offers by default, whatever channels exist. What the caller can reach
// is AvailableModels.
func (h *Relay) ModelsByType(c *gin.Context) error {
	out := map[int][]string{}
	for _, t := range channeltype.All() {
		out[t.Number] = t.Models
	}
	ok(c, out)
	return nil
}

// AvailableModels lists the model names the signed-in user's group can
// reach, sorted (GET /api/user/available_models, as in One API): what the
// console offers in its model pickers.
func (h *Relay) AvailableModels(c *gin.Context) error {
	ok(c, h.Store.Channels.Models(c.GetString(middleware.KeyGroup)))
	return nil
}

// ListModels answers GET /v1/models in OpenAI's list shape, or in
// Anthropic's when the caller sends anthropic-version: the models the
// token's group can reach, narrowed by the token's own allow-list.
func (h *Relay) ListModels(c *gin.Context) error {
	group, allows := h.callerScope(c)
	names := h.Store.Channels.Models(group)
	out := names[:0:0]
	for _, n := range names {
		if allows(n) {
			out = append(out, n)
		}
	}
	if asksAnthropic(c) {
		return h.anthropicModels(c, out)
	}
	c.JSON(200, gin.H{"object": "list", "data": modelObjects(out)})
	return nil
}

// GetModel answers GET /v1/models/:model: the model if the caller can
// reach it, else OpenAI's 404.
func (h *Relay) GetModel(c *gin.Context) error {
	name := c.Param("model")
	group, allows := h.callerScope(c)
	if allows(name) && len(h.Store.Channels.Tiers(group, name)) > 0 {
		if asksAnthropic(c) {
			c.JSON(200, anthropicModelOf(name))
			return nil
		}
		c.JSON(200, modelObjects([]string{name})[0])
		return nil
	}
	return errs.NotFound("the model '%s' does not exist or you do not have access to it", name).WithCode("model_not_found").WithParam("model")
}
