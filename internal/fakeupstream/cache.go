package fakeupstream

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
)

// This file adds what the tests of issue 11 measure at the upstream: how
// many calls are in flight at once, and prompt caching.

// inflight counts calls being answered; peak is the most seen at once.
type inflight struct {
	now, peak atomic.Int64
}

func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.countKey(r)
		n := s.flight.now.Add(1)
		defer s.flight.now.Add(-1)
		for {
			p := s.flight.peak.Load()
			if n <= p || s.flight.peak.CompareAndSwap(p, n) {
				break
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Inflight is the number of calls being answered now.
func (s *Server) Inflight() int64 { return s.flight.now.Load() }

// PeakInflight is the most calls that were being answered at once.
func (s *Server) PeakInflight() int64 { return s.flight.peak.Load() }

// promptCache remembers the prompt prefixes this server has seen, per API
// key, as a provider's prompt cache does (OpenAI caches per organisation;
// a key stands for one here).
type promptCache struct {
	mu   sync.Mutex
	seen map[[32]byte]bool
}

// usageOf is the usage object of a chat or completion answer. With
// PromptCache on, a call whose first message this server has already seen
// under the same key reports its prompt as cached, in OpenAI's
// usage.prompt_tokens_details.cached_tokens.
func (s *Server) usageOf(r *http.Request, b Behavior, req map[string]json.RawMessage) map[string]any {
	u := map[string]any{"prompt_tokens": b.PromptTokens, "completion_tokens": b.Chunks, "total_tokens": b.PromptTokens + b.Chunks}
	if !b.PromptCache {
		return u
	}
	var msgs []json.RawMessage
	_ = json.Unmarshal(req["messages"], &msgs)
	prefix := []byte(req["prompt"])
	if len(msgs) > 0 {
		prefix = msgs[0]
	}
	h := sha256.New()
	h.Write([]byte(r.Header.Get("Authorization")))
	h.Write([]byte{0})
	h.Write(prefix)
	var sum [32]byte
	h.Sum(sum[:0])
	s.cache.mu.Lock()
	if s.cache.seen == nil {
		s.cache.seen = map[[32]byte]bool{}
	}
	hit := s.cache.seen[sum]
	s.cache.seen[sum] = true
	s.cache.mu.Unlock()
	cached := 0
	if hit {
		cached = b.PromptTokens
	}
	u["prompt_tokens_details"] = map[string]int{"cached_tokens": cached}
	return u
}

func (b Behavior) accepts(key string) bool {
	if b.Key != "" && key == b.Key {
		return true
	}
	for _, k := range b.Keys {
		if k == key {
			return true
		}
	}
	return false
}

// CallsWithKey is the number of calls that presented key (accepted or
// not).
func (s *Server) CallsWithKey(key string) int64 {
	if v, ok := s.byKey.Load(key); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (s *Server) countKey(r *http.Request) {
	key := r.Header.Get("Authorization")
	if len(key) > 7 {
		key = key[7:]
	}
	v, _ := s.byKey.LoadOrStore(key, &atomic.Int64{})
	v.(*atomic.Int64).Add(1)
}
