package model

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-redis/redis/v8"

	"switchyard/common/errs"
)

// Leases: what a node may spend while Redis is unreachable (the argument
// is in ledger_shared.go's doc comment and ARCHITECTURE.md, "Redis
// outage").
//
// While Redis answers, every reservation this node makes on a balance
// also re-sizes the node's lease on it, in the same script (no extra
// round trip): the balance and the node's lease are pooled, the
// reservation taken from the pool, and of the rest the lease keeps
// 1/(2·live nodes), the balance the remainder. The lease sits in the
// node's resv hash twice: inside the balance's field (so seeds, releases
// of dead nodes and re-registration treat it as held, exactly as they do
// reservations) and alone under "<balance>#l" (so the node and its
// scripts know how much of the field is lease). Leases are given back to
// their balances when the node has not reserved on them for leaseIdle
// (30 s), after an outage once the node has reconciled, and at a clean
// stop.
//
// While Redis is unreachable the node reserves and settles only against
// its own leases, kept in memory: a reservation moves quota from the
// lease to a hold, a settlement moves what was not used back to the
// lease and takes any excess from it. The lease was taken out of the
// shared balance before the outage, so no other node can spend it: what
// all nodes spend during an outage is at most what they leased, which was
// at most the balance. Period balances (ledger_period.go) are leased
// exactly as lifetime ones: the offline share of a period is a lease too.

// leaseSuffix names a balance's lease field in a resv hash.
const leaseSuffix = "#l"

// leaseIdle is how long a lease stays with a node that no longer reserves
// on its balance; the heartbeat (every nodeHeartbeat) gives it back after
// that. Shorter makes the end of a balance reachable from other nodes
// sooner; longer keeps a balance called less often than this servable
// through a Redis outage. 30 s: an account in use is covered, and what a
// lease keeps from other nodes returns within 40 s.
const leaseIdle = 30 * time.Second

// ErrLocalShareExhausted refuses a call while Redis is unreachable and
// this node's lease on the balance is spent (or it never had one): the
// balance may have more, but another node may be spending it.
var ErrLocalShareExhausted = errs.New(http.StatusServiceUnavailable, errs.KindUnavailable,
	"quota cannot be checked while Redis is unreachable and this node's share of your balance is used up: try again shortly")

// KEYS: user, token, resv, epoch, user period, token period. ARGV:
// estimate, limited (1/0), epoch, live nodes, user period quota, token
// period quota (0: none; ledger_period.go). Reserves from each balance and
// this node's lease on it pooled, and re-sizes the lease to 1/(2·nodes) of
// what is left. A period key holds minus what its period used or holds,
// so its reservable figure is quota + value; its lease is taken and kept
// exactly as a lifetime balance's (the offline share of a period is a
// lease too). Returns {amount held, user left, token left, user resv
// change, token resv change, user lease change, token lease change, user
// period left, token period left, their resv changes, their lease
// changes}; amount -1 user empty, -3 token empty, -5 user period empty, -6
// token period empty, -2 not seeded, -4 epoch changed.
var leaseReserveScript = redis.NewScript(`
local function fail(code, u, t, pu, pt)
  return {code, u, t, 0, 0, 0, 0, pu, pt, 0, 0, 0, 0}
end
if redis.call('GET', KEYS[4]) ~= ARGV[3] then return fail(-4, 0, 0, 0, 0) end
local u = redis.call('GET', KEYS[1])
if not u then return fail(-2, 0, 0, 0, 0) end
u = tonumber(u)
local limited = ARGV[2] == '1'
local t = 0
if limited then
  t = redis.call('GET', KEYS[2])
  if not t then return fail(-2, 0, 0, 0, 0) end
  t = tonumber(t)
end
local pq = {tonumber(ARGV[5]), tonumber(ARGV[6])}
local pb = {0, 0}
local plz = {0, 0}
local pp = {0, 0}
for i = 1, 2 do
  if pq[i] > 0 then
    local v = redis.call('GET', KEYS[4 + i])
    if not v then return fail(-2, 0, 0, 0, 0) end
    pb[i] = pq[i] + tonumber(v)
    plz[i] = tonumber(redis.call('HGET', KEYS[3], KEYS[4 + i] .. '#l') or '0')
    pp[i] = pb[i] + plz[i]
  end
end
local lu = tonumber(redis.call('HGET', KEYS[3], KEYS[1] .. '#l') or '0')
local lt = 0
if limited then lt = tonumber(redis.call('HGET', KEYS[3], KEYS[2] .. '#l') or '0') end
local pu = u + lu
local pt = t + lt
if pu <= 0 then return fail(-1, u, t, pb[1], pb[2]) end
if limited and pt <= 0 then return fail(-3, u, t, pb[1], pb[2]) end
if pq[1] > 0 and pp[1] <= 0 then return fail(-5, u, t, pb[1], pb[2]) end
if pq[2] > 0 and pp[2] <= 0 then return fail(-6, u, t, pb[1], pb[2]) end
local amt = tonumber(ARGV[1])
if amt > pu then amt = pu end
if limited and amt > pt then amt = pt end
for i = 1, 2 do
  if pq[i] > 0 and amt > pp[i] then amt = pp[i] end
end
local n = tonumber(ARGV[4])
if n < 1 then n = 1 end
local function split(k, bal, lease, pool)
  local rest = pool - amt
  local nl = math.floor(rest / (2 * n))
  local db = (rest - nl) - bal
  local dl = nl - lease
  if db ~= 0 then redis.call('INCRBY', k, db) end
  local dr = amt + dl
  if dr ~= 0 then
    local left = redis.call('HINCRBY', KEYS[3], k, dr)
    if left <= 0 then redis.call('HDEL', KEYS[3], k) end
  end
  if nl > 0 then redis.call('HSET', KEYS[3], k .. '#l', nl) else redis.call('HDEL', KEYS[3], k .. '#l') end
  return bal + db, dr, dl
end
local ul, ur, ud = split(KEYS[1], u, lu, pu)
local tl, tr, td = t, 0, 0
if limited then tl, tr, td = split(KEYS[2], t, lt, pt) end
local pl, pr, pd = {0, 0}, {0, 0}, {0, 0}
for i = 1, 2 do
  if pq[i] > 0 then pl[i], pr[i], pd[i] = split(KEYS[4 + i], pb[i], plz[i], pp[i]) end
end
return {amt, ul, tl, ur, tr, ud, td, pl[1], pl[2], pr[1], pr[2], pd[1], pd[2]}
`)

