package controller

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
)

// Status tells a console what it needs before sign-in (GET /api/status).
func (h *Handler) Status(c *gin.Context) error {
	snap := h.Store.Options.Get()
	ok(c, gin.H{
		"version":                   Version,
		"start_time":                h.Started.Unix(),
		"system_name":               snap.String("SystemName"),
		"logo":                      snap.String("Logo"),
		"footer_html":               snap.String("Footer"),
		"server_address":            snap.String("ServerAddress"),
		"top_up_link":               snap.String("TopUpLink"),
		"chat_link":                 snap.String("ChatLink"),
		"register_enabled":          snap.Bool("RegisterEnabled"),
		"password_login_enabled":    snap.Bool("PasswordLoginEnabled"),
		"password_register_enabled": snap.Bool("PasswordRegisterEnabled"),
		"email_verification":        snap.Bool("EmailVerificationEnabled"),
		"turnstile_check":           snap.Bool("TurnstileCheckEnabled"),
		"turnstile_site_key":        snap.String("TurnstileSiteKey"),
		"quota_per_unit":            snap.Float("QuotaPerUnit"),
		"display_in_currency":       snap.Bool("DisplayInCurrencyEnabled"),
		"display_token_stat":        snap.Bool("DisplayTokenStatEnabled"),
		"github_oauth":              githubEnabled(snap),
		"github_client_id":          snap.String("GitHubClientId"),
		// Not One API's: where the console sends the browser, so a GitHub
		// Enterprise server (GITHUB_URL) works without a rebuilt console.
		"github_authorize_url":        strings.TrimRight(h.Cfg.GitHubURL, "/") + "/login/oauth/authorize",
		"oidc":                        oidcEnabled(snap),
		"oidc_client_id":              snap.String("OidcClientId"),
		"oidc_authorization_endpoint": snap.String("OidcAuthorizationEndpoint"),
		// Not One API's: the console's authorize request must carry the
		// redirect_uri the token request will.
		"oidc_redirect_uri": oidcRedirectURL(snap),
		"wechat_login":      wechatEnabled(snap),
		"wechat_qrcode":     snap.String("WeChatAccountQRCodeImageURL"),
		// One API sends the id whenever it is set; "" here until the
		// secret is too, so the console offers Lark only once it works.
		"lark_client_id": larkClientID(snap),
		// Not One API's: where the console sends the browser (LARK_URL)
		// and the redirect_uri the token request will repeat.
		"lark_authorize_url": h.larkAuthorizeURL(),
		"lark_redirect_uri":  larkRedirectURL(snap),
	})
	return nil
}

// Notice returns the Notice option (GET /api/notice).
func (h *Handler) Notice(c *gin.Context) { ok(c, h.Store.Options.Get().String("Notice")) }

// About returns the About option (GET /api/about).
func (h *Handler) About(c *gin.Context) { ok(c, h.Store.Options.Get().String("About")) }

// HomePageContent returns the HomePageContent option (GET /api/home_page_content).
func (h *Handler) HomePageContent(c *gin.Context) error {
	ok(c, h.Store.Options.Get().String("HomePageContent"))
	return nil
}

// Healthz answers while the process is up (GET /healthz).
func (h *Handler) Healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// Readyz answers 200 when the database is reachable, 503 otherwise
// (GET /readyz), so a load balancer stops sending traffic to a node that
// lost its database. Redis being away is reported but keeps the node
// ready: the ledger serves from local shares meanwhile. The ledger's
// backlog (settlements and checkpoints not yet written, the batch in
// flight and batches waiting for a retry included) is in the detail.
func (h *Handler) Readyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	st := h.Store.Ledger.Status()
	detail := gin.H{"ledger_backlog": st.Backlog, "ledger_retrying_batches": st.RetryingBatches}
	if h.Store.Redis != nil {
		detail["redis"] = "ok"
		if st.RedisOffline {
			detail["redis"] = "unreachable: reserving from this node's local shares"
		}
	}
	if err := h.Store.Ping(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": "database unreachable", "detail": detail})
		return nil
	}
	status := "ok"
	if st.RedisOffline {
		status = "degraded"
	}
	c.JSON(http.StatusOK, gin.H{"status": status, "detail": detail})
	return nil
}

// notFoundAPI answers unknown /api paths in the management shape.
func (h *Handler) NotFoundAPI(c *gin.Context) error {
	return errs.NotFound("no such endpoint: %s %s", c.Request.Method, c.Request.URL.Path)
}
