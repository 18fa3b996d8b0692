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
//	<subject>:t:<minute>   tokens settled in that minute, plus the estimates
//	                       of calls in flight then (expires after 2)
//	<subject>:p            calls in flight, per node
//	node:<node>            a node's heartbeat
//
// A call's estimate is counted into the minute it was admitted in; at
// each minute's turn the node adds the estimates of its calls still in
// flight to the new minute (carry), and a settle adds the call's tokens
// less its estimate where the estimate is. So a minute's counter is what
// settled in it plus what is in flight, read with one GET-free INCRBY. A
// node that dies stops carrying: its calls' estimates go with the minute
// they were counted in. Parallel slots are held per node, so those of a
// node that died (its heartbeat expired) are dropped by the next call
// that reads them instead of leaking for ever. The scripts name keys they
// build from ARGV, as the shared ledger's do: Switchyard runs on one
// Redis, not a cluster.

// admitScript: ARGV prefix, node, minute, day, estimate, rule count, the
// largest slice of requests and of tokens to grant (allowance.go), then
// per rule subject, rpm, tpm, rpd, parallel, and the minute requests, day
// requests and minute tokens this node hands back of its slices. Returns
// {ok, then per rule minute requests, day requests, minute tokens, 0,
// parallel as they were before the call, then the slices granted of
// minute requests, day requests and minute tokens}. Counters are counted
// first and given back when a rule refuses (the script runs alone, so
// nobody sees them in between). A slice is 1/16 of the room left, at most
// the cap, and none below a sixteenth of the cap.
var admitScript = redis.NewScript(`
local p, node, minute, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local est, n = tonumber(ARGV[5]), tonumber(ARGV[6])
local capr, capt = tonumber(ARGV[7]), tonumber(ARGV[8])
local out, undo, slots = {1}, {}, {}
local function giveBack(k, by)
  if by ~= '0' and redis.call('EXISTS', k) == 1 then redis.call('DECRBY', k, by) end
end
local function count(k, by, ttl)
  local v = redis.call('INCRBY', k, by)
  if v == by then redis.call('EXPIRE', k, ttl) end
  undo[#undo + 1] = k
  undo[#undo + 1] = by
  return v - by
end
for i = 0, n - 1 do
  local b = 9 + i * 8
  local s = p .. ARGV[b]
  local rpm, tpm, rpd, par = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local mr, dr, mt, pc = 0, 0, 0, 0
  giveBack(s .. ':r:' .. minute, ARGV[b + 5])
  giveBack(s .. ':d:' .. day, ARGV[b + 6])
  giveBack(s .. ':t:' .. minute, ARGV[b + 7])
  if rpm > 0 then
    mr = count(s .. ':r:' .. minute, 1, 120)
    if mr >= rpm then out[1] = 0 end
  end
  if rpd > 0 then
    dr = count(s .. ':d:' .. day, 1, 172800)
    if dr >= rpd then out[1] = 0 end
  end
  if tpm > 0 then
    mt = count(s .. ':t:' .. minute, est, 120)
    if mt > 0 and mt + est > tpm then out[1] = 0 end
  end
  if par > 0 then
    local h = s .. ':p'
    local kv = redis.call('HGETALL', h)
    for j = 1, #kv, 2 do
      if kv[j] == node or redis.call('EXISTS', p .. 'node:' .. kv[j]) == 1 then
        pc = pc + tonumber(kv[j + 1])
      else
        redis.call('HDEL', h, kv[j])
      end
    end
    if pc >= par then out[1] = 0 end
    slots[#slots + 1] = h
  end
  local o = #out
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = mr, dr, mt, 0, pc
  out[o + 6], out[o + 7], out[o + 8] = 0, 0, 0
end
if out[1] == 0 then
  for i = 1, #undo, 2 do redis.call('DECRBY', undo[i], undo[i + 1]) end
  return out
end
for _, h in ipairs(slots) do redis.call('HINCRBY', h, node, 1) end
local function grant(k, room, cap)
  local g = math.min(math.floor(room / 16), cap)
  if cap <= 0 or g * 16 < cap then return 0 end
  redis.call('INCRBY', k, g)
  return g
end
for i = 0, n - 1 do
  local b, o = 9 + i * 8, 1 + i * 8
  local s = p .. ARGV[b]
  local rpm, tpm, rpd = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  if rpm > 0 then out[o + 6] = grant(s .. ':r:' .. minute, rpm - out[o + 1] - 1, capr) end
  if rpd > 0 then out[o + 7] = grant(s .. ':d:' .. day, rpd - out[o + 2] - 1, capr) end
  if tpm > 0 then out[o + 8] = grant(s .. ':t:' .. minute, tpm - out[o + 3] - est, capt) end
end
return out
`)

