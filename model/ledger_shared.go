package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis/v8"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/model/limit"
)

// sharedBalances keeps reservable balances in Redis when REDIS_CONN_STRING
// is set, so that many nodes draw on one copy of each balance: reserve and
// settle are single Lua scripts, atomic in Redis (ARCHITECTURE.md, "Many
// nodes with Redis"). The database stays as in the single-node ledger:
// settlements and their logs are group-committed increments.
//
// Keys, under REDIS_KEY_PREFIX:
//
//	ledger:u:<id>, ledger:t:<id>  what the user / token may still reserve
//	ledger:resv:<node>             per balance, what this node holds against
//	                               it: open reservations, charges not yet
//	                               flushed to the rows and its lease; and
//	                               per balance "<key>#l", the lease alone
//	ledger:node:<node>             this node's heartbeat (expires when it dies)
//	ledger:nodes                   the nodes with a resv hash
//	ledger:epoch                   set once per Redis lifetime
//	ledger:flushing:<node>         set while this node writes a batch whose
//	                               outcome is not known yet
//
// So, at every moment, balance = row - Σ over nodes of resv[balance]. A
// balance missing from Redis is seeded by that formula in one script, and
// stays exact whatever the other nodes hold or have not flushed yet.
//
// Redis restarted (this Redis keeps nothing on disk): every script checks
// the epoch first, and a node that finds it changed re-registers, in one
// script, what it holds (kept in memory in outstanding), subtracting it
// from balances already seeded anew. Whether a balance was seeded before
// or after a node re-registered, its holds are subtracted exactly once, so
// the streams open across the restart settle onto a balance that knew of
// them and nothing is overspent.
//
// Redis unreachable: the node keeps serving, but spends only its leases
// (ledger_lease.go), logs once and reports it in /readyz. While Redis
// answers, each reservation script also sizes this node's lease on the
// balances it touches: of what is left after the reservation, the node
// keeps 1/(2·live nodes) in its resv hash (inside the balance's field,
// and alone under "<balance>#l"), the balance the rest. That is why it
// is conservative, whatever the other nodes do and however stale this
// node's figures are: a lease left the shared balance when it was taken,
// atomically, so no other node can reserve it, and while Redis is away a
// node reserves from its lease only (a reservation moves quota from lease
// to hold, a settlement gives the unused part back to the lease and takes
// an excess from it). What all nodes spend during an outage is therefore
// at most Σ leases ≤ the balance; nothing is read from a stale figure. A
// node that never leased a balance (it saw no call on it before the
// outage) refuses it with 503 until Redis answers. Period balances
// (ledger_period.go) are leased the same way, in the same script: the
// offline share of a period is this node's lease on it and nothing else,
// so an outage cannot overspend a period either (a reservation settled in
// the next period while Redis is away is charged from the lease on that
// period, capped at it: under-charged at worst). While Redis answers, a
// settlement's excess over its reservation comes from the shared balance
// first and then from the lease (settleScript). The cost: a lease is
// out of reach of other nodes until its holder reserves again (the script
// re-sizes it), idles on it for 30 s, reconciles or
// stops (each gives it back), so near the end of a balance another node
// may cap or refuse a call that the lease would have covered; /api
// figures add every node's lease back for display. What the node did
// meanwhile is kept as deltas and applied in one script when Redis
// answers again (or, if Redis restarted meanwhile, the node re-registers
// as above, leases included), then its leases are given back. Credits are
// written to the rows meanwhile and reach Redis by a reseed when it
// answers; taking quota away is refused with 503 while Redis is away,
// since it could not be clamped at what is left.
//
// A node that dies leaves its resv hash; every node releases the hashes
// of nodes whose heartbeat has expired (at start and each minute): their
// open reservations come back, and so do their unflushed charges, which
// died with them and never reach the rows.
type sharedBalances struct {
	rdb    *redis.Client
	prefix string
	node   string
	l      *Ledger

	// emu is held shared by every balance operation and exclusively while
	// the node (re)registers or reconciles, so those see a still picture.
	emu sync.RWMutex

	mu          sync.Mutex
	epoch       string
	offline     bool
	outstanding map[string]int64     // what resv:<node> holds (or must hold) per field
	balDelta    map[string]int64     // offline changes owed to balances
	resvDelta   map[string]int64     // offline changes owed to resv:<node>
	lastSeen    map[string]int64     // each balance as last seen in Redis
	lease       map[string]int64     // this node's lease per balance (ledger_lease.go)
	leaseDelta  map[string]int64     // offline changes owed to the lease fields
	lastUse     map[string]time.Time // when this node last reserved on a balance
	stale       map[string]struct{}  // credited while offline: reseed when Redis answers
	nodes       int64
}

