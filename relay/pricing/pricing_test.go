package pricing

import (
	"math"
	"testing"

	"switchyard/relay/adaptor"
)

func TestQuota(t *testing.T) {
	tests := []struct {
		name               string
		price              Price
		prompt, completion int
		want               int64
	}{
		// One API's unit: ratio 1 = $0.002/1K tokens = 1 quota per token.
		{"ratio one is one quota per token", Price{Model: 1, Completion: 1, Group: 1}, 1000, 0, 1000},
		{"completion ratio weighs completion tokens", Price{Model: 1.25, Completion: 4, Group: 1}, 100, 50, 375},
		{"group ratio scales", Price{Model: 1, Completion: 1, Group: 0.5}, 100, 100, 100},
		{"rounds up", Price{Model: 0.075, Completion: 4, Group: 1}, 9, 3, 2},
		{"a priced call costs at least 1", Price{Model: 0.01, Completion: 1, Group: 1}, 1, 0, 1},
		{"a free group costs nothing", Price{Model: 5, Completion: 1, Group: 0}, 1000, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Quota(tt.prompt, tt.completion); got != tt.want {
				t.Fatalf("got %d want %d", got, tt.want)
			}
		})
	}
}

func TestEstimateUsesMaxTokensElsePreConsumed(t *testing.T) {
	p := Price{Model: 1, Completion: 2, Group: 1}
	chat := &adaptor.Request{Mode: adaptor.ModeChat, MaxTokens: 100}
	if got := p.Estimate(chat, 10, 500); got != 10+200 {
		t.Fatalf("with max_tokens: %d", got)
	}
	chat.MaxTokens = 0
	if got := p.Estimate(chat, 10, 500); got != 10+1000 {
		t.Fatalf("without max_tokens: %d", got)
	}
	emb := &adaptor.Request{Mode: adaptor.ModeEmbeddings}
	if got := p.Estimate(emb, 10, 500); got != 10 {
		t.Fatalf("embeddings have no completion: %d", got)
	}
}

func TestImageQuota(t *testing.T) {
	p := Price{Model: 20, Completion: 1, Group: 1}
	for _, tt := range []struct {
		size, quality string
		n             int
		want          int64
	}{
		{"1024x1024", "standard", 1, 20000},
		{"1792x1024", "standard", 1, 40000},
		{"1024x1024", "hd", 2, 80000},
		{"1024x1792", "hd", 1, 60000},
	} {
		if got := p.Image("dall-e-3", tt.size, tt.quality, tt.n); got != tt.want {
			t.Fatalf("%s %s ×%d: %d want %d", tt.size, tt.quality, tt.n, got, tt.want)
		}
	}
}

// TestGPTImagePerImage: at its default ratio (21), a gpt-image-1 image
// costs about what OpenAI lists per image: $0.011 / $0.042 / $0.167 at
// 1024x1024 low / medium / high, $0.063 medium at 1536x1024 (500,000
// units a dollar).
func TestGPTImagePerImage(t *testing.T) {
	p := Price{Model: 21, Completion: 1, Group: 1}
	for _, tt := range []struct {
		size, quality string
		n             int
		dollars       float64
	}{
		{"1024x1024", "low", 1, 0.011},
		{"1024x1024", "medium", 1, 0.042},
		{"1024x1024", "", 1, 0.042},
		{"1024x1024", "high", 1, 0.167},
		{"1536x1024", "medium", 1, 0.063},
		{"1024x1024", "medium", 3, 0.126},
	} {
		got := float64(p.Image("gpt-image-1", tt.size, tt.quality, tt.n)) / 500_000
		if got < tt.dollars*0.95 || got > tt.dollars*1.05 {
			t.Errorf("%s %s ×%d: $%.4f, want about $%.3f", tt.size, tt.quality, tt.n, got, tt.dollars)
		}
	}
}

