package errs

import (
	"log/slog"

	"github.com/gin-gonic/gin"
)

// Style is the error shape a route answers in.
type Style int

// The API styles.
const (
	// StyleManagement is {"success": false, "message": "..."}.
	StyleManagement Style = iota
	// StyleOpenAI is {"error": {"message", "type", "param", "code"}}.
	StyleOpenAI
	// StyleAnthropic is {"type": "error", "error": {"type", "message"}}.
	StyleAnthropic
	// StyleGemini is {"error": {"code", "message", "status"}} (Google's).
	StyleGemini
)

const styleKey = "switchyard.errstyle"

// RequestIDKey is the gin context key holding the request id.
const RequestIDKey = "switchyard.request_id"

// SetStyle records the route's error style; middleware does it per group.
func SetStyle(c *gin.Context, s Style) { c.Set(styleKey, s) }

// StyleOf returns the route's error style, management by default.
func StyleOf(c *gin.Context) Style {
	if v, ok := c.Get(styleKey); ok {
		return v.(Style)
	}
	return StyleManagement
}

// Render writes err in the route's style and aborts the chain. It is the
// only place errors become replies.
func Render(c *gin.Context, err error) {
	e := As(err)
	if e.Status >= 500 {
		slog.Error("request failed", "request_id", c.GetString(RequestIDKey), "path", c.Request.URL.Path, "status", e.Status, "err", e.Error())
	}
	_ = c.Error(e)
	msg := e.PublicMessage()
	switch StyleOf(c) {
	case StyleOpenAI:
		if id := c.GetString(RequestIDKey); id != "" {
			msg += " (request id: " + id + ")"
		}
		var code any
		if e.Code != "" {
			code = e.Code
		}
		var param any
		if e.Param != "" {
			param = e.Param
		}
		c.AbortWithStatusJSON(e.Status, gin.H{"error": gin.H{"message": msg, "type": string(e.Kind), "param": param, "code": code}})
	case StyleAnthropic:
		c.AbortWithStatusJSON(e.Status, gin.H{"type": "error", "error": gin.H{"type": anthropicType(e), "message": msg}})
	case StyleGemini:
		c.AbortWithStatusJSON(e.Status, geminiBody(e, msg))
	default:
		body := gin.H{"success": false, "message": msg}
		// The code lets the console show its own translation; the message
		// stays for scripts and as the console's fallback.
		if e.Code != "" {
			body["code"] = e.Code
		}
		c.AbortWithStatusJSON(e.Status, body)
	}
}

// AnthropicType is the Anthropic error type for e, for in-stream error
// events written outside Render.
func AnthropicType(e *Error) string { return anthropicType(e) }

// anthropicType maps a kind onto Anthropic's documented error types.
func anthropicType(e *Error) string {
	switch e.Kind {
	case KindInvalidRequest, KindTooLarge:
		if e.Status == 413 {
			return "request_too_large"
		}
		return "invalid_request_error"
	case KindAuthentication:
		return "authentication_error"
	case KindPermission, KindInsufficientQuota:
		return "permission_error"
	case KindNotFound:
		return "not_found_error"
	case KindRateLimit:
		return "rate_limit_error"
	case KindUnavailable:
		return "overloaded_error"
	default:
		return "api_error"
	}
}
