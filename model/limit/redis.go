package limit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis/v8"
)

// Keys, under REDIS_KEY_PREFIX + "rl:":
//
//	<subject>:r:<minute>   requests admitted in that minute (expires after 2)
//	<subject>:d:<day>      requests admitted that day (expires after 2 days)
//	<subject>:t:<minute>   tokens settled in that minute
//	<subject>:h            estimates held by calls in flight, per node
//	<subject>:p            calls in flight, per node
//	node:<node>            a node's heartbeat
//
// Holds are kept per node so that those of a node that died (its heartbeat
// expired) are dropped by the next call that reads them, instead of
// leaking a parallel slot for ever. The scripts name keys they build from
// ARGV, as the shared ledger's do: Switchyard runs on one Redis, not a
// cluster.

// admitScript: ARGV prefix, node, minute, day, estimate, rule count, then
// per rule subject, rpm, tpm, rpd, parallel. Returns {ok, then per rule
// minute requests, day requests, minute tokens, held, parallel} as they
// were before the call.
var admitScript = redis.NewScript(`
local p, node, minute, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local est, n = tonumber(ARGV[5]), tonumber(ARGV[6])
local function live(h)
  local kv = redis.call('HGETALL', h)
  local sum = 0
  for i = 1, #kv, 2 do
    if kv[i] == node or redis.call('EXISTS', p .. 'node:' .. kv[i]) == 1 then
      sum = sum + tonumber(kv[i + 1])
    else
      redis.call('HDEL', h, kv[i])
    end
  end
  return sum
end
local out = {1}
for i = 0, n - 1 do
  local b = 7 + i * 5
  local s = p .. ARGV[b]
  local rpm, tpm, rpd, par = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local mr, dr, mt, held, pc = 0, 0, 0, 0, 0
  if rpm > 0 then mr = tonumber(redis.call('GET', s .. ':r:' .. minute) or '0') end
  if rpd > 0 then dr = tonumber(redis.call('GET', s .. ':d:' .. day) or '0') end
  if tpm > 0 then
    mt = tonumber(redis.call('GET', s .. ':t:' .. minute) or '0')
    held = live(s .. ':h')
  end
  if par > 0 then pc = live(s .. ':p') end
  if (rpm > 0 and mr >= rpm) or (rpd > 0 and dr >= rpd) or
     (tpm > 0 and mt + held > 0 and mt + held + est > tpm) or (par > 0 and pc >= par) then
    out[1] = 0
  end
  local o = #out
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = mr, dr, mt, held, pc
end
if out[1] == 0 then return out end
for i = 0, n - 1 do
  local b = 7 + i * 5
  local s = p .. ARGV[b]
  if tonumber(ARGV[b + 1]) > 0 then
    local k = s .. ':r:' .. minute
    if redis.call('INCR', k) == 1 then redis.call('EXPIRE', k, 120) end
  end
  if tonumber(ARGV[b + 3]) > 0 then
    local k = s .. ':d:' .. day
    if redis.call('INCR', k) == 1 then redis.call('EXPIRE', k, 172800) end
  end
  if tonumber(ARGV[b + 2]) > 0 then redis.call('HINCRBY', s .. ':h', node, est) end
  if tonumber(ARGV[b + 4]) > 0 then redis.call('HINCRBY', s .. ':p', node, 1) end
end
return out
`)

// settleScript: ARGV prefix, node, minute, estimate, tokens, rule count,
// then per rule subject, tpm (0/1), parallel (0/1).
var settleScript = redis.NewScript(`
local p, node, minute = ARGV[1], ARGV[2], ARGV[3]
local est, tokens, n = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function drop(h, by)
  if redis.call('HINCRBY', h, node, -by) <= 0 then redis.call('HDEL', h, node) end
end
for i = 0, n - 1 do
  local b = 7 + i * 3
  local s = p .. ARGV[b]
  if ARGV[b + 1] == '1' then
    drop(s .. ':h', est)
    if tokens > 0 and redis.call('INCRBY', s .. ':t:' .. minute, tokens) == tokens then
      redis.call('EXPIRE', s .. ':t:' .. minute, 120)
    end
  end
  if ARGV[b + 2] == '1' then drop(s .. ':p', 1) end
end
return 1
`)

// admitOp builds the admit script's call; it is sent through the queue
// (Pending.Result) or on another round trip (Pending.Board).
func (l *Limiter) admitOp(rules []Rule, estimate int64, now time.Time) *redisOp {
	args := make([]any, 0, 6+5*len(rules))
	args = append(args, l.prefix, l.node, minuteOf(now), dayOf(now), estimate, len(rules))
	for _, r := range rules {
		args = append(args, r.Subject, r.RPM, r.TPM, r.RPD, r.Parallel)
	}
	return &redisOp{script: admitScript, args: args, done: make(chan *redis.Cmd, 1)}
}

// finishRedis reads the admit script's answer.
func finishRedis(cmd *redis.Cmd, n int) ([]usage, bool, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return nil, false, err
	}
	if len(res) != 1+5*n {
		return nil, false, fmt.Errorf("rate-limit script answered %d values", len(res))
	}
	used := make([]usage, n)
	for i := range used {
		v := res[1+5*i:]
		used[i] = usage{minReqs: v[0], dayReqs: v[1], minTokens: v[2], held: v[3], parallel: v[4]}
	}
	return used, res[0] == 1, nil
}

func (l *Limiter) settleRedis(ctx context.Context, rules []Rule, estimate, tokens int64, now time.Time) {
	l.do(ctx, l.settleOp(rules, estimate, tokens, now))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// settleOp builds the settle script's call for a ticket.
func (l *Limiter) settleOp(rules []Rule, estimate, tokens int64, now time.Time) *redisOp {
	args := make([]any, 0, 6+3*len(rules))
	args = append(args, l.prefix, l.node, minuteOf(now), estimate, tokens, len(rules))
	for _, r := range rules {
		args = append(args, r.Subject, flag(r.TPM > 0), flag(r.Parallel > 0))
	}
	// Nobody waits for a settle; if it fails the holds stay in Redis until
	// this node's heartbeat lapses, and the tokens are counted here so the
	// node still limits.
	return &redisOp{script: settleScript, args: args, failed: func(err error) {
		logSettleFailure(err)
		l.mem.count(rules, tokens, now)
	}}
}
