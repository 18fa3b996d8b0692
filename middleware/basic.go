// Package middleware holds the request chain: request ids, logging,
// recovery, body limits, error style, authentication, rate limits,
// Turnstile and CORS.
package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
)

// Context keys set by the auth middleware.
const (
	KeyUserID   = "id"
	KeyUsername = "username"
	KeyRole     = "role"
	KeyGroup    = "group"
)

// RequestID gives every request an id, taken from a sane incoming
// X-Request-Id or made fresh, and echoes it on the reply.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 || !printableASCII(id) {
			id = newRequestID(time.Now())
		}
		c.Set(errs.RequestIDKey, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// newRequestID is the time to the second, as One API's ids read, and 8
// random letters and digits. The ids only tell calls apart in logs and
// replies, so the runtime's generator serves: crypto/rand and a time
// format per call took 280 ns warm and about 8 µs of a call that starts
// on cold caches, the costliest step before auth (issue 14).
func newRequestID(now time.Time) string {
	now = now.UTC()
	p := idPrefix.Load()
	if p == nil || p.sec != now.Unix() {
		p = &requestIDPrefix{sec: now.Unix()}
		now.AppendFormat(p.text[:0], "20060102150405")
		idPrefix.Store(p)
	}
	var b [len(p.text) + 8]byte
	copy(b[:], p.text[:])
	// 62^8 is below 2^48: the bias of one 64-bit draw is under 2^-16.
	r := rand.Uint64()
	for i := len(p.text); i < len(b); i++ {
		b[i] = idAlphabet[r%uint64(len(idAlphabet))]
		r /= uint64(len(idAlphabet))
	}
	return string(b[:])
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// requestIDPrefix is the formatted second of the ids made in it.
type requestIDPrefix struct {
	sec  int64
	text [14]byte
}

var idPrefix atomic.Pointer[requestIDPrefix]

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Logger writes one structured line per request.
func Logger() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		// The console's own files are many per page load and say nothing
		// an operator needs; they log at debug unless they failed.
		level := slog.LevelInfo
		if c.GetBool(keyStatic) && c.Writer.Status() < 500 {
			level = slog.LevelDebug
		}
		ctx := c.Request.Context()
		h := slog.Default().Handler()
		if !h.Enabled(ctx, level) {
			return
		}
		// Typed attributes in a fixed array: one line per request is on
		// every relayed call's path, and boxing each value into an any
		// allocated.
		var buf [7]slog.Attr
		attrs := append(buf[:0],
			slog.String("request_id", c.GetString(errs.RequestIDKey)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("ip", ClientIP(c)),
		)
		if id := c.GetInt(KeyUserID); id != 0 {
			attrs = append(attrs, slog.Int("user_id", id))
		}
		// A record of our own, without the caller's PC: Logger.LogAttrs
		// walks the stack for it on every call, and the line names its
		// source by its message.
		r := slog.NewRecord(time.Now(), level, "request", 0)
		r.AddAttrs(attrs...)
		access.add(r)
	}
}

const keyClientIP = "switchyard.client_ip"

// ClientIP is gin's ClientIP (the peer, or the forwarded address when the
// peer is a trusted proxy), worked out once per request: token auth, the
// relay's caller and the access log each need it, and each call parsed the
// peer's address and walked the trusted networks again.
func ClientIP(c *gin.Context) string {
	if ip, ok := c.Get(keyClientIP); ok {
		return ip.(string)
	}
	ip := c.ClientIP()
	c.Set(keyClientIP, ip)
	return ip
}

const keyStatic = "switchyard.static"

// MarkStatic tells Logger that c serves a file of the console.
func MarkStatic(c *gin.Context) { c.Set(keyStatic, true) }

// Recovery turns a panic into a 500 in the route's own error shape. A
// deliberate abort (http.ErrAbortHandler) is re-raised so net/http cuts the
// connection rather than sending a silently truncated answer.
func Recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			slog.Error("panic", "request_id", c.GetString(errs.RequestIDKey), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				panic(http.ErrAbortHandler)
			}
			errs.Render(c, errs.Internal(fmt.Errorf("panic: %v", r)))
		}()
		c.Next()
	}
}

// Style sets the error shape for the routes behind it.
func Style(s errs.Style) gin.HandlerFunc {
	return func(c *gin.Context) { errs.SetStyle(c, s); c.Next() }
}

// AnthropicStyleIfAsked answers in Anthropic's error shape when the caller
// sends anthropic-version, as Anthropic's SDKs always do: a shared route
// such as GET /v1/models then fails the way that client reads.
func AnthropicStyleIfAsked() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetHeader("anthropic-version") != "" {
			errs.SetStyle(c, errs.StyleAnthropic)
		}
		c.Next()
	}
}

// BodyLimit caps request bodies at maxBytes. A declared length over the cap
// is refused at once; an undeclared one fails when the reader crosses it.
func BodyLimit(maxBytes int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > maxBytes {
			errs.Render(c, errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is larger than %d MiB", maxBytes>>20))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBytes)
		}
		c.Next()
	}
}

// CORS answers browsers calling /v1 from other origins, as OpenAI does.
// A preflight gets the methods and headers allowed; an actual answer needs
// only the origin and the headers a script may read, so every relayed
// answer does not carry (and build) the preflight's half-kilobyte.
func CORS() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h["Access-Control-Allow-Origin"] = corsOrigin
		h["Access-Control-Expose-Headers"] = corsExpose
		if c.Request.Method == http.MethodOptions {
			h["Access-Control-Allow-Methods"] = corsMethods
			h["Access-Control-Allow-Headers"] = corsHeaders
			h["Access-Control-Max-Age"] = corsMaxAge
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// The CORS header values, shared by every answer (net/http only reads
// them).
var (
	corsOrigin  = []string{"*"}
	corsExpose  = []string{"X-Request-Id, X-Ratelimit-Limit-Requests, X-Ratelimit-Remaining-Requests, X-Ratelimit-Reset-Requests, X-Ratelimit-Limit-Tokens, X-Ratelimit-Remaining-Tokens, X-Ratelimit-Reset-Tokens, Retry-After"}
	corsMethods = []string{"GET, POST, PUT, PATCH, DELETE, OPTIONS"}
	corsHeaders = []string{"Authorization, Content-Type, X-Api-Key, Anthropic-Version, Anthropic-Beta, OpenAI-Organization, OpenAI-Project, X-Request-Id, X-Stainless-Lang, X-Stainless-Package-Version, X-Stainless-OS, X-Stainless-Arch, X-Stainless-Runtime, X-Stainless-Runtime-Version, X-Stainless-Retry-Count, X-Stainless-Timeout"}
	corsMaxAge  = []string{"86400"}
)