// Heartbeat timing of shared-ledger nodes.
const (
	nodeHeartbeat = 10 * time.Second
	nodeTTL       = 30 * time.Second
)

// errEpoch is a script's answer when Redis lost its data since this node
// registered.
const errEpoch = -4

// ErrRedisUnavailable refuses a credit while Redis cannot be reached.
var ErrRedisUnavailable = errs.New(503, errs.KindUnavailable, "quota changes are paused while Redis is unreachable: try again shortly")

func newSharedBalances(rdb *redis.Client, prefix, node string, l *Ledger) *sharedBalances {
	return &sharedBalances{rdb: rdb, prefix: prefix + "ledger:", node: node, l: l, nodes: 1,
		outstanding: map[string]int64{}, balDelta: map[string]int64{}, resvDelta: map[string]int64{},
		lastSeen: map[string]int64{}, stale: map[string]struct{}{},
		lease: map[string]int64{}, leaseDelta: map[string]int64{}, lastUse: map[string]time.Time{}}
}

func (sb *sharedBalances) userKey(id int) string  { return sb.prefix + "u:" + strconv.Itoa(id) }
func (sb *sharedBalances) tokenKey(id int) string { return sb.prefix + "t:" + strconv.Itoa(id) }
func (sb *sharedBalances) resvKey(node string) string {
	return sb.prefix + "resv:" + node
}
func (sb *sharedBalances) nodeKey(node string) string { return sb.prefix + "node:" + node }
func (sb *sharedBalances) nodesKey() string           { return sb.prefix + "nodes" }
func (sb *sharedBalances) epochKey() string           { return sb.prefix + "epoch" }
func (sb *sharedBalances) verKey() string             { return sb.prefix + "ver" }
func (sb *sharedBalances) flushingKey() string        { return sb.prefix + "flushing:" + sb.node }

// KEYS: user, token, resv, epoch, the user's and the token's period keys
// held at reservation, and those of now. ARGV: reserved, cost, limited
// (1/0), epoch, the user's and the token's period quotas now (0: none),
// whether the reservation holds the user's and the token's period (1/0).
// Returns {charged, and what of it came out of this node's lease on the
// user, the token, the user's period of now, the token's period of now}.
// What is charged is the cost, with any excess over the reservation capped
// at what the balances and this node's leases on them hold, and capped at
// what the periods of now (with this node's lease on them) have left once
// the holds are released (ledger_period.go); charged = -4 epoch changed,
// -2 a period of now is not seeded. An excess comes out of the shared
// balance first, then out of the lease (ledger_lease.go). The hold
// becomes an unflushed charge in resv until the flush.
var settleScript = redis.NewScript(`
if redis.call('GET', KEYS[4]) ~= ARGV[4] then return {-4, 0, 0, 0, 0} end
local r = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local limited = ARGV[3] == '1'
local function lease(k) return tonumber(redis.call('HGET', KEYS[3], k .. '#l') or '0') end
local pq = {tonumber(ARGV[5]), tonumber(ARGV[6])}
local ph = {ARGV[7] == '1', ARGV[8] == '1'}
local pl = {0, 0}
local plz = {0, 0}
for i = 1, 2 do
  if pq[i] > 0 then
    local v = redis.call('GET', KEYS[6 + i])
    if not v then return {-2, 0, 0, 0, 0} end
    pl[i] = pq[i] + tonumber(v)
    if ph[i] and KEYS[4 + i] == KEYS[6 + i] then pl[i] = pl[i] + r end
    if pl[i] < 0 then pl[i] = 0 end
    plz[i] = lease(KEYS[6 + i])
  end
end
local u = redis.call('GET', KEYS[1])
local t = false
if limited then t = redis.call('GET', KEYS[2]) end
local ub, tb = 0, 0
if u then ub = math.max(tonumber(u), 0) end
if t then tb = math.max(tonumber(t), 0) end
local lu, lt = lease(KEYS[1]), 0
if limited then lt = lease(KEYS[2]) end
local charged = cost
if cost > r then
  local avail = ub + lu
  if limited and tb + lt < avail then avail = tb + lt end
  local extra = cost - r
  if extra > avail then extra = avail end
  charged = r + extra
end
for i = 1, 2 do
  if pq[i] > 0 and charged > pl[i] + plz[i] then charged = pl[i] + plz[i] end
end
local function hadd(k, d)
  if d == 0 then return end
  local left = redis.call('HINCRBY', KEYS[3], k, d)
  if left <= 0 then redis.call('HDEL', KEYS[3], k) end
end
local extra = charged - r
local function settle(k, present, bal)
  local fl = 0
  if extra > 0 and extra > bal then fl = extra - bal end
  local back = r - charged + fl
  if present and back ~= 0 then redis.call('INCRBY', k, back) end
  hadd(k, charged - r - fl)
  hadd(k .. '#l', 0 - fl)
  return fl
end
local out = {charged, 0, 0, 0, 0}
out[2] = settle(KEYS[1], u, ub)
if limited then out[3] = settle(KEYS[2], t, tb) end
for i = 1, 2 do
  if ph[i] then
    if redis.call('EXISTS', KEYS[4 + i]) == 1 then redis.call('INCRBY', KEYS[4 + i], r) end
    hadd(KEYS[4 + i], 0 - r)
  end
  if pq[i] > 0 then
    local fl = 0
    if charged > pl[i] then fl = charged - pl[i] end
    local fb = charged - fl
    if fb ~= 0 then redis.call('DECRBY', KEYS[6 + i], fb) end
    hadd(KEYS[6 + i], fb)
    hadd(KEYS[6 + i] .. '#l', 0 - fl)
    out[3 + i] = fl
  end
end
return out
`)

