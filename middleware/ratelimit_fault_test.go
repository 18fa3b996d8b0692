package middleware_test

import (
	"testing"
	"time"

	"switchyard/internal/faultproxy"
	"switchyard/internal/testkit"
)

// TestRateLimitsHoldWhileRedisIsAway is part of defect 2 of issue 13:
// with Redis unreachable the limits stopped limiting. They now count per
// node in memory until Redis answers.
func TestRateLimitsHoldWhileRedisIsAway(t *testing.T) {
	for _, db := range testkit.Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			rs := testkit.StartRedis(t)
			p := faultproxy.Start(t, rs.Addr())
			env := limitedEnv("GLOBAL_API_RATE_LIMIT", 5)
			env["REDIS_CONN_STRING"] = "redis://" + p.Addr() + "/0"
			app := testkit.Start(t, db, env)
			p.Refuse()
			steps := []step{}
			for range 5 {
				steps = append(steps, step{"GET", "/api/status", nil, 200})
			}
			steps = append(steps, step{"GET", "/api/status", nil, 429}, step{"GET", "/healthz", nil, 200})
			wantLimited(t, app, 3*time.Minute, steps)
		})
	}
}
