package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	geminifront "switchyard/relay/front/gemini"
	rerankfront "switchyard/relay/front/rerank"
)

// Gemini relays the Gemini API's POST /v1beta/models/{model}:generateContent
// and :streamGenerateContent to any channel: passed through to Gemini
// channels, converted for the others.
func (h *Relay) Gemini(c *gin.Context) {
	if err := h.Engine.Serve(c.Writer, c.Request, caller(c), geminifront.Front{}, adaptor.ModeChat); err != nil {
		errs.Render(c, err)
	}
}

// Rerank relays POST /v1/rerank (Cohere/Jina shape) to rerank channels.
func (h *Relay) Rerank(c *gin.Context) {
	if err := h.Engine.Serve(c.Writer, c.Request, caller(c), rerankfront.Front{}, adaptor.ModeRerank); err != nil {
		errs.Render(c, err)
	}
}
