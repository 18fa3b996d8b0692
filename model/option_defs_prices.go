package model

// listPrices are providers' published list prices for the models the
// channel-type catalogue offers by default, in US dollars per million
// input and output tokens (the standard tier, the shortest context band,
// no cache or batch discount: cached tokens are priced by CacheRatio).
// Prices published in yuan are converted at 7.2 CNY per USD. A price of 0
// is a model the provider serves free. Taken from the providers' pricing
// pages in late 2025; an operator overrides any of them with ModelRatio
// and CompletionRatio.
var listPrices = map[string]struct{ In, Out float64 }{
	// OpenAI
	"gpt-5": {1.25, 10}, "gpt-5-mini": {0.25, 2}, "gpt-5-nano": {0.05, 0.4},
	"gpt-4.1-nano": {0.1, 0.4}, "o3": {2, 8}, "o4-mini": {1.1, 4.4},
	// Anthropic (Vertex AI's "claude-…@date" names price by prefix)
	"claude-opus-4-1": {15, 75}, "claude-opus-4-1-20250805": {15, 75}, "claude-opus-4-20250514": {15, 75},
	"claude-sonnet-4-5": {3, 15}, "claude-sonnet-4-5-20250929": {3, 15}, "claude-sonnet-4-0": {3, 15}, "claude-sonnet-4-20250514": {3, 15},
	"claude-3-7-sonnet-latest": {3, 15}, "claude-3-7-sonnet-20250219": {3, 15},
	"claude-haiku-4-5": {1, 5}, "claude-haiku-4-5-20251001": {1, 5},
	"claude-3-5-haiku-latest": {0.8, 4}, "claude-3-5-haiku": {0.8, 4},
	// Google Gemini (also on Vertex AI and through its OpenAI endpoint)
	"gemini-2.5-pro": {1.25, 10}, "gemini-2.5-flash": {0.3, 2.5}, "gemini-2.5-flash-lite": {0.1, 0.4},
	"gemini-2.0-flash": {0.1, 0.4}, "gemini-2.0-flash-lite": {0.075, 0.3},
	"gemini-embedding-001": {0.15, 0}, "text-embedding-004": {0.1, 0},
	// Vertex AI prices its text embeddings per 1K characters ($0.000025,
	// about $0.1 per million tokens at four characters a token).
	"text-embedding-005": {0.1, 0}, "text-multilingual-embedding-002": {0.1, 0},
	// Amazon Bedrock's own and hosted models
	"amazon.nova-pro-v1:0": {0.8, 3.2}, "amazon.nova-lite-v1:0": {0.06, 0.24}, "meta.llama3-3-70b-instruct-v1:0": {0.72, 0.72},
	// DeepSeek, Mistral, xAI, Groq, Moonshot
	"deepseek-chat": {0.28, 0.42}, "deepseek-reasoner": {0.28, 0.42},
	"mistral-large-latest": {2, 6}, "mistral-medium-latest": {0.4, 2}, "mistral-small-latest": {0.1, 0.3},
	"codestral-latest": {0.3, 0.9}, "mistral-embed": {0.1, 0},
	"grok-4": {3, 15}, "grok-3": {3, 15}, "grok-3-mini": {0.3, 0.5},
	"llama-3.3-70b-versatile": {0.59, 0.79}, "llama-3.1-8b-instant": {0.05, 0.08}, "gemma2-9b-it": {0.2, 0.2},
	"moonshot-v1-8k": {0.28, 1.39}, "moonshot-v1-32k": {0.69, 2.78}, "moonshot-v1-128k": {1.39, 4.17}, "kimi-k2-0905-preview": {0.6, 2.5},
	// Zhipu
	"glm-4.6": {0.6, 2.2}, "glm-4.5": {0.6, 2.2}, "glm-4.5-air": {0.2, 1.1}, "glm-4-plus": {0.69, 0.69},
	"glm-4-flash": {0, 0}, "glm-4v-plus": {0.55, 0.55}, "embedding-3": {0.07, 0},
	// Alibaba DashScope and Bailian
	"qwen3-max": {1.2, 6}, "qwen-max": {1.6, 6.4}, "qwen-plus": {0.4, 1.2}, "qwen-turbo": {0.05, 0.2},
	"qwen-long": {0.07, 0.28}, "qwen-vl-max": {0.8, 3.2}, "text-embedding-v3": {0.07, 0}, "text-embedding-v4": {0.07, 0},
	"deepseek-v3": {0.28, 1.1}, "deepseek-r1": {0.55, 2.2},
	// Baidu Qianfan
	"ernie-4.5-turbo-128k": {0.11, 0.44}, "ernie-4.0-turbo-8k": {2.78, 8.33}, "ernie-x1-turbo-32k": {0.14, 0.55},
	"ernie-speed-128k": {0, 0}, "embedding-v1": {0.07, 0},
	// iFlytek Spark
	"4.0Ultra": {13.9, 13.9}, "generalv3.5": {4.17, 4.17}, "max-32k": {4.44, 4.44}, "pro-128k": {3.61, 3.61},
	"generalv3": {2.92, 2.92}, "lite": {0, 0},
	// 360
	"360gpt2-pro": {0.69, 0.69}, "360gpt-pro": {0.69, 0.69}, "360gpt-turbo": {0.14, 0.14}, "embedding-bert-512-v1": {0.07, 0},
	// Tencent Hunyuan
	"hunyuan-turbos-latest": {0.11, 0.28}, "hunyuan-t1-latest": {0.14, 0.55}, "hunyuan-large": {0.55, 1.67},
	"hunyuan-standard": {0.11, 0.28}, "hunyuan-lite": {0, 0}, "hunyuan-embedding": {0.1, 0},
	// Baichuan
	"Baichuan4-Turbo": {2.08, 2.08}, "Baichuan4-Air": {0.14, 0.14}, "Baichuan4": {13.9, 13.9},
	"Baichuan3-Turbo": {1.67, 1.67}, "Baichuan-Text-Embedding": {0.07, 0},
	// MiniMax
	"MiniMax-M2": {0.3, 1.2}, "MiniMax-Text-01": {0.2, 1.1}, "abab6.5s-chat": {0.14, 0.14},
	// 01.AI
	"yi-lightning": {0.14, 0.14}, "yi-large": {2.78, 2.78}, "yi-medium": {0.35, 0.35}, "yi-vision-v2": {0.83, 0.83},
	// StepFun
	"step-2-16k": {5.28, 16.7}, "step-2-mini": {0.14, 0.28}, "step-1-8k": {0.69, 2.78}, "step-1-32k": {2.08, 9.72}, "step-1v-8k": {0.69, 2.78},
	// Cohere (rerank priced per token: $2 per 1,000 searches of about 2K tokens)
	"command-a-03-2025": {2.5, 10}, "command-r-plus-08-2024": {2.5, 10}, "command-r-08-2024": {0.15, 0.6},
	"command-r7b-12-2024": {0.0375, 0.15}, "embed-v4.0": {0.12, 0}, "rerank-v3.5": {1, 0},
	// Cloudflare Workers AI
	"@cf/meta/llama-3.3-70b-instruct-fp8-fast": {0.29, 2.25}, "@cf/meta/llama-3.1-8b-instruct": {0.28, 0.83},
	"@cf/qwen/qwq-32b": {0.66, 1}, "@cf/baai/bge-m3": {0.012, 0},
	// Jina
	"jina-embeddings-v3": {0.05, 0}, "jina-embeddings-v4": {0.05, 0}, "jina-reranker-v2-base-multilingual": {0.05, 0}, "jina-reranker-m0": {0.05, 0},
	// Doubao (Volcengine Ark)
	"doubao-seed-1-6-250615": {0.11, 1.11}, "doubao-1-5-pro-32k-250115": {0.11, 0.28}, "doubao-1-5-lite-32k-250115": {0.042, 0.083},
	"doubao-embedding-text-240715": {0.1, 0},
	// Novita
	"deepseek/deepseek-v3-0324": {0.28, 1.14}, "meta-llama/llama-3.3-70b-instruct": {0.13, 0.39}, "qwen/qwen3-235b-a22b-fp8": {0.2, 0.8},
}

