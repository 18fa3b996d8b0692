package openai

import (
	"testing"

	"switchyard/common/channeltype"
	"switchyard/relay/adaptor"
)

func TestRerankUsageOfEachVendor(t *testing.T) {
	cases := []struct {
		name, body string
		prompt     int
	}{
		{"Jina's usage", `{"model":"m","usage":{"total_tokens":12},"results":[{"index":0,"relevance_score":0.5}]}`, 12},
		{"SiliconFlow's meta.tokens", `{"id":"x","results":[],"meta":{"tokens":{"input_tokens":7,"output_tokens":0}}}`, 7},
		{"Cohere's search units: counted locally", `{"id":"x","results":[{"index":0,"relevance_score":0.5}],"meta":{"billed_units":{"search_units":1}}}`, 0},
	}
	for _, c := range cases {
		r, err := RerankResponse([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := 0
		if r.Usage != nil {
			got = r.Usage.PromptTokens
		}
		if got != c.prompt {
			t.Errorf("%s: %d prompt tokens, want %d", c.name, got, c.prompt)
		}
	}
	if _, err := RerankResponse([]byte(`{"object":"list","data":[]}`)); err == nil {
		t.Fatal("an answer without results parsed")
	}
}

// Vendor paths from the registry rows: Cloudflare's account id from the
// config, Cohere's rerank beside its compatibility prefix.
func TestVendorPaths(t *testing.T) {
	cf, _ := channeltype.Get(37)
	up := &adaptor.Upstream{BaseURL: cf.BaseURL, Vendor: cf.Vendor, Config: map[string]string{"account_id": "acc 1"}}
	if got := VendorURL(up, Paths[adaptor.ModeChat]); got != "https://api.cloudflare.com/client/v4/accounts/acc%201/ai/v1/chat/completions" {
		t.Errorf("Cloudflare chat: %s", got)
	}
	co, _ := channeltype.Get(35)
	up = &adaptor.Upstream{BaseURL: co.BaseURL, Vendor: co.Vendor}
	if got := VendorURL(up, Paths[adaptor.ModeRerank]); got != "https://api.cohere.ai/v2/rerank" {
		t.Errorf("Cohere rerank: %s", got)
	}
	if got := VendorURL(up, Paths[adaptor.ModeChat]); got != "https://api.cohere.ai/compatibility/v1/chat/completions" {
		t.Errorf("Cohere chat: %s", got)
	}
	zp, _ := channeltype.Get(16)
	up = &adaptor.Upstream{BaseURL: zp.BaseURL, Vendor: zp.Vendor}
	if got := VendorURL(up, Paths[adaptor.ModeEmbeddings]); got != "https://open.bigmodel.cn/api/paas/v4/embeddings" {
		t.Errorf("Zhipu embeddings: %s", got)
	}
	g, _ := channeltype.Get(51)
	up = &adaptor.Upstream{BaseURL: g.BaseURL, Vendor: g.Vendor}
	if got := VendorURL(up, Paths[adaptor.ModeChat]); got != "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions" {
		t.Errorf("Gemini's OpenAI endpoint: %s", got)
	}
	ds, _ := channeltype.Get(17)
	up = &adaptor.Upstream{BaseURL: ds.BaseURL + "/compatible-mode/v1", Vendor: ds.Vendor}
	if got := VendorURL(up, Paths[adaptor.ModeChat]); got != "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions" {
		t.Errorf("a base URL that already has the prefix: %s", got)
	}
}