// KEYS: resv, epoch. ARGV: epoch, then balance keys. Gives this node's
// leases on those balances back to them; returns the amounts, in order,
// or {-4} when the epoch changed.
var leaseReturnScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {-4} end
local out = {}
for i = 2, #ARGV do
  local k = ARGV[i]
  local l = tonumber(redis.call('HGET', KEYS[1], k .. '#l') or '0')
  if l > 0 then
    if redis.call('EXISTS', k) == 1 then redis.call('INCRBY', k, l) end
    local left = redis.call('HINCRBY', KEYS[1], k, 0 - l)
    if left <= 0 then redis.call('HDEL', KEYS[1], k) end
  end
  redis.call('HDEL', KEYS[1], k .. '#l')
  out[#out + 1] = l
end
return out
`)

// KEYS: balance, nodes. ARGV: resv key prefix, lease suffix. What the
// balance holds plus every node's lease on it: what the account may
// still spend, for display.
var leaseAvailableScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
v = tonumber(v)
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  v = v + tonumber(redis.call('HGET', ARGV[1] .. n, KEYS[1] .. ARGV[2]) or '0')
end
return v
`)

// noteLease records a reservation script's changes; sb.mu must be held.
func (sb *sharedBalances) noteLease(key string, resv, lease int64) {
	sb.outstanding[key] += resv
	if sb.outstanding[key] == 0 {
		delete(sb.outstanding, key)
	}
	sb.lease[key] += lease
	if sb.lease[key] == 0 {
		delete(sb.lease, key)
	}
	sb.lastUse[key] = time.Now()
}

// returnLeases gives this node's leases on keys back to their balances
// (all of them when keys is nil). It needs Redis and emu held shared or
// exclusively by the caller (registerLocked holds it exclusively).
func (sb *sharedBalances) returnLeasesLocked(ctx context.Context, keys []string) error {
	sb.mu.Lock()
	epoch := sb.epoch
	sb.mu.Unlock()
	return sb.returnLeasesAt(ctx, epoch, keys)
}

// returnLeasesAt is returnLeasesLocked under a given epoch (the one a
// registration just found, before the node goes online with it).
func (sb *sharedBalances) returnLeasesAt(ctx context.Context, epoch string, keys []string) error {
	sb.mu.Lock()
	if keys == nil {
		for k := range sb.lease {
			keys = append(keys, k)
		}
	}
	sb.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	args := []any{epoch}
	for _, k := range keys {
		args = append(args, k)
	}
	res, err := leaseReturnScript.Run(ctx, sb.rdb, []string{sb.resvKey(sb.node), sb.epochKey()}, args...).Int64Slice()
	if err != nil {
		return err
	}
	if len(res) != len(keys) {
		return nil // epoch changed: the next script re-registers the leases
	}
	sb.mu.Lock()
	for i, k := range keys {
		if res[i] > 0 {
			sb.noteLease(k, -res[i], -res[i])
		}
		delete(sb.lastUse, k)
	}
	sb.mu.Unlock()
	return nil
}

