package router

import (
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"switchyard/common/errs"
	"switchyard/controller"
	"switchyard/middleware"
	"switchyard/relay"
)

// relayRoutes builds the relay engine and mounts the channel and model
// endpoints, the /v1 relay and, when METRICS_ENABLED is set, /metrics.
func relayRoutes(r *gin.Engine, api *gin.RouterGroup, d *deps) {
	// A registry of our own, not the global one: two apps in one test
	// process must not collide.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	engine := relay.New(d.cfg, d.store, relay.StoreLedger{L: d.store.Ledger}, reg)
	d.store.AtClose(engine.Close)
	if d.cfg.IsMaster() {
		engine.StartMonitor()
	}
	rh := &controller.Relay{Store: d.store, Engine: engine}
	channelRoutes(api, d, rh)
	api.GET("/models", d.auth.User(), handle(rh.ModelsByType))
	api.GET("/user/available_models", d.auth.User(), handle(rh.AvailableModels))
	v1 := r.Group("/v1",
		middleware.Style(errs.StyleOpenAI),
		middleware.AnthropicStyleIfAsked(),
		middleware.CORS(),
		middleware.BodyLimit(int64(d.cfg.MaxRequestBodyMB)<<20),
		middleware.TokenAuth{Store: d.store}.Check(),
	)
	// Browsers preflight cross-origin calls; CORS answers them before
	// TokenAuth asks for a key.
	v1.OPTIONS("/*path", func(*gin.Context) {})
	v1.GET("/models", handle(rh.ListModels))
	v1.GET("/models/:model", handle(rh.GetModel))
	v1.POST("/chat/completions", handle(rh.ChatCompletions))
	v1.POST("/completions", handle(rh.Completions))
	v1.POST("/embeddings", handle(rh.Embeddings))
	v1.POST("/engines/:model/embeddings", handle(rh.EngineEmbeddings))
	v1.POST("/moderations", handle(rh.Moderations))
	v1.POST("/images/generations", handle(rh.ImageGenerations))
	v1.POST("/images/edits", handle(rh.ImageEdits))
	v1.POST("/audio/speech", handle(rh.AudioSpeech))
	v1.POST("/audio/transcriptions", handle(rh.AudioTranscriptions))
	v1.POST("/audio/translations", handle(rh.AudioTranslations))
	v1.POST("/responses", handle(rh.Responses))
	v1.GET("/responses/:id", handle(rh.StoredResponse))
	v1.DELETE("/responses/:id", handle(rh.StoredResponse))
	v1.GET("/responses/:id/input_items", handle(rh.StoredResponse))
	v1.POST("/responses/:id/cancel", handle(rh.StoredResponse))
	v1.POST("/rerank", handle(rh.Rerank))
	// Anthropic's Messages API answers in Anthropic's error shape, from
	// authentication on.
	r.POST("/v1/messages",
		middleware.Style(errs.StyleAnthropic),
		middleware.CORS(),
		middleware.BodyLimit(int64(d.cfg.MaxRequestBodyMB)<<20),
		middleware.TokenAuth{Store: d.store}.Check(),
		handle(rh.Messages),
	)
	// The console's playground: the signed-in user names one of their
	// tokens (middleware.TokenAuth.Playground) and the call is then the
	// /v1 chat completion of that token, billed and logged the same way.
	r.POST("/pg/chat/completions",
		middleware.Style(errs.StyleOpenAI),
		middleware.BodyLimit(int64(d.cfg.MaxRequestBodyMB)<<20),
		middleware.Sessions(d.cfg),
		d.auth.User(),
		middleware.TokenAuth{Store: d.store}.Playground(),
		handle(rh.ChatCompletions),
	)
	r.POST("/v1/messages/count_tokens",
		middleware.Style(errs.StyleAnthropic),
		middleware.CORS(),
		middleware.BodyLimit(int64(d.cfg.MaxRequestBodyMB)<<20),
		middleware.TokenAuth{Store: d.store}.Check(),
		handle(rh.CountTokens),
	)
	// Google's Gemini API (generateContent, streamGenerateContent) answers
	// in Google's error shape.
	r.POST("/v1beta/models/*call",
		middleware.Style(errs.StyleGemini),
		middleware.CORS(),
		middleware.BodyLimit(int64(d.cfg.MaxRequestBodyMB)<<20),
		middleware.TokenAuth{Store: d.store}.Check(),
		handle(rh.Gemini),
	)
	// OpenAI's retired billing endpoints, which chat clients still call
	// for a key's balance (controller/billing.go), with and without /v1 as
	// in One API. They read rows, so the API's rate limit applies, and a
	// token with nothing left is answered (its balance is 0), not refused.
	apiLimit := middleware.RateLimit(d.limiter, "api", d.cfg.GlobalAPIRateLimit, 3*time.Minute)
	for _, prefix := range []string{"/v1/dashboard/billing", "/dashboard/billing"} {
		b := r.Group(prefix,
			middleware.Style(errs.StyleOpenAI),
			middleware.CORS(),
			apiLimit,
			middleware.TokenAuth{Store: d.store, Inquiry: true}.Check(),
		)
		if prefix == "/dashboard/billing" {
			// /v1's preflights are answered above.
			b.OPTIONS("/*path", func(*gin.Context) {})
		}
		b.GET("/subscription", handle(rh.BillingSubscription))
		b.GET("/usage", handle(rh.BillingUsage))
	}
	if d.cfg.MetricsEnabled {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	}
}
