package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-redis/redis/v8"
)

// StoredResponseTTL is how long the relay remembers who owns a stored
// Responses answer: OpenAI keeps stored responses for 30 days.
const StoredResponseTTL = 30 * 24 * time.Hour

// storedResponsesMax bounds the ids one node remembers in memory; the
// oldest go first. With Redis every node also reads the shared copy.
const storedResponsesMax = 100_000

// StoredOwner is the channel that keeps a stored Responses answer and the
// user whose call made it.
type StoredOwner struct {
	ChannelID int
	UserID    int
}

// StoredResponses remembers, for each Responses id a channel returned,
// which channel keeps it and which user made it, so that GET and DELETE
// /v1/responses/{id} go to that channel and only for that user: the
// channel's key is shared by every user of the relay, and the upstream
// would hand any stored answer to it.
//
// Memory holds the latest storedResponsesMax ids of this node; with Redis
// the owner is also written there (key "<prefix>resp:<id>", 30 days), so
// an id made on one node is found on every other and after a restart.
type StoredResponses struct {
	rdb    *redis.Client
	prefix string

	mu    sync.Mutex
	mem   map[string]storedEntry
	order []string // ring of ids in insertion order
	next  int
}

type storedEntry struct {
	owner   StoredOwner
	expires time.Time
}

// NewStoredResponses keeps owners in memory and, when rdb is set, in Redis.
func NewStoredResponses(rdb *redis.Client, prefix string) *StoredResponses {
	return &StoredResponses{rdb: rdb, prefix: prefix, mem: map[string]storedEntry{}}
}

func (s *StoredResponses) key(id string) string { return s.prefix + "resp:" + id }

// Remember records owner for id. The memory write is immediate; the Redis
// write runs off the request path under ctx.
func (s *StoredResponses) Remember(ctx context.Context, id string, owner StoredOwner) {
	if id == "" {
		return
	}
	s.mu.Lock()
	if _, ok := s.mem[id]; !ok {
		if len(s.order) < storedResponsesMax {
			s.order = append(s.order, id)
		} else {
			delete(s.mem, s.order[s.next])
			s.order[s.next] = id
			s.next = (s.next + 1) % storedResponsesMax
		}
	}
	s.mem[id] = storedEntry{owner: owner, expires: time.Now().Add(StoredResponseTTL)}
	s.mu.Unlock()
	if s.rdb == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.rdb.Set(ctx, s.key(id), fmt.Sprintf("%d:%d", owner.ChannelID, owner.UserID), StoredResponseTTL).Err(); err != nil {
			slog.Warn("could not share a stored response's owner", "err", err)
		}
	}()
}

// Lookup returns the owner of id: from memory, else from Redis.
func (s *StoredResponses) Lookup(ctx context.Context, id string) (StoredOwner, bool, error) {
	s.mu.Lock()
	e, ok := s.mem[id]
	s.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.owner, true, nil
	}
	if s.rdb == nil {
		return StoredOwner{}, false, nil
	}
	v, err := s.rdb.Get(ctx, s.key(id)).Result()
	if errors.Is(err, redis.Nil) {
		return StoredOwner{}, false, nil
	}
	if err != nil {
		return StoredOwner{}, false, err
	}
	var o StoredOwner
	if _, err := fmt.Sscanf(v, "%d:%d", &o.ChannelID, &o.UserID); err != nil {
		return StoredOwner{}, false, nil
	}
	return o, true, nil
}

// Forget drops id after a successful DELETE.
func (s *StoredResponses) Forget(ctx context.Context, id string) {
	s.mu.Lock()
	if e, ok := s.mem[id]; ok {
		e.expires = time.Time{}
		s.mem[id] = e
	}
	s.mu.Unlock()
	if s.rdb != nil {
		if err := s.rdb.Del(ctx, s.key(id)).Err(); err != nil {
			slog.Warn("could not forget a stored response's owner", "err", err)
		}
	}
}