// KEYS: resv, epoch, version, flushing. ARGV: epoch, then field, delta
// pairs. Adds deltas to this node's resv fields (the flusher's: charges
// now in the rows), bumps the version, so a seed that read a row before
// this retries, and ends the node's flushing mark.
var resvScript = redis.NewScript(`
redis.call('DEL', KEYS[4])
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -4 end
redis.call('INCR', KEYS[3])
for i = 2, #ARGV, 2 do
  local left = redis.call('HINCRBY', KEYS[1], ARGV[i], tonumber(ARGV[i+1]))
  if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0
`)

// KEYS: balance, epoch. ARGV: delta, epoch. Applies delta, never below
// zero, when the balance is seeded; returns the delta applied, or
// "unseeded"; "epoch" when the epoch changed.
var creditScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'epoch' end
local v = redis.call('GET', KEYS[1])
if not v then return 'unseeded' end
local d = tonumber(ARGV[1])
-- (0 - v, not -v: Lua's -0 reaches Redis as "-0", which is no integer)
if tonumber(v) + d < 0 then d = 0 - tonumber(v) end
if d ~= 0 then redis.call('INCRBY', KEYS[1], d) end
return d
`)

// KEYS: balance, nodes, version. ARGV: the row's value, the resv key
// prefix, the version read before the row, the flushing key prefix, and a
// time to live in seconds (0: none; period balances expire).
// Seeds the balance as the row minus what every node holds against it;
// -1 when a flush or credit moved between the row and the resv hashes
// since the row was read, or while a node writes a batch: its charges may
// be in the row already and still in its resv hash, and a seed then would
// subtract them twice.
var seedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return -1 end
local members = redis.call('SMEMBERS', KEYS[2])
for _, n in ipairs(members) do
  if redis.call('EXISTS', ARGV[4] .. n) == 1 then return -1 end
end
local v = tonumber(ARGV[1])
for _, n in ipairs(members) do
  local h = ARGV[2] .. n
  v = v - tonumber(redis.call('HGET', h, KEYS[1]) or 0)
end
if tonumber(ARGV[5] or '0') > 0 then
  redis.call('SET', KEYS[1], v, 'EX', tonumber(ARGV[5]))
else
  redis.call('SET', KEYS[1], v)
end
return 1
`)

