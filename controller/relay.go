package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/middleware"
	"switchyard/model"
	"switchyard/relay"
	"switchyard/relay/adaptor"
	anthropicfront "switchyard/relay/front/anthropic"
	openaifront "switchyard/relay/front/openai"
)

// Relay carries what the channel, model and /v1 handlers need: the store
// and the relay engine. The router builds one.
type Relay struct {
	Store  *model.Store
	Engine *relay.Relay
}

// caller describes who is calling, from what TokenAuth found.
func caller(c *gin.Context) relay.Caller {
	tok := middleware.TokenOf(c)
	var limits relay.Limits
	if l := middleware.LimitsOf(c); l != nil {
		limits = l
	}
	return relay.Caller{
		Limits:         limits,
		UserID:         c.GetInt(middleware.KeyUserID),
		Username:       c.GetString(middleware.KeyUsername),
		TokenID:        tok.ID,
		TokenName:      tok.Name,
		Group:          c.GetString(middleware.KeyGroup),
		UnlimitedQuota: tok.UnlimitedQuota,
		AllowsModel:    tok.AllowsModel,
		PinnedChannel:  c.GetInt(middleware.KeyPinnedChannel),
		IP:             middleware.ClientIP(c),
		RequestID:      c.GetString(errs.RequestIDKey),
	}
}

// Handler relays a route's calls of mode in front's client format. A new
// client format is a Front mounted on its route with this; the route's
// error style (middleware.Style) renders errors from before the first
// byte.
func (h *Relay) Handler(front adaptor.Front, mode adaptor.Mode) gin.HandlerFunc {
	return Handle(func(c *gin.Context) error {
		return h.Engine.Serve(c.Writer, c.Request, caller(c), front, mode)
	})
}

func (h *Relay) serve(c *gin.Context, mode adaptor.Mode) error {
	return h.Engine.Serve(c.Writer, c.Request, caller(c), openaifront.Front{}, mode)
}

// ChatCompletions relays POST /v1/chat/completions.
func (h *Relay) ChatCompletions(c *gin.Context) error { return h.serve(c, adaptor.ModeChat) }

// Completions relays POST /v1/completions.
func (h *Relay) Completions(c *gin.Context) error { return h.serve(c, adaptor.ModeCompletions) }

// Embeddings relays POST /v1/embeddings.
func (h *Relay) Embeddings(c *gin.Context) error { return h.serve(c, adaptor.ModeEmbeddings) }

// EngineEmbeddings relays POST /v1/engines/:model/embeddings, OpenAI's
// older path for embeddings: the path's model stands in for a body's
// missing one.
func (h *Relay) EngineEmbeddings(c *gin.Context) error {
	f := openaifront.EnginesFront{Model: c.Param("model")}
	return h.Engine.Serve(c.Writer, c.Request, caller(c), f, adaptor.ModeEmbeddings)
}

// Moderations relays POST /v1/moderations.
func (h *Relay) Moderations(c *gin.Context) error { return h.serve(c, adaptor.ModeModerations) }

// ImageGenerations relays POST /v1/images/generations.
func (h *Relay) ImageGenerations(c *gin.Context) error { return h.serve(c, adaptor.ModeImages) }

// ImageEdits relays POST /v1/images/edits (multipart).
func (h *Relay) ImageEdits(c *gin.Context) error { return h.serve(c, adaptor.ModeImageEdit) }

// AudioSpeech relays POST /v1/audio/speech.
func (h *Relay) AudioSpeech(c *gin.Context) error { return h.serve(c, adaptor.ModeSpeech) }

// AudioTranscriptions relays POST /v1/audio/transcriptions (multipart).
func (h *Relay) AudioTranscriptions(c *gin.Context) error {
	return h.serve(c, adaptor.ModeTranscription)
}

// AudioTranslations relays POST /v1/audio/translations (multipart).
func (h *Relay) AudioTranslations(c *gin.Context) error { return h.serve(c, adaptor.ModeTranslation) }

// Messages relays POST /v1/messages, Anthropic's Messages API, to any
// channel serving the model: passed through to Anthropic channels,
// converted for the others.
func (h *Relay) Messages(c *gin.Context) error {
	return h.Engine.Serve(c.Writer, c.Request, caller(c), anthropicfront.Front{}, adaptor.ModeChat)
}

// callerScope is the group a /v1 caller reaches and its token's allow-list.
func (h *Relay) callerScope(c *gin.Context) (string, func(string) bool) {
	return c.GetString(middleware.KeyGroup), middleware.TokenOf(c).AllowsModel
}