// returnIdleLeases gives back the leases of balances this node has not
// reserved on for leaseIdle, so that other nodes can spend them.
func (sb *sharedBalances) returnIdleLeases(ctx context.Context) {
	sb.emu.RLock()
	defer sb.emu.RUnlock()
	sb.mu.Lock()
	if sb.offline {
		sb.mu.Unlock()
		return
	}
	var idle []string
	for k := range sb.lease {
		if time.Since(sb.lastUse[k]) >= leaseIdle {
			idle = append(idle, k)
		}
	}
	sb.mu.Unlock()
	if len(idle) == 0 {
		return
	}
	if err := sb.returnLeasesLocked(ctx, idle); err != nil && redisDown(ctx, err) {
		sb.goOffline(err)
	}
}

// leaseArgs are the lease fields for registerScript (what the resv hash
// holds besides the balances' fields); sb.mu must be held.
func (sb *sharedBalances) leaseArgs(args []any) []any {
	for k, v := range sb.lease {
		args = append(args, k+leaseSuffix, v)
	}
	return args
}

// reserveLocal reserves from this node's leases (Redis unreachable), on
// the lifetime balances and on the active period balances alike; the
// caller holds emu shared.
func (sb *sharedBalances) reserveLocal(acct Account, ap accountPeriods, estimate int64) (int64, error) {
	keys := sb.keys(acct)
	need := []string{keys[0]}
	refusal := []error{ErrUserQuotaExhausted}
	if limitedFlag(acct) == "1" {
		need = append(need, keys[1])
		refusal = append(refusal, ErrTokenQuotaExhausted)
	}
	pkeys, pquotas := sb.periodKeys(acct, ap)
	for i, q := range pquotas {
		if q <= 0 {
			continue
		}
		p := ap.user
		if i == 1 {
			p = ap.token
		}
		need = append(need, pkeys[i])
		refusal = append(refusal, periodExhausted(i == 1, p.conf.kind, p.end))
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	amt := estimate
	for i, k := range need {
		if sb.lease[k] <= 0 {
			if seen, ok := sb.lastSeen[k]; ok && seen <= 0 {
				return 0, refusal[i]
			}
			return 0, ErrLocalShareExhausted
		}
		amt = min(amt, sb.lease[k])
	}
	for _, k := range need {
		// The hold comes out of the lease: the resv field, which holds
		// both, does not change.
		sb.lease[k] -= amt
		sb.leaseDelta[k] -= amt
	}
	return amt, nil
}

// settleLocal settles against this node's leases (Redis unreachable): the
// unused part goes back to the lease, an excess comes out of it. need are
// the lifetime balances; pheld, held, pnow and pquotas the period keys as
// settle computes them. A period hold goes back to the lease of the
// period it was taken on, and the charge comes out of the lease of the
// period of now, capped at it: when the period changed during the call
// and this node has no lease on the new one, the call is under-charged
// (never a period overspent). Every move is between a lease and a hold or
// an unflushed charge of the same resv field, so only the lease figures
// change. sb.mu must be held.
func (sb *sharedBalances) settleLocal(need []string, pheld, held, pnow [2]string, pquotas [2]int64, reserved, cost int64) int64 {
	charged := cost
	if extra := cost - reserved; extra > 0 {
		avail := extra
		for _, k := range need {
			avail = min(avail, max(sb.lease[k], 0))
		}
		charged = reserved + avail
	}
	for i, q := range pquotas {
		if q <= 0 {
			continue
		}
		avail := max(sb.lease[pnow[i]], 0)
		if held[i] == "1" && pheld[i] == pnow[i] {
			avail += reserved
		}
		charged = min(charged, avail)
	}
	for _, k := range need {
		sb.lease[k] += reserved - charged
		sb.leaseDelta[k] += reserved - charged
	}
	for i := range 2 {
		if held[i] == "1" {
			sb.lease[pheld[i]] += reserved
			sb.leaseDelta[pheld[i]] += reserved
		}
		if pquotas[i] > 0 {
			sb.lease[pnow[i]] -= charged
			sb.leaseDelta[pnow[i]] -= charged
		}
	}
	return charged
}

// returnLeasesAfterOutage gives every lease back once the node has
// (re)registered after an outage or a Redis restart, before it reports
// itself online; the caller holds emu exclusively.
func (sb *sharedBalances) returnLeasesAfterOutage(ctx context.Context, epoch string) {
	if err := sb.returnLeasesAt(ctx, epoch, nil); err != nil {
		slog.Warn("ledger: could not give this node's leases back after reconciling; they return when idle", "err", err)
	}
}

// leaseKeys is []string{key} when leased, else an empty (not nil) list:
// returnLeasesLocked then does nothing.
func leaseKeys(leased bool, key string) []string {
	if leased {
		return []string{key}
	}
	return []string{}
}
