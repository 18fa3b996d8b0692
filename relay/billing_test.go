package relay

import (
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
		{"ratio one is one quota per token", Price{1, 1, 1}, 1000, 0, 1000},
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
	if got := p.estimate(chat, 10, 500); got != 10+200 {
		t.Fatalf("with max_tokens: %d", got)
	}
	chat.MaxTokens = 0
	if got := p.estimate(chat, 10, 500); got != 10+1000 {
		t.Fatalf("without max_tokens: %d", got)
	}
	emb := &adaptor.Request{Mode: adaptor.ModeEmbeddings}
	if got := p.estimate(emb, 10, 500); got != 10 {
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
		if got := p.imageQuota("dall-e-3", tt.size, tt.quality, tt.n); got != tt.want {
			t.Fatalf("%s %s ×%d: %d want %d", tt.size, tt.quality, tt.n, got, tt.want)
		}
	}
}
