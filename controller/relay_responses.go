package controller

import (
	"strings"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	responsesfront "switchyard/relay/front/responses"
)

// Responses relays POST /v1/responses, OpenAI's Responses API: passed
// through to channels that speak it (OpenAI, OpenAI-compatible vendors,
// Azure), converted for the others (Anthropic).
func (h *Relay) Responses(c *gin.Context) error {
	return h.Engine.Serve(c.Writer, c.Request, caller(c), responsesfront.Front{}, adaptor.ModeChat)
}

// maxResponseIDLen bounds a response id in a path; OpenAI's are about 50
// characters.
const maxResponseIDLen = 256

// StoredResponse passes GET and DELETE /v1/responses/:id, GET
// /v1/responses/:id/input_items and POST /v1/responses/:id/cancel to the
// channel that made the answer, for the user whose call made it. Not
// billed.
func (h *Relay) StoredResponse(c *gin.Context) error {
	var sub string
	switch {
	case strings.HasSuffix(c.FullPath(), "/"+adaptor.StoredInputItems):
		sub = adaptor.StoredInputItems
	case strings.HasSuffix(c.FullPath(), "/"+adaptor.StoredCancel):
		sub = adaptor.StoredCancel
	}
	id := c.Param("id")
	if id == "" || len(id) > maxResponseIDLen {
		return errs.BadRequest("the response id must be 1 to %d characters", maxResponseIDLen).WithParam("response_id")
	}
	return h.Engine.StoredResponse(c.Writer, c.Request, caller(c), id, sub)
}
