package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/middleware"
)

// ConsoleModels lists the model names the signed-in user's group can
// reach, sorted (GET /api/models): what the console offers in its model
// pickers.
func (h *Relay) ConsoleModels(c *gin.Context) {
	ok(c, h.Store.Channels.Models(c.GetString(middleware.KeyGroup)))
}
