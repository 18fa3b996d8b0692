package middleware

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/model"
)

// Turnstile checks Cloudflare Turnstile tokens on the routes behind it when
// the TurnstileCheckEnabled option is on. The token comes in the
// "turnstile" query parameter, as One API's console sends it.
type Turnstile struct {
	Options *model.Options
	// VerifyURL is the siteverify endpoint (config TURNSTILE_VERIFY_URL).
	VerifyURL string
	// Client makes the siteverify call; nil means a client with a 10 s timeout.
	Client *http.Client
}

// Check is the middleware.
func (t Turnstile) Check() gin.HandlerFunc {
	client := t.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return func(c *gin.Context) {
		snap := t.Options.Get()
		if !snap.Bool("TurnstileCheckEnabled") {
			c.Next()
			return
		}
		token := c.Query("turnstile")
		if token == "" {
			errs.Render(c, errs.BadRequest("Turnstile token is missing: complete the human check and try again"))
			return
		}
		form := url.Values{
			"secret":   {snap.String("TurnstileSecretKey")},
			"response": {token},
			"remoteip": {ClientIP(c)},
		}
		req, err := http.NewRequestWithContext(c.Request.Context(), http.MethodPost, t.VerifyURL, strings.NewReader(form.Encode()))
		if err != nil {
			errs.Render(c, errs.Internal(err))
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			errs.Render(c, errs.New(http.StatusBadGateway, errs.KindUpstream, "could not reach the Turnstile verifier"))
			return
		}
		defer resp.Body.Close()
		var out struct {
			Success    bool     `json:"success"`
			ErrorCodes []string `json:"error-codes"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
			errs.Render(c, errs.New(http.StatusBadGateway, errs.KindUpstream, "the Turnstile verifier answered with something unreadable"))
			return
		}
		if !out.Success {
			errs.Render(c, errs.Forbidden("Turnstile check failed (%s): try again", strings.Join(out.ErrorCodes, ", ")))
			return
		}
		c.Next()
	}
}