// KEYS: epoch, resv, node heartbeat, nodes. ARGV: candidate epoch, node,
// heartbeat ttl, the epoch the node knew, then field, amount pairs.
// Registers the node; when Redis lost its data since the node knew it,
// writes what the node holds and subtracts it from balances seeded since.
// Returns {epoch, node count}.
var registerScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local e = redis.call('GET', KEYS[1])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[3]))
if e ~= ARGV[4] then
  redis.call('DEL', KEYS[2])
  for i = 5, #ARGV, 2 do
    local k = ARGV[i]
    local v = tonumber(ARGV[i+1])
    if v ~= 0 then
      redis.call('HSET', KEYS[2], k, v)
      if redis.call('EXISTS', k) == 1 then
        redis.call('DECRBY', k, v)
      end
    end
  end
end
return {e, redis.call('SCARD', KEYS[4])}
`)

// KEYS: epoch, resv, node heartbeat, nodes. ARGV: epoch, node, ttl, then
// key, balance delta, resv delta triples. Applies what a node did while
// Redis was unreachable; -4 when Redis restarted meanwhile.
var reconcileScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -4 end
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[3]))
for i = 4, #ARGV, 3 do
  local k = ARGV[i]
  local b = tonumber(ARGV[i+1])
  local r = tonumber(ARGV[i+2])
  if b ~= 0 and redis.call('EXISTS', k) == 1 then redis.call('INCRBY', k, b) end
  if r ~= 0 then
    local left = redis.call('HINCRBY', KEYS[2], k, r)
    if left <= 0 then redis.call('HDEL', KEYS[2], k) end
  end
end
return redis.call('SCARD', KEYS[4])
`)

// KEYS: resv hash, nodes. ARGV: node. Gives every held amount back and
// drops the node.
var releaseScript = redis.NewScript(`
local kv = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #kv, 2 do
  if redis.call('EXISTS', kv[i]) == 1 then
    redis.call('INCRBY', kv[i], tonumber(kv[i+1]))
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return n
`)

// register (re)joins this node: at start, after Redis lost its data, and
// when Redis answers again after an outage.
func (sb *sharedBalances) register(ctx context.Context) error {
	sb.emu.Lock()
	defer sb.emu.Unlock()
	return sb.registerLocked(ctx)
}

func (sb *sharedBalances) registerLocked(ctx context.Context) error {
	sb.mu.Lock()
	known, offline := sb.epoch, sb.offline
	sb.mu.Unlock()
	ttl := int(nodeTTL / time.Second)
	keys := []string{sb.epochKey(), sb.resvKey(sb.node), sb.nodeKey(sb.node), sb.nodesKey()}
	if offline && known != "" {
		// Same Redis as before the outage: apply what was done meanwhile.
		sb.mu.Lock()
		args := []any{known, sb.node, ttl}
		for k := range unionKeys(sb.balDelta, sb.resvDelta) {
			args = append(args, k, sb.balDelta[k], sb.resvDelta[k])
		}
		for k, v := range sb.leaseDelta {
			args = append(args, k+leaseSuffix, 0, v)
		}
		sb.mu.Unlock()
		n, err := reconcileScript.Run(ctx, sb.rdb, keys, args...).Int64()
		if err != nil {
			return err
		}
		if n != errEpoch {
			sb.mu.Lock()
			stale := make([]string, 0, len(sb.stale))
			for k := range sb.stale {
				stale = append(stale, k)
			}
			sb.mu.Unlock()
			for _, k := range stale {
				if err := reseedScript.Run(ctx, sb.rdb, []string{k, sb.verKey()}).Err(); err != nil {
					return err
				}
			}
			sb.returnLeasesAfterOutage(ctx, known)
			sb.mu.Lock()
			sb.online(known, n)
			sb.mu.Unlock()
			slog.Info("ledger: redis answers again; what this node did meanwhile is applied")
			return nil
		}
	}
	sb.mu.Lock()
	args := []any{crypto.RandomString(16), sb.node, ttl, known}
	for k, v := range sb.outstanding {
		args = append(args, k, v)
	}
	args = sb.leaseArgs(args)
	sb.mu.Unlock()
	res, err := registerScript.Run(ctx, sb.rdb, keys, args...).Slice()
	if err != nil {
		return err
	}
	if len(res) != 2 {
		return fmt.Errorf("ledger: register answered %v", res)
	}
	epoch, _ := res[0].(string)
	n, _ := res[1].(int64)
	sb.returnLeasesAfterOutage(ctx, epoch)
	sb.mu.Lock()
	sb.online(epoch, n)
	sb.mu.Unlock()
	if known != "" && known != epoch {
		slog.Warn("ledger: redis lost its data; this node re-registered its open reservations", "fields", len(args)/2-2)
	}
	return nil
}

