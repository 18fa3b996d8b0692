package model

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/go-redis/redis/v8"

	"switchyard/common/crypto"
)

// Topics of cache invalidation.
const (
	TopicOptions  = "options"
	TopicUser     = "user"
	TopicToken    = "token"
	TopicChannels = "channels"
)

const busChannel = "invalidate"

// Bus delivers cache invalidations: at once to this node's handlers and,
// with Redis configured, through Redis pub/sub to every other node, which
// applies them as soon as the message arrives (well under a second).
type Bus struct {
	rdb     *redis.Client
	channel string
	nodeID  string

	mu       sync.RWMutex
	handlers map[string][]func(key string)

	cancel context.CancelFunc
	done   chan struct{}
}

func newBus(rdb *redis.Client, prefix string) *Bus {
	b := &Bus{rdb: rdb, channel: prefix + busChannel, nodeID: crypto.RandomString(12), handlers: map[string][]func(string){}}
	if rdb != nil {
		ctx, cancel := context.WithCancel(context.Background())
		b.cancel = cancel
		b.done = make(chan struct{})
		sub := rdb.Subscribe(ctx, b.channel)
		// Wait for the subscription so no invalidation published after Open
		// returns is missed.
		if _, err := sub.Receive(ctx); err != nil {
			slog.Error("redis subscribe failed; invalidations from other nodes will wait for SYNC_FREQUENCY", "err", err)
		}
		go b.listen(ctx, sub)
	}
	return b
}

// Subscribe registers f for topic. f must be quick and must not block.
func (b *Bus) Subscribe(topic string, f func(key string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[topic] = append(b.handlers[topic], f)
}

// Publish invalidates key under topic on this node at once, then on the
// other nodes through Redis.
func (b *Bus) Publish(ctx context.Context, topic, key string) {
	b.deliver(topic, key)
	if b.rdb != nil {
		msg := b.nodeID + "|" + topic + "|" + key
		if err := b.rdb.Publish(context.WithoutCancel(ctx), b.channel, msg).Err(); err != nil {
			slog.Warn("publish invalidation failed", "topic", topic, "err", err)
		}
	}
}

func (b *Bus) deliver(topic, key string) {
	b.mu.RLock()
	hs := b.handlers[topic]
	b.mu.RUnlock()
	for _, h := range hs {
		h(key)
	}
}

func (b *Bus) listen(ctx context.Context, sub *redis.PubSub) {
	defer close(b.done)
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			parts := strings.SplitN(m.Payload, "|", 3)
			if len(parts) != 3 || parts[0] == b.nodeID {
				continue
			}
			b.deliver(parts[1], parts[2])
		}
	}
}

// Close stops listening.
func (b *Bus) Close() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
	}
}
