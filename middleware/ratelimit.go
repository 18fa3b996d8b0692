package middleware

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis/v8"

	"switchyard/common/errs"
)

// Limiter counts requests per key in fixed windows. Allow reports whether
// one more request fits under limit in the current window.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, error)
}

// NewLimiter returns a Redis-backed limiter when rdb is set, so limits hold
// across nodes, and an in-memory one otherwise. While Redis cannot be
// reached the Redis-backed one counts in this node's memory instead, so
// limits keep limiting (per node) rather than failing or letting all in.
func NewLimiter(rdb *redis.Client, prefix string) Limiter {
	mem := &memoryLimiter{counts: map[string]*windowCount{}}
	if rdb != nil {
		return &redisLimiter{rdb: rdb, prefix: prefix, local: mem}
	}
	return mem
}

// RateLimit refuses a client IP's requests beyond limit per window with 429
// in the route's error shape. name separates the counters of different
// limits; a limit of zero turns the middleware off.
func RateLimit(l Limiter, name string, limit int, window time.Duration) gin.HandlerFunc {
	if limit <= 0 {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		ok, err := l.Allow(c.Request.Context(), name+":"+ClientIP(c), limit, window)
		if err != nil {
			// A limiter that cannot count must not take the service down.
			c.Next()
			return
		}
		if !ok {
			c.Header("Retry-After", strconv.Itoa(int(window.Seconds())))
			errs.Render(c, errs.TooManyRequests("too many requests: at most %d per %s, try again later", limit, window))
			return
		}
		c.Next()
	}
}

type windowCount struct {
	window int64
	n      int
}

type memoryLimiter struct {
	mu     sync.Mutex
	counts map[string]*windowCount
	swept  int64
}

func (m *memoryLimiter) Allow(_ context.Context, key string, limit int, window time.Duration) (bool, error) {
	now := time.Now().UnixNano()
	w := now / int64(window)
	m.mu.Lock()
	defer m.mu.Unlock()
	// Drop counters of past windows now and then so idle IPs cost nothing.
	if now-m.swept > int64(time.Minute) {
		for k, c := range m.counts {
			if c.window*int64(window) < now-int64(time.Hour) {
				delete(m.counts, k)
			}
		}
		m.swept = now
	}
	c := m.counts[key]
	if c == nil || c.window != w {
		c = &windowCount{window: w}
		m.counts[key] = c
	}
	if c.n >= limit {
		return false, nil
	}
	c.n++
	return true, nil
}

type redisLimiter struct {
	rdb    *redis.Client
	prefix string
	local  *memoryLimiter
	// downUntil (unix nanoseconds) skips Redis for a moment after it
	// failed, so an outage costs one timeout now and then, not one per
	// request.
	downUntil atomic.Int64
	warned    atomic.Bool
}

// redisRetry is how long the limiter counts locally after Redis failed
// before it tries Redis again.
const redisRetry = time.Second

func (r *redisLimiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, error) {
	now := time.Now().UnixNano()
	if now < r.downUntil.Load() {
		return r.local.Allow(ctx, key, limit, window)
	}
	w := now / int64(window)
	k := r.prefix + "rl:" + key + ":" + strconv.FormatInt(w, 10)
	pipe := r.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Expire(ctx, k, window+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		if ctx.Err() != nil {
			return false, err
		}
		r.downUntil.Store(now + int64(redisRetry))
		if !r.warned.Swap(true) {
			slog.Warn("rate limits: redis unreachable; counting per node in memory until it answers", "err", err)
		}
		return r.local.Allow(ctx, key, limit, window)
	}
	if r.warned.Swap(false) {
		slog.Info("rate limits: redis answers again; counting across nodes")
	}
	return incr.Val() <= int64(limit), nil
}
