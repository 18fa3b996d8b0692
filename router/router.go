// Package router says which URL goes to which handler behind which
// middleware. It holds no logic.
package router

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/config"
	"switchyard/common/errs"
	"switchyard/controller"
	"switchyard/middleware"
	"switchyard/model"
	"switchyard/web"
)

// deps is what the route files share.
type deps struct {
	cfg       config.Config
	store     *model.Store
	h         *controller.Handler
	auth      middleware.Auth
	limiter   middleware.Limiter
	turnstile gin.HandlerFunc
	critical  gin.HandlerFunc
}

// New builds the whole HTTP surface.
func New(cfg config.Config, store *model.Store, h *controller.Handler) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = false
	trustProxies(r, cfg.TrustedProxies)

	d := &deps{cfg: cfg, store: store, h: h, auth: middleware.Auth{Store: store}, limiter: middleware.NewLimiter(store.Redis, cfg.RedisKeyPrefix)}
	d.turnstile = middleware.Turnstile{Options: store.Options, VerifyURL: cfg.TurnstileVerifyURL}.Check()
	d.critical = middleware.RateLimit(d.limiter, "critical", cfg.CriticalRateLimit, 20*time.Minute)

	r.Use(middleware.RequestID(), middleware.Logger(), middleware.Recovery())
	r.GET("/healthz", h.Healthz)
	r.GET("/readyz", handle(h.Readyz))

	api := r.Group("/api",
		middleware.Style(errs.StyleManagement),
		middleware.BodyLimit(int64(cfg.MaxRequestBodyMB)<<20),
		middleware.RateLimit(d.limiter, "api", cfg.GlobalAPIRateLimit, 3*time.Minute),
		middleware.Sessions(cfg),
	)
	miscRoutes(api, d)
	userRoutes(api, d)
	tokenRoutes(api, d)
	redemptionRoutes(api, d)
	logRoutes(api, d)
	relayRoutes(r, api, d)

	// The console answers every other GET; its own rate limit applies.
	console := web.Handler()
	webLimit := middleware.RateLimit(d.limiter, "web", cfg.GlobalWebRateLimit, 3*time.Minute)
	r.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		switch {
		case strings.HasPrefix(p, "/api/") || p == "/api":
			errs.SetStyle(c, errs.StyleManagement)
			handle(h.NotFoundAPI)(c)
		case strings.HasPrefix(p, "/v1/") || p == "/v1":
			errs.SetStyle(c, errs.StyleOpenAI)
			errs.Render(c, errs.NotFound("unknown URL %s %s", c.Request.Method, p))
		case c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead:
			middleware.MarkStatic(c)
			webLimit(c)
			if !c.IsAborted() {
				console.ServeHTTP(c.Writer, c.Request)
			}
		default:
			c.String(http.StatusNotFound, "404 page not found")
		}
	})
	return r
}

// trustProxies makes the client IP the socket's peer unless that peer is
// one of proxies; only then are X-Forwarded-For and X-Real-IP believed.
// handle is controller.Handle: a handler that returns its error, rendered
// in the route's style.
func handle(fn func(*gin.Context) error) gin.HandlerFunc { return controller.Handle(fn) }

func trustProxies(r *gin.Engine, proxies []netip.Prefix) {
	list := make([]string, len(proxies))
	for i, p := range proxies {
		list[i] = p.String()
	}
	// Every entry was parsed by config.Load, so this cannot fail.
	_ = r.SetTrustedProxies(list)
	r.ForwardedByClientIP = len(list) > 0
	r.RemoteIPHeaders = []string{"X-Forwarded-For", "X-Real-IP"}
}

func miscRoutes(api *gin.RouterGroup, d *deps) {
	api.GET("/status", handle(d.h.Status))
	api.GET("/notice", d.h.Notice)
	api.GET("/about", d.h.About)
	api.GET("/home_page_content", handle(d.h.HomePageContent))
	api.GET("/verification", d.critical, d.turnstile, handle(d.h.SendEmailVerification))
	api.GET("/reset_password", d.critical, d.turnstile, handle(d.h.SendPasswordResetEmail))
	api.GET("/oauth/email/bind", d.critical, d.auth.User(), handle(d.h.BindEmail))
	api.GET("/oauth/state", d.critical, handle(d.h.OAuthState))
	api.GET("/oauth/github", d.critical, handle(d.h.GitHubOAuth))
	api.GET("/oauth/oidc", d.critical, handle(d.h.OIDCOAuth))
	api.GET("/oauth/lark", d.critical, handle(d.h.LarkOAuth))
	api.GET("/oauth/wechat", d.critical, handle(d.h.WeChatOAuth))
	api.GET("/oauth/wechat/bind", d.critical, d.auth.User(), handle(d.h.WeChatBind))
	api.GET("/group/", d.auth.Admin(), handle(d.h.ListGroups))
	api.GET("/option/", d.auth.Root(), handle(d.h.GetOptions))
	api.PUT("/option/", d.auth.Root(), handle(d.h.UpdateOption))
}