// online records a successful registration; sb.mu must be held.
func (sb *sharedBalances) online(epoch string, nodes int64) {
	sb.epoch, sb.offline, sb.nodes = epoch, false, max(nodes, 1)
	clear(sb.balDelta)
	clear(sb.resvDelta)
	clear(sb.leaseDelta)
	clear(sb.stale)
}

func unionKeys(a, b map[string]int64) map[string]struct{} {
	out := map[string]struct{}{}
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}

// goOffline switches to local shares, logging once per outage.
func (sb *sharedBalances) goOffline(err error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if !sb.offline {
		sb.offline = true
		slog.Error("ledger: redis unreachable; reserving from this node's local share of each balance until it answers", "err", err)
	}
}

// Offline reports whether the node is serving from local shares.
func (sb *sharedBalances) Offline() bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.offline
}

// probe tries Redis while offline and reconciles once it answers.
func (sb *sharedBalances) probe() {
	if !sb.Offline() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if sb.rdb.Ping(ctx).Err() != nil {
		return
	}
	if err := sb.register(ctx); err != nil {
		slog.Warn("ledger: redis answers but reconciling failed; retrying", "err", err)
	}
}

// redisDown reports whether err means Redis could not be used (as opposed
// to the caller giving up).
func redisDown(ctx context.Context, err error) bool {
	var reply redis.Error
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, redis.Nil) {
		return false
	}
	// An error reply (a script's) came from a Redis that answers.
	return !errors.As(err, &reply)
}

func (sb *sharedBalances) keys(acct Account) []string {
	tk := sb.prefix + "none"
	if acct.TokenID != 0 {
		tk = sb.tokenKey(acct.TokenID)
	}
	return []string{sb.userKey(acct.UserID), tk, sb.resvKey(sb.node), sb.epochKey()}
}

func limitedFlag(acct Account) string {
	if acct.TokenID != 0 && !acct.UnlimitedToken {
		return "1"
	}
	return "0"
}

// seed copies a balance into Redis unless it is there (seedScript).
func (sb *sharedBalances) seed(ctx context.Context, acct Account) error {
	if err := sb.seedOne(ctx, sb.userKey(acct.UserID), 0, func() (int64, error) {
		var u User
		if err := sb.l.store.DB.WithContext(ctx).Select("id", "quota").First(&u, acct.UserID).Error; err != nil {
			if notFound(err) {
				return 0, ErrUserNotFound
			}
			return 0, err
		}
		return u.Quota, nil
	}); err != nil || acct.TokenID == 0 {
		return err
	}
	return sb.seedOne(ctx, sb.tokenKey(acct.TokenID), 0, func() (int64, error) {
		var t Token
		if err := sb.l.store.DB.WithContext(ctx).Select("id", "remain_quota").First(&t, acct.TokenID).Error; err != nil {
			if notFound(err) {
				return 0, ErrTokenNotFound
			}
			return 0, err
		}
		return t.RemainQuota, nil
	})
}

func (sb *sharedBalances) seedOne(ctx context.Context, key string, ttl int64, row func() (int64, error)) error {
	for attempt := range 200 {
		if n, err := sb.rdb.Exists(ctx, key).Result(); err != nil || n == 1 {
			return err
		}
		ver, err := sb.rdb.Get(ctx, sb.verKey()).Result()
		if errors.Is(err, redis.Nil) {
			ver, err = "0", nil
		}
		if err != nil {
			return err
		}
		v, err := row()
		if err != nil {
			return err
		}
		n, err := seedScript.Run(ctx, sb.rdb, []string{key, sb.nodesKey(), sb.verKey()}, v, sb.prefix+"resv:", ver, sb.prefix+"flushing:", ttl).Int64()
		if err != nil || n >= 0 {
			return err
		}
		// A batch is being written: it takes a few milliseconds.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(min(attempt+1, 20)) * time.Millisecond):
		}
	}
	return errors.New("ledger: could not seed a balance: flushes kept moving it")
}

