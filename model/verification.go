package model

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/go-redis/redis/v8"
)

// Purposes of a one-time code.
const (
	PurposeEmailVerify   = "verify"
	PurposePasswordReset = "reset"
)

// CodeTTL is how long a mailed code or reset link stays valid.
const CodeTTL = 15 * time.Minute

// Codes keeps one-time codes (email verification, password reset) keyed by
// purpose and address: in Redis when configured, so any node can check a
// code another node mailed, else in memory.
type Codes struct {
	rdb    *redis.Client
	prefix string

	mu  sync.Mutex
	mem map[string]codeEntry
}

type codeEntry struct {
	code    string
	expires time.Time
}

func newCodes(rdb *redis.Client, prefix string) *Codes {
	return &Codes{rdb: rdb, prefix: prefix, mem: map[string]codeEntry{}}
}

func (c *Codes) key(purpose, addr string) string { return c.prefix + "code:" + purpose + ":" + addr }

// Put stores code for (purpose, addr), replacing any earlier one.
func (c *Codes) Put(ctx context.Context, purpose, addr, code string) error {
	k := c.key(purpose, addr)
	if c.rdb != nil {
		return c.rdb.Set(ctx, k, code, CodeTTL).Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for key, e := range c.mem {
		if now.After(e.expires) {
			delete(c.mem, key)
		}
	}
	c.mem[k] = codeEntry{code: code, expires: now.Add(CodeTTL)}
	return nil
}

// Take reports whether code is the live code for (purpose, addr) and, if
// so, consumes it: a code works once.
func (c *Codes) Take(ctx context.Context, purpose, addr, code string) (bool, error) {
	if code == "" {
		return false, nil
	}
	k := c.key(purpose, addr)
	if c.rdb != nil {
		stored, err := c.rdb.Get(ctx, k).Result()
		if err == redis.Nil {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1 {
			return false, nil
		}
		// Del's count makes the take atomic: of two racing takers only the
		// one that deleted the key wins.
		n, err := c.rdb.Del(ctx, k).Result()
		return n == 1, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.mem[k]
	if !ok || time.Now().After(e.expires) || subtle.ConstantTimeCompare([]byte(e.code), []byte(code)) != 1 {
		return false, nil
	}
	delete(c.mem, k)
	return true, nil
}
