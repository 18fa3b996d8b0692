package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis/v8"

	"switchyard/common/crypto"
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
//	ledger:resv:<node>             this node's open reservations per balance
//	ledger:node:<node>             this node's heartbeat (expires when it dies)
//
// A balance missing from Redis (first use, or Redis restarted; this Redis
// keeps nothing on disk) is seeded from its row with SET NX. Settlements of
// other nodes that are not flushed yet (at most FlushInterval of them) are
// then missing from the seed: a rare, bounded over-allowance that the rows
// and logs, which only ever receive increments, do not share.
//
// A node that dies leaves its open reservations in its resv hash; every
// node releases the hashes of nodes whose heartbeat has expired, at start
// and each minute, so held quota comes back.
type sharedBalances struct {
	rdb    *redis.Client
	prefix string
	node   string
}

// Heartbeat timing of shared-ledger nodes.
const (
	nodeHeartbeat = 10 * time.Second
	nodeTTL       = 30 * time.Second
)

func newSharedBalances(rdb *redis.Client, prefix string) *sharedBalances {
	return &sharedBalances{rdb: rdb, prefix: prefix + "ledger:", node: crypto.RandomString(16)}
}

func (sb *sharedBalances) userKey(id int) string  { return sb.prefix + "u:" + strconv.Itoa(id) }
func (sb *sharedBalances) tokenKey(id int) string { return sb.prefix + "t:" + strconv.Itoa(id) }
func (sb *sharedBalances) resvKey(node string) string {
	return sb.prefix + "resv:" + node
}
func (sb *sharedBalances) nodeKey(node string) string { return sb.prefix + "node:" + node }

// KEYS: user, token, resv. ARGV: estimate, limited (1/0).
// Returns the amount held, -1 user empty, -3 token empty, -2 not seeded.
var reserveScript = redis.NewScript(`
local u = redis.call('GET', KEYS[1])
if not u then return -2 end
u = tonumber(u)
local limited = ARGV[2] == '1'
local t = 0
if limited then
  t = redis.call('GET', KEYS[2])
  if not t then return -2 end
  t = tonumber(t)
end
if u <= 0 then return -1 end
if limited and t <= 0 then return -3 end
local amt = tonumber(ARGV[1])
if amt > u then amt = u end
if limited and amt > t then amt = t end
redis.call('DECRBY', KEYS[1], amt)
redis.call('HINCRBY', KEYS[3], KEYS[1], amt)
if limited then
  redis.call('DECRBY', KEYS[2], amt)
  redis.call('HINCRBY', KEYS[3], KEYS[2], amt)
end
return amt
`)

// KEYS: user, token, resv. ARGV: reserved, cost, limited (1/0).
// Returns what is charged: the cost, with any excess over the reservation
// capped at what the balances hold.
var settleScript = redis.NewScript(`
local r = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local limited = ARGV[3] == '1'
local u = redis.call('GET', KEYS[1])
local t = false
if limited then t = redis.call('GET', KEYS[2]) end
local charged = cost
if cost > r then
  local avail = 0
  if u then avail = tonumber(u) end
  if limited then
    local tv = 0
    if t then tv = tonumber(t) end
    if tv < avail then avail = tv end
  end
  if avail < 0 then avail = 0 end
  local extra = cost - r
  if extra > avail then extra = avail end
  charged = r + extra
end
local back = r - charged
if u then redis.call('INCRBY', KEYS[1], back) end
if limited and t then redis.call('INCRBY', KEYS[2], back) end
local function unhold(k)
  local left = redis.call('HINCRBY', KEYS[3], k, -r)
  if left <= 0 then redis.call('HDEL', KEYS[3], k) end
end
unhold(KEYS[1])
if limited then unhold(KEYS[2]) end
return charged
`)

// KEYS: balance. ARGV: delta. Applies delta, never below zero, when the
// balance is seeded; returns the delta applied, or the string "unseeded".
var creditScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 'unseeded' end
local d = tonumber(ARGV[1])
if tonumber(v) + d < 0 then d = -tonumber(v) end
redis.call('INCRBY', KEYS[1], d)
return d
`)

// KEYS: resv hash. Gives every held amount back and drops the hash.
var releaseScript = redis.NewScript(`
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do
  if redis.call('EXISTS', kv[i]) == 1 then
    redis.call('INCRBY', kv[i], tonumber(kv[i+1]))
  end