// TestCostMatchesPublishedPrices prices real usage at each provider's
// published per-million-token prices, converted to One API's unit
// (ModelRatio = $ per 1M input tokens / 2, QuotaPerUnit 500000 per $):
// the quota must be the dollar cost × 500000, rounded up.
func TestCostMatchesPublishedPrices(t *testing.T) {
	for _, tt := range []struct {
		name  string
		price Price
		usage adaptor.Usage
		want  int64
	}{
		// OpenAI gpt-4o: $2.50 in, $1.25 cached in, $10 out. 86 uncached
		// ($0.000215) + 1920 cached ($0.0024) + 300 out ($0.003) = $0.005615.
		{"openai gpt-4o with cached prompt", Price{Model: 1.25, Completion: 4, Group: 1, Cache: 0.5, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 2006, CachedTokens: 1920, CompletionTokens: 300}, 2808},
		// OpenAI gpt-4.1: $2 in, $0.50 cached, $8 out: $0.0012 + $0.0005 + $0.0008.
		{"openai gpt-4.1 cached at a quarter", Price{Model: 1, Completion: 4, Group: 1, Cache: 0.25, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 1600, CachedTokens: 1000, CompletionTokens: 100}, 1250},
		// OpenAI o3-mini: $1.10 in, $4.40 out; reasoning is billed as output.
		{"openai o3-mini reasoning is output", Price{Model: 0.55, Completion: 4, Group: 1, Cache: 0.5, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 100, CompletionTokens: 1000, ReasoningTokens: 800}, 2255},
		// Anthropic Claude Sonnet 4.5: $3 in, $3.75 cache write, $0.30 cache
		// read, $15 out. 10 in + 2000 read + 300 written + 7 out = $0.00186.
		{"anthropic sonnet with cache reads and writes", Price{Model: 1.5, Completion: 5, Group: 1, Cache: 0.1, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 2310, CachedTokens: 2000, CacheCreationTokens: 300, CompletionTokens: 7}, 930},
		// Anthropic Claude Haiku 3.5: $0.80 in, $4 out: 1000 in + 500 out = $0.0028.
		{"anthropic haiku without cache", Price{Model: 0.4, Completion: 5, Group: 1, Cache: 0.1, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 1000, CompletionTokens: 500}, 1400},
		// DeepSeek chat: $0.28 miss, $0.028 hit, $0.42 out: 200 + 800 hit + 100 out = $0.0001204.
		{"deepseek cache hits", Price{Model: 0.14, Completion: 1.5, Group: 1, Cache: 0.1, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 1000, CachedTokens: 800, CompletionTokens: 100}, 61},
		{"group ratio doubles", Price{Model: 1.5, Completion: 5, Group: 2, Cache: 0.1, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 2310, CachedTokens: 2000, CacheCreationTokens: 300, CompletionTokens: 7}, 1860},
		{"cache counts above the prompt cannot go negative", Price{Model: 1, Completion: 1, Group: 1, Cache: 0.1, CacheCreation: 1.25},
			adaptor.Usage{PromptTokens: 10, CachedTokens: 100, CompletionTokens: 0}, 10},
		{"zero tokens of a priced model cost 1", Price{Model: 1, Completion: 1, Group: 1}, adaptor.Usage{}, 1},
		{"a free model costs nothing", Price{Model: 0, Completion: 1, Group: 1}, adaptor.Usage{PromptTokens: 1 << 40}, 0},
		{"negative figures count as none", Price{Model: 1, Completion: 1, Group: 1}, adaptor.Usage{PromptTokens: -5, CompletionTokens: -9}, 1},
		{"huge completion saturates", Price{Model: 1.25, Completion: 4, Group: 1}, adaptor.Usage{PromptTokens: 9, CompletionTokens: math.MaxInt}, math.MaxInt64},
		{"huge everything saturates", Price{Model: 1e300, Completion: 1e300, Group: 1e300, Cache: 1e300, CacheCreation: 1e300},
			adaptor.Usage{PromptTokens: math.MaxInt, CachedTokens: math.MaxInt, CacheCreationTokens: math.MaxInt, CompletionTokens: math.MaxInt}, math.MaxInt64},
		{"NaN ratios price nothing", Price{Model: math.NaN(), Completion: 1, Group: 1}, adaptor.Usage{PromptTokens: 5}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); got != tt.want {
				t.Fatalf("got %d want %d", got, tt.want)
			}
		})
	}
}

// A client's max_tokens of 2^63−1 must not wrap the estimate (issue 13).
func TestEstimateSaturatesHugeMaxTokens(t *testing.T) {
	p := Price{Model: 0.075, Completion: 4, Group: 1}
	for _, n := range []int{math.MaxInt, math.MaxInt / 2, 1 << 62, math.MaxInt32} {
		if got := p.Estimate(&adaptor.Request{Mode: adaptor.ModeChat, MaxTokens: n}, 10, 500); got <= 0 {
			t.Fatalf("max_tokens %d estimated %d", n, got)
		}
	}
}

// FuzzCost: whatever the usage and ratios, the cost is never negative,
// and more tokens never cost less.
func FuzzCost(f *testing.F) {
	f.Add(2006, 1920, 0, 300, 1.25, 4.0, 1.0, 0.5, 1.25)
	f.Add(math.MaxInt, math.MaxInt, math.MaxInt, math.MaxInt, 1e300, 1e300, 1e300, 1e300, 1e300)
	f.Add(-1, 5, -7, 0, 0.0, -1.0, 2.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, prompt, cached, created, completion int, m, c, g, cr, ccr float64) {
		p := Price{Model: m, Completion: c, Group: g, Cache: cr, CacheCreation: ccr}
		u := adaptor.Usage{PromptTokens: prompt, CachedTokens: cached, CacheCreationTokens: created, CompletionTokens: completion}
		got := p.Cost(u)
		if got < 0 {
			t.Fatalf("negative cost %d for %+v at %+v", got, u, p)
		}
		if completion >= 0 && completion < math.MaxInt {
			more := u
			more.CompletionTokens++
			if p.Cost(more) < got {
				t.Fatalf("one more completion token cost less: %+v at %+v", u, p)
			}
		}
	})
}
