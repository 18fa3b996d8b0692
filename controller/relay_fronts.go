package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/relay/adaptor"
	geminifront "switchyard/relay/front/gemini"
	rerankfront "switchyard/relay/front/rerank"
)

// Gemini relays the Gemini API's POST /v1beta/models/{model}:generateContent
// and :streamGenerateContent to any channel: passed through to Gemini
// channels, converted for the others. :countTokens is counted.
func (h *Relay) Gemini(c *gin.Context) error {
	if _, method, _ := geminifront.Call(c.Request.URL.Path); method == geminifront.CountMethod {
		return h.geminiCount(c)
	}
	return h.Engine.Serve(c.Writer, c.Request, caller(c), geminifront.Front{}, adaptor.ModeChat)
}

// Rerank relays POST /v1/rerank (Cohere/Jina shape) to rerank channels.
func (h *Relay) Rerank(c *gin.Context) error {
	return h.Engine.Serve(c.Writer, c.Request, caller(c), rerankfront.Front{}, adaptor.ModeRerank)
}

// geminiCount answers :countTokens as Google does, {"totalTokens": N}:
// exact from a channel serving the model that can count (Gemini's
// countTokens, Anthropic's count_tokens), else counted locally. Not
// billed, as Google does not bill it.
func (h *Relay) geminiCount(c *gin.Context) error {
	req, err := geminifront.ParseCount(c.Request)
	if err != nil {
		return err
	}
	n, err := h.Engine.CountTokens(c.Request.Context(), caller(c), req)
	if err != nil {
		return err
	}
	c.JSON(200, gin.H{"totalTokens": n.InputTokens})
	return nil
}