end
redis.call('DEL', KEYS[1])
return #kv / 2
`)

// seed copies a balance from its row into Redis unless it is there.
func (sb *sharedBalances) seed(ctx context.Context, l *Ledger, acct Account) error {
	var u User
	if err := l.store.DB.WithContext(ctx).Select("id", "quota").First(&u, acct.UserID).Error; err != nil {
		if notFound(err) {
			return ErrUserNotFound
		}
		return err
	}
	if err := sb.rdb.SetNX(ctx, sb.userKey(acct.UserID), u.Quota, 0).Err(); err != nil {
		return err
	}
	if acct.TokenID == 0 {
		return nil
	}
	var t Token
	if err := l.store.DB.WithContext(ctx).Select("id", "remain_quota").First(&t, acct.TokenID).Error; err != nil {
		if notFound(err) {
			return ErrTokenNotFound
		}
		return err
	}
	return sb.rdb.SetNX(ctx, sb.tokenKey(acct.TokenID), t.RemainQuota, 0).Err()
}

func (sb *sharedBalances) keys(acct Account) []string {
	tk := sb.prefix + "none"
	if acct.TokenID != 0 {
		tk = sb.tokenKey(acct.TokenID)
	}
	return []string{sb.userKey(acct.UserID), tk, sb.resvKey(sb.node)}
}

func limitedFlag(acct Account) string {
	if acct.TokenID != 0 && !acct.UnlimitedToken {
		return "1"
	}
	return "0"
}

func (sb *sharedBalances) reserve(ctx context.Context, l *Ledger, acct Account, estimate int64) (int64, error) {
	keys := sb.keys(acct)
	for range 2 {
		n, err := reserveScript.Run(ctx, sb.rdb, keys, estimate, limitedFlag(acct)).Int64()
		if err != nil {
			return 0, fmt.Errorf("ledger: reserve in redis: %w", err)
		}
		switch n {
		case -1:
			return 0, ErrUserQuotaExhausted
		case -3:
			return 0, ErrTokenQuotaExhausted
		case -2:
			if err := sb.seed(ctx, l, acct); err != nil {
				return 0, err
			}
			continue
		}
		return n, nil
	}
	return 0, errors.New("ledger: balance vanished from redis while seeding")
}

func (sb *sharedBalances) settle(r *Reservation, cost int64) int64 {
	// Settlement must happen even when the client's context is gone.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	charged, err := settleScript.Run(ctx, sb.rdb, sb.keys(r.acct), r.amount, cost, limitedFlag(r.acct)).Int64()
	if err != nil {
		// Redis is unreachable: charge what was reserved (never more),
		// so the database still records the call; the held amount comes
		// back when the balance is reseeded.
		slog.Error("ledger: settle in redis failed; charging the reservation", "user", r.acct.UserID, "err", err)
		return min(cost, r.amount)
	}
	return charged
}

// credit applies delta to a seeded balance; unseeded ones pick the change
// up from the row when they are seeded.
func (sb *sharedBalances) credit(ctx context.Context, key string, delta int64) (applied int64, seeded bool, err error) {
	v, err := creditScript.Run(ctx, sb.rdb, []string{key}, delta).Result()
	if err != nil {
		return 0, false, err
	}
	if s, ok := v.(string); ok && s == "unseeded" {
		return delta, false, nil
	}
	n, _ := v.(int64)
	return n, true, nil
}

func (sb *sharedBalances) available(ctx context.Context, key string) (int64, bool) {
	n, err := sb.rdb.Get(ctx, key).Int64()
	if err != nil {
		return 0, false
	}
	return n, true
}

// heartbeat marks this node alive.
func (sb *sharedBalances) heartbeat(ctx context.Context) {
	if err := sb.rdb.Set(ctx, sb.nodeKey(sb.node), "1", nodeTTL).Err(); err != nil {
		slog.Warn("ledger: heartbeat failed", "err", err)
	}
}

// ReleaseOrphans gives back the reservations of nodes whose heartbeat
// expired (they died holding them) and returns how many balances it
// touched. Every node runs it at start and each minute.
func (l *Ledger) ReleaseOrphans(ctx context.Context) (int, error) {
	sb := l.shared
	if sb == nil {
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
		n, err := releaseScript.Run(ctx, sb.rdb, []string{key}).Int()
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

// stop ends this node's presence; its reservations are all settled by now.
func (sb *sharedBalances) stop(ctx context.Context) {
	sb.rdb.Del(ctx, sb.nodeKey(sb.node))
}