func (sb *sharedBalances) reserve(ctx context.Context, acct Account, ap accountPeriods, estimate int64, along *limit.Pending) (int64, [2]string, error) {
	amt, err := sb.reserveBalances(ctx, acct, ap, estimate, along)
	if err != nil {
		return 0, [2]string{}, err
	}
	pkeys, _ := sb.periodKeys(acct, ap)
	return amt, pkeys, nil
}

func (sb *sharedBalances) reserveBalances(ctx context.Context, acct Account, ap accountPeriods, estimate int64, along *limit.Pending) (int64, error) {
	pkeys, pquotas := sb.periodKeys(acct, ap)
	keys := append(sb.keys(acct), pkeys[0], pkeys[1])
	limited := limitedFlag(acct) == "1"
	for range 4 {
		sb.emu.RLock()
		sb.mu.Lock()
		epoch, offline := sb.epoch, sb.offline
		sb.mu.Unlock()
		if offline {
			amt, err := sb.reserveLocal(acct, ap, estimate)
			sb.emu.RUnlock()
			return amt, err
		}
		sb.mu.Lock()
		nodes := sb.nodes
		sb.mu.Unlock()
		args := []any{estimate, limitedFlag(acct), epoch, nodes, pquotas[0], pquotas[1]}
		var res []int64
		var err error
		if along.Boards() {
			// The first attempt carries the admission; a retry goes alone.
			p := along
			res, err = runBoarded(ctx, sb.rdb, leaseReserveScript, keys, args, func(pipe redis.Pipeliner) { p.Board(ctx, pipe) })
			along = nil
		} else {
			res, err = leaseReserveScript.Run(ctx, sb.rdb, keys, args...).Int64Slice()
		}
		if err != nil || len(res) != 13 {
			if !redisDown(ctx, err) {
				sb.emu.RUnlock()
				return 0, fmt.Errorf("ledger: reserve in redis: %w", err)
			}
			sb.goOffline(err)
			sb.emu.RUnlock()
			continue
		}
		switch res[0] {
		case errEpoch:
			sb.emu.RUnlock()
			if err := sb.register(ctx); err != nil && redisDown(ctx, err) {
				sb.goOffline(err)
			}
			continue
		case -2:
			sb.emu.RUnlock()
			err := sb.seed(ctx, acct)
			if err == nil {
				err = sb.seedPeriods(ctx, acct, ap)
			}
			if err != nil {
				if redisDown(ctx, err) && !errors.Is(err, ErrUserNotFound) && !errors.Is(err, ErrTokenNotFound) {
					sb.goOffline(err)
					continue
				}
				return 0, err
			}
			continue
		}
		sb.mu.Lock()
		sb.lastSeen[keys[0]] = res[1]
		if limited {
			sb.lastSeen[keys[1]] = res[2]
		}
		for i, q := range pquotas {
			// A period's last figure is what it has left outside the
			// leases (0 or less: refused as used up while Redis is away).
			if q > 0 {
				sb.lastSeen[pkeys[i]] = res[7+i]
			}
		}
		if res[0] >= 0 {
			sb.noteLease(keys[0], res[3], res[5])
			if limited {
				sb.noteLease(keys[1], res[4], res[6])
			}
			for i, q := range pquotas {
				if q > 0 {
					sb.noteLease(pkeys[i], res[9+i], res[11+i])
				}
			}
		}
		sb.mu.Unlock()
		sb.emu.RUnlock()
		switch res[0] {
		case -1:
			return 0, ErrUserQuotaExhausted
		case -3:
			return 0, ErrTokenQuotaExhausted
		case -5:
			return 0, periodExhausted(false, ap.user.conf.kind, ap.user.end)
		case -6:
			return 0, periodExhausted(true, ap.token.conf.kind, ap.token.end)
		}
		return res[0], nil
	}
	return 0, errors.New("ledger: could not reserve: redis kept changing under this call")
}