// listCacheRatios are cached-input price / input price where a provider's
// differs from DefaultCacheRatio (a tenth), from the same pricing pages.
var listCacheRatios = map[string]float64{
	"gemini-2.0-flash": 0.25, "gemini-2.0-flash-lite": 0.25,
	"gpt-4.1-nano": 0.25, "o3": 0.25, "o4-mini": 0.25,
	"grok-4": 0.25, "grok-3": 0.25, "grok-3-mini": 0.25,
	"kimi-k2-0905-preview": 0.25, "glm-4.6": 0.11 / 0.6, "glm-4.5": 0.11 / 0.6, "glm-4.5-air": 0.03 / 0.2,
	"qwen3-max": 0.2, "qwen-plus": 0.2, "qwen-turbo": 0.2, "qwen-max": 0.2,
}

// Package variables are initialised before any init runs, so this adds
// the list prices to the defaults before option_defs_relay.go's init
// defines the options from them. One API's unit: ratio 1 = $2 per 1M
// prompt tokens; CompletionRatio = output price / input price.
func init() {
	for name, p := range listPrices {
		defaultModelRatio[name] = p.In / 2
		if p.In > 0 && p.Out > 0 {
			defaultCompletionRatio[name] = p.Out / p.In
		}
	}
	for name, r := range listCacheRatios {
		if _, set := defaultCacheRatio[name]; !set {
			defaultCacheRatio[name] = r
		}
	}
}
