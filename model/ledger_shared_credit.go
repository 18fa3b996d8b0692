package model

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/go-redis/redis/v8"
	"gorm.io/gorm"

	"switchyard/common/errs"
)

// Credits and recovered charges in the shared ledger (ledger_shared.go):
// what moves a Redis balance other than a reservation or a settlement.

// KEYS: balance, resv hash of the node that died, epoch, version. ARGV: charged,
// epoch. A dead node's checkpoint was charged to the rows: the charge
// comes out of what that node held first (so releasing its hash does not
// give it back), the rest out of the balance.
var recoveredScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[2] then return -4 end
local c = tonumber(ARGV[1])
local h = tonumber(redis.call('HGET', KEYS[2], KEYS[1]) or 0)
local take = h
if c < take then take = c end
if take > 0 then
  local left = redis.call('HINCRBY', KEYS[2], KEYS[1], 0 - take)
  if left <= 0 then redis.call('HDEL', KEYS[2], KEYS[1]) end
end
if c - take > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DECRBY', KEYS[1], c - take)
end
redis.call('INCR', KEYS[4])
return 0
`)

// creditShared is Credit with the balances in Redis. A positive credit is
// written to the database first (which decides, for a redemption, who
// wins) and then the Redis balance is dropped, so the next reservation
// seeds it afresh from the row, net of every node's holds: the credit
// becomes spendable once, and only once it is in the row (issue 13,
// defect 3). A negative one is taken from Redis first (clamped at zero),
// then written, and given back if the write fails. Either way spendable
// quota never exceeds what the rows hold.
func (l *Ledger) creditShared(ctx context.Context, userID, tokenID int, delta int64, log *Log, within func(tx *gorm.DB) error) (int64, []stagedLog, error) {
	sb := l.shared
	key := sb.userKey(userID)
	if tokenID != 0 {
		key = sb.tokenKey(tokenID)
	}
	if delta >= 0 {
		staged, err := l.writeCredit(ctx, userID, tokenID, delta, log, within)
		if err != nil {
			return 0, nil, err
		}
		sb.reseed(key)
		return delta, staged, nil
	}
	applied, err := sb.debit(ctx, Account{UserID: userID, TokenID: tokenID}, key, delta)
	if err != nil {
		return 0, nil, err
	}
	staged, err := l.writeCredit(ctx, userID, tokenID, applied, log, within)
	if err != nil {
		sb.undoDebit(key, applied)
		return 0, nil, err
	}
	return applied, staged, nil
}

// KEYS: balance, version. Drops a balance so it is seeded anew, and bumps
// the version so a seed that read the row before this retries.
var reseedScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
return 0
`)

// reseed drops a balance from Redis (now, or when Redis answers again).
func (sb *sharedBalances) reseed(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sb.emu.RLock()
	defer sb.emu.RUnlock()
	if !sb.Offline() {
		err := reseedScript.Run(ctx, sb.rdb, []string{key, sb.verKey()}).Err()
		if err == nil {
			return
		}
		sb.goOffline(err)
	}
	sb.mu.Lock()
	sb.stale[key] = struct{}{}
	sb.mu.Unlock()
}

// debit takes up to -delta from a balance in Redis, seeding it first.
func (sb *sharedBalances) debit(ctx context.Context, acct Account, key string, delta int64) (int64, error) {
	for range 4 {
		sb.emu.RLock()
		sb.mu.Lock()
		epoch, offline := sb.epoch, sb.offline
		sb.mu.Unlock()
		if offline {
			sb.emu.RUnlock()
			return 0, ErrRedisUnavailable
		}
		// This node's lease on the balance goes back first, so that the
		// debit can take it (ledger_lease.go; other nodes' leases come
		// back when idle).
		sb.mu.Lock()
		leased := sb.lease[key] > 0
		sb.mu.Unlock()
		if err := sb.returnLeasesLocked(ctx, leaseKeys(leased, key)); err != nil && redisDown(ctx, err) {
			sb.emu.RUnlock()
			sb.goOffline(err)
			return 0, ErrRedisUnavailable
		}
		v, err := creditScript.Run(ctx, sb.rdb, []string{key, sb.epochKey()}, delta, epoch).Result()
		sb.emu.RUnlock()
		if err != nil {
			if redisDown(ctx, err) {
				sb.goOffline(err)
				return 0, ErrRedisUnavailable
			}
			return 0, errs.As(err)
		}
		switch v {
		case "unseeded":
			if err := sb.seed(ctx, acct); err != nil {
				return 0, errs.As(err)
			}
			continue
		case "epoch":
			if err := sb.register(ctx); err != nil {
				sb.goOffline(err)
				return 0, ErrRedisUnavailable
			}
			continue
		}
		n, _ := v.(int64)
		return n, nil
	}
	return 0, ErrRedisUnavailable
}

// undoDebit gives back a debit whose write failed.
func (sb *sharedBalances) undoDebit(key string, applied int64) {
	if applied == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sb.emu.RLock()
	defer sb.emu.RUnlock()
	sb.mu.Lock()
	epoch, offline := sb.epoch, sb.offline
	sb.mu.Unlock()
	if !offline {
		if err := creditScript.Run(ctx, sb.rdb, []string{key, sb.epochKey()}, -applied, epoch).Err(); err == nil {
			return
		}
		sb.goOffline(errors.New("undo of a failed debit"))
	}
	sb.mu.Lock()
	sb.balDelta[key] -= applied
	sb.mu.Unlock()
}

// debitRecovered takes a charge the rows received from another node's
// checkpoint out of the reservable balance too.
func (l *Ledger) debitRecovered(ctx context.Context, node string, acct Account, charged int64, periods [2]int64) {
	if charged <= 0 {
		return
	}
	if l.shared == nil {
		l.mu.Lock()
		u, t := l.users[acct.UserID], l.tokens[acct.TokenID]
		l.mu.Unlock()
		for _, b := range []*balance{u, t} {
			if b == nil || (b == t && (acct.TokenID == 0 || acct.UnlimitedToken)) {
				continue
			}
			b.mu.Lock()
			if b.loaded {
				b.remain -= min(charged, max(b.remain, 0))
				b.used += charged
			}
			b.mu.Unlock()
		}
		l.debitRecoveredPeriods(acct, charged, periods)
		return
	}
	sb := l.shared
	keys := []string{sb.userKey(acct.UserID)}
	if limitedFlag(acct) == "1" {
		keys = append(keys, sb.tokenKey(acct.TokenID))
	}
	if periods[0] != 0 {
		keys = append(keys, sb.periodKey(false, acct.UserID, periods[0]))
	}
	if periods[1] != 0 {
		keys = append(keys, sb.periodKey(true, acct.TokenID, periods[1]))
	}
	sb.emu.RLock()
	defer sb.emu.RUnlock()
	sb.mu.Lock()
	epoch, offline := sb.epoch, sb.offline
	if offline {
		for _, k := range keys {
			sb.balDelta[k] -= charged
		}
	}
	sb.mu.Unlock()
	if offline {
		return
	}
	for _, k := range keys {
		// On errEpoch Redis restarted: balances are seeded from the rows,
		// which hold the charge already.
		err := recoveredScript.Run(ctx, sb.rdb, []string{k, sb.resvKey(node), sb.epochKey(), sb.verKey()}, charged, epoch).Err()
		if err != nil {
			slog.Warn("ledger: could not take a recovered checkpoint out of redis", "key", k, "err", err)
		}
	}
}