func (sb *sharedBalances) settle(r *Reservation, ap accountPeriods, cost int64, along *limit.Settles) int64 {
	// Settlement must happen even when the client's context is gone.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pnow, pquotas := sb.periodKeys(r.acct, ap)
	held := [2]string{"0", "0"}
	for i, k := range r.pkeys {
		if k != "" && k != sb.prefix+"none" {
			held[i] = "1"
		}
	}
	pheld := r.pkeys
	for i := range pheld {
		if held[i] == "0" {
			pheld[i] = sb.prefix + "none"
		}
	}
	keys := append(sb.keys(r.acct), pheld[0], pheld[1], pnow[0], pnow[1])
	limited := limitedFlag(r.acct) == "1"
	need := []string{keys[0]}
	if limited {
		need = append(need, keys[1])
	}
	for range 3 {
		sb.emu.RLock()
		sb.mu.Lock()
		epoch, offline := sb.epoch, sb.offline
		sb.mu.Unlock()
		if !offline {
			args := []any{r.amount, cost, limitedFlag(r.acct), epoch, pquotas[0], pquotas[1], held[0], held[1]}
			var res []int64
			var err error
			if along != nil {
				// The first attempt carries the rate-limit settles; the
				// ledger finishes them (Settles.Finish) when it returns.
				s := along
				res, err = runBoarded(ctx, sb.rdb, settleScript, keys, args, func(p redis.Pipeliner) { s.Board(ctx, p) })
				along = nil
			} else {
				res, err = settleScript.Run(ctx, sb.rdb, keys, args...).Int64Slice()
			}
			if err == nil && len(res) != 5 {
				err = fmt.Errorf("ledger: settle answered %v", res)
			}
			var charged int64
			if err == nil {
				charged = res[0]
			}
			if err == nil && charged == -2 {
				// The period of now has no balance yet (it began during
				// this call): seed it and settle again.
				sb.emu.RUnlock()
				if err := sb.seedPeriods(ctx, r.acct, ap); err != nil {
					sb.goOffline(err)
				}
				continue
			}
			if err == nil && charged == errEpoch {
				sb.emu.RUnlock()
				if err := sb.register(ctx); err != nil {
					sb.goOffline(err)
				}
				continue
			}
			if err == nil {
				sb.mu.Lock()
				for i, k := range need {
					// What came out of the lease was in resv already.
					sb.noteLease(k, charged-r.amount-res[1+i], -res[1+i])
				}
				sb.settledPeriods(pheld, held, pnow, pquotas, r.amount, charged)
				for i, q := range pquotas {
					if q > 0 && res[3+i] != 0 {
						sb.noteLease(pnow[i], -res[3+i], -res[3+i])
					}
				}
				sb.mu.Unlock()
				sb.emu.RUnlock()
				return charged
			}
			sb.goOffline(err)
		}
		// Offline: charge against this node's leases, periods included.
		sb.mu.Lock()
		charged := sb.settleLocal(need, pheld, held, pnow, pquotas, r.amount, cost)
		sb.mu.Unlock()
		sb.emu.RUnlock()
		return charged
	}
	slog.Error("ledger: settle could not reach a stable redis; charging the reservation", "user", r.acct.UserID)
	return min(cost, r.amount)
}

// flushing marks, before a batch is written, that this node's resv hash
// may hold charges the rows already have: seeds wait until flushed (or
// the mark's expiry, should this node die meanwhile). Without it a seed
// that read the row just after the commit subtracted the batch twice and
// left the balance short for good.
func (sb *sharedBalances) flushing(ctx context.Context, ttl time.Duration) {
	if sb.Offline() {
		return
	}
	if err := sb.rdb.Set(ctx, sb.flushingKey(), "1", ttl).Err(); err != nil && redisDown(ctx, err) {
		sb.goOffline(err)
	}
}

// flushed tells Redis that a batch's charges are in the rows now, so they
// no longer count against the balances' seeds.
func (sb *sharedBalances) flushed(b *batch) {
	moved := map[string]int64{}
	for id, d := range b.d.Users {
		if d.Charged != 0 {
			moved[sb.userKey(id)] -= d.Charged
		}
	}
	for id, d := range b.d.Tokens {
		if d.Limited && d.Remain != 0 {
			moved[sb.tokenKey(id)] -= d.Remain
		}
	}
	sb.flushedPeriods(b, moved)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if len(moved) == 0 {
		if !sb.Offline() {
			sb.rdb.Del(ctx, sb.flushingKey())
		}
		return
	}
	sb.emu.RLock()
	defer sb.emu.RUnlock()
	sb.mu.Lock()
	epoch, offline := sb.epoch, sb.offline
	args := []any{epoch}
	for k, v := range moved {
		sb.outstanding[k] += v
		if sb.outstanding[k] == 0 {
			delete(sb.outstanding, k)
		}
		args = append(args, k, v)
	}
	sb.mu.Unlock()
	if !offline {
		n, err := resvScript.Run(ctx, sb.rdb, []string{sb.resvKey(sb.node), sb.epochKey(), sb.verKey(), sb.flushingKey()}, args...).Int64()
		if err == nil {
			// On errEpoch the re-registration writes outstanding, which
			// already holds these changes.
			_ = n
			return
		}
		sb.goOffline(err)
	}
	sb.mu.Lock()
	for k, v := range moved {
		sb.resvDelta[k] += v
	}
	sb.mu.Unlock()
}