// settleScript: ARGV prefix, node, minute, tokens less the estimate
// counted in that minute, rule count, then per rule subject, tpm (0/1),
// parallel (0/1).
var settleScript = redis.NewScript(`
local p, node, minute = ARGV[1], ARGV[2], ARGV[3]
local delta, n = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 0, n - 1 do
  local b = 6 + i * 3
  local s = p .. ARGV[b]
  if ARGV[b + 1] == '1' and delta ~= 0 then
    local k = s .. ':t:' .. minute
    if redis.call('INCRBY', k, delta) == delta then redis.call('EXPIRE', k, 120) end
  end
  if ARGV[b + 2] == '1' and redis.call('HINCRBY', s .. ':p', node, -1) <= 0 then
    redis.call('HDEL', s .. ':p', node)
  end
end
return 1
`)

// carryScript: ARGV prefix, minute, then pairs of subject and the
// estimates this node still has in flight for it.
var carryScript = redis.NewScript(`
local p, minute = ARGV[1], ARGV[2]
for i = 3, #ARGV, 2 do
  local k, by = p .. ARGV[i] .. ':t:' .. minute, tonumber(ARGV[i + 1])
  if redis.call('INCRBY', k, by) == by then redis.call('EXPIRE', k, 120) end
end
return 1
`)

// admitOp builds the admit script's call, handing back the slices that
// cannot serve it (used holds them); it is sent through the queue
// (Pending.Result) or on another round trip (Pending.Board).
func (l *Limiter) admitOp(rules []Rule, used []usage, estimate int64, now time.Time) *redisOp {
	l.reclaim(rules, used, minuteOf(now), dayOf(now), estimate)
	capReqs, capTokens := grantCaps(rules, estimate)
	args := make([]any, 0, 8+8*len(rules))
	args = append(args, l.prefix, l.node, minuteOf(now), dayOf(now), estimate, len(rules), capReqs, capTokens)
	for i, r := range rules {
		u := used[i]
		args = append(args, r.Subject, r.RPM, r.TPM, r.RPD, r.Parallel, u.backReqs, u.backDay, u.backTokens)
	}
	return &redisOp{script: admitScript, args: args}
}

// finishRedis reads the admit script's answer into used (of len n).
func finishRedis(cmd *redis.Cmd, used []usage) (bool, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return false, err
	}
	n := len(used)
	if len(res) != 1+8*n {
		return false, fmt.Errorf("rate-limit script answered %d values", len(res))
	}
	for i := range used {
		v := res[1+8*i:]
		used[i] = usage{minReqs: v[0], dayReqs: v[1], minTokens: v[2], held: v[3], parallel: v[4],
			grantReqs: v[5], grantDay: v[6], grantTokens: v[7]}
	}
	return res[0] == 1, nil
}

func (l *Limiter) settleRedis(ctx context.Context, t *Ticket, tokens int64, now time.Time) {
	l.do(ctx, l.settleOp(t, tokens, now))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// settleOp builds the settle script's call for a ticket kept in Redis, and
// stops carrying its estimate: the tokens replace the estimate where it is
// counted, or land whole in this minute when the estimate is in an
// earlier one (this node had not carried it yet).
func (l *Limiter) settleOp(t *Ticket, tokens int64, now time.Time) *redisOp {
	minute := minuteOf(now)
	delta := tokens
	if t.heldIn.Swap(-1) == minute {
		delta -= t.estimate
	}
	l.unhold(t)
	args := make([]any, 0, 5+3*len(t.rules))
	args = append(args, l.prefix, l.node, minute, delta, len(t.rules))
	for _, r := range t.rules {
		args = append(args, r.Subject, flag(r.TPM > 0), flag(r.Parallel > 0))
	}
	// Nobody waits for a settle; if it fails the parallel slot stays held
	// in Redis until this node's heartbeat lapses (redisOp.failed).
	return &redisOp{script: settleScript, args: args, settled: settledOp{l: l, rules: t.rules, tokens: tokens, now: now}}
}

// hold starts carrying a ticket's estimate (see carry).
func (l *Limiter) hold(t *Ticket) {
	l.hmu.Lock()
	l.holding[t] = struct{}{}
	l.hmu.Unlock()
}

func (l *Limiter) unhold(t *Ticket) {
	l.hmu.Lock()
	delete(l.holding, t)
	l.hmu.Unlock()
}

// carry counts the estimates of this node's calls in flight into the
// minute of now, once per minute, so they stay held while the calls run.
// It reports whether it queued that; the admit that asked then goes by
// the queue behind it.
func (l *Limiter) carry(now time.Time) bool {
	minute := minuteOf(now)
	last := l.carried.Load()
	if minute <= last || !l.carried.CompareAndSwap(last, minute) {
		return false
	}
	sums := map[string]int64{}
	l.hmu.Lock()
	for t := range l.holding {
		if old := t.heldIn.Load(); old >= 0 && old < minute && t.heldIn.CompareAndSwap(old, minute) {
			for _, r := range t.rules {
				if r.TPM > 0 {
					sums[r.Subject] += t.estimate
				}
			}
		}
	}
	l.hmu.Unlock()
	if len(sums) == 0 {
		return false
	}
	args := make([]any, 0, 2+2*len(sums))
	args = append(args, l.prefix, minute)
	for s, v := range sums {
		args = append(args, s, v)
	}
	l.do(context.Background(), &redisOp{script: carryScript, args: args})
	return true
}