func (sb *sharedBalances) available(ctx context.Context, key string) (int64, bool) {
	if sb.Offline() {
		return 0, false
	}
	// The balance and every node's lease on it (ledger_lease.go).
	n, err := leaseAvailableScript.Run(ctx, sb.rdb, []string{key, sb.nodesKey()}, sb.prefix+"resv:", leaseSuffix).Int64()
	if err != nil {
		return 0, false
	}
	return n, true
}

// heartbeat marks this node alive and counts the live nodes.
func (sb *sharedBalances) heartbeat(ctx context.Context) {
	if sb.Offline() {
		return
	}
	pipe := sb.rdb.TxPipeline()
	pipe.Set(ctx, sb.nodeKey(sb.node), "1", nodeTTL)
	pipe.SAdd(ctx, sb.nodesKey(), sb.node)
	n := pipe.SCard(ctx, sb.nodesKey())
	if _, err := pipe.Exec(ctx); err != nil {
		slog.Warn("ledger: heartbeat failed", "err", err)
		return
	}
	sb.mu.Lock()
	sb.nodes = max(n.Val(), 1)
	sb.mu.Unlock()
	sb.returnIdleLeases(ctx)
}

// ReleaseOrphans gives back the reservations of nodes whose heartbeat
// expired (they died holding them) and returns how many balances it
// touched. Every node runs it at start and each minute.
func (l *Ledger) ReleaseOrphans(ctx context.Context) (int, error) {
	sb := l.shared
	if sb == nil || sb.Offline() {
		return 0, nil
	}
	released := 0
	iter := sb.rdb.Scan(ctx, 0, sb.prefix+"resv:*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		node := strings.TrimPrefix(key, sb.prefix+"resv:")
		if node == sb.node {
			continue
		}
		alive, err := sb.rdb.Exists(ctx, sb.nodeKey(node)).Result()
		if err != nil {
			return released, err
		}
		if alive == 1 {
			continue
		}
		n, err := releaseScript.Run(ctx, sb.rdb, []string{key, sb.nodesKey()}, node).Int()
		if err != nil {
			return released, err
		}
		if n > 0 {
			slog.Warn("ledger: released reservations of a node that died", "node", node, "balances", n)
		}
		released += n
	}
	return released, iter.Err()
}

// stop ends this node's presence. A node that still holds something (a
// flush failed) lets its heartbeat expire instead, so another node gives
// its holds back.
func (sb *sharedBalances) stop(ctx context.Context) {
	sb.emu.RLock()
	if !sb.Offline() {
		_ = sb.returnLeasesLocked(ctx, nil)
	}
	sb.emu.RUnlock()
	sb.mu.Lock()
	clean := !sb.offline
	for _, v := range sb.outstanding {
		if v != 0 {
			clean = false
		}
	}
	sb.mu.Unlock()
	if !clean {
		return
	}
	pipe := sb.rdb.TxPipeline()
	pipe.Del(ctx, sb.resvKey(sb.node), sb.nodeKey(sb.node))
	pipe.SRem(ctx, sb.nodesKey(), sb.node)
	_, _ = pipe.Exec(ctx)
}

// runBoarded runs a ledger script in one pipeline behind what board put
// there (the rate-limit work that rides the ledger's round trips), and
// once more on its own when Redis had forgotten it.
func runBoarded(ctx context.Context, rdb *redis.Client, s *redis.Script, keys []string, args []any, board func(redis.Pipeliner)) ([]int64, error) {
	pipe := rdb.Pipeline()
	board(pipe)
	cmd := s.EvalSha(ctx, pipe, keys, args...)
	_, _ = pipe.Exec(ctx)
	res, err := cmd.Int64Slice()
	if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		res, err = s.Run(ctx, rdb, keys, args...).Int64Slice()
	}
	return res, err
}
