package channeltype

import (
	"net/url"
	"strings"
)

// The rest of One API's catalogue (issue 10): Google's and Amazon's own
// formats, and every provider One API lists that has an OpenAI-compatible
// endpoint today, as data. Numbers are One API's; Jina, which One API does
// not list, takes new-api's 38 (One API's 38 was DeepL, a translation API
// that no LLM relay serves). Default models are each vendor's current
// list; an operator edits them per channel.

// Adaptor kinds added with the catalogue.
const (
	KindGemini  = "gemini"
	KindVertex  = "vertex"
	KindBedrock = "bedrock"
)

// Config keys of the Google and Amazon types, One API's names.
const (
	ConfigRegion            = "region"
	ConfigVertexProject     = "vertex_ai_project_id"
	ConfigVertexADC         = "vertex_ai_adc"
	ConfigAWSAccessKey      = "ak"
	ConfigAWSSecretKey      = "sk"
	ConfigCloudflareAccount = "account_id"
)

var geminiModels = []string{
	"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-2.0-flash-lite",
	"gemini-embedding-001", "text-embedding-004",
}

var catalogue = []Type{
	{Number: 16, Name: "Zhipu GLM (v4 API)", Adaptor: KindOpenAI, BaseURL: "https://open.bigmodel.cn",
		Models: []string{"glm-4.6", "glm-4.5", "glm-4.5-air", "glm-4-plus", "glm-4-flash", "glm-4v-plus", "embedding-3"},
		Vendor: Vendor{PathPrefix: "/api/paas/v4"}},
	{Number: 17, Name: "Alibaba DashScope (compatible mode)", Adaptor: KindOpenAI, BaseURL: "https://dashscope.aliyuncs.com",
		Models:  []string{"qwen3-max", "qwen-max", "qwen-plus", "qwen-turbo", "qwen-long", "qwen-vl-max", "text-embedding-v3"},
		KeyHint: "sk-...", Vendor: Vendor{PathPrefix: "/compatible-mode/v1"}},
	{Number: 19, Name: "360 AI", Adaptor: KindOpenAI, BaseURL: "https://api.360.cn",
		Models: []string{"360gpt2-pro", "360gpt-pro", "360gpt-turbo", "embedding-bert-512-v1"}},
	{Number: 23, Name: "Tencent Hunyuan", Adaptor: KindOpenAI, BaseURL: "https://api.hunyuan.cloud.tencent.com",
		Models: []string{"hunyuan-turbos-latest", "hunyuan-t1-latest", "hunyuan-large", "hunyuan-standard", "hunyuan-lite", "hunyuan-embedding"}},
	{Number: 24, Name: "Google Gemini", Adaptor: KindGemini, BaseURL: "https://generativelanguage.googleapis.com",
		Models: geminiModels, KeyHint: "AIza... (an AI Studio API key)"},
	{Number: 26, Name: "Baichuan", Adaptor: KindOpenAI, BaseURL: "https://api.baichuan-ai.com",
		Models: []string{"Baichuan4-Turbo", "Baichuan4-Air", "Baichuan4", "Baichuan3-Turbo", "Baichuan-Text-Embedding"}, KeyHint: "sk-..."},
	{Number: 27, Name: "MiniMax", Adaptor: KindOpenAI, BaseURL: "https://api.minimax.chat",
		Models: []string{"MiniMax-M2", "MiniMax-Text-01", "abab6.5s-chat"},
		Vendor: Vendor{ChatPath: "/v1/text/chatcompletion_v2"}},
	{Number: 31, Name: "01.AI (Lingyi Wanwu)", Adaptor: KindOpenAI, BaseURL: "https://api.lingyiwanwu.com",
		Models: []string{"yi-lightning", "yi-large", "yi-medium", "yi-vision-v2"}},
	{Number: 32, Name: "StepFun", Adaptor: KindOpenAI, BaseURL: "https://api.stepfun.com",
		Models: []string{"step-2-16k", "step-2-mini", "step-1-8k", "step-1-32k", "step-1v-8k"}},
	{Number: 33, Name: "AWS Bedrock", Adaptor: KindBedrock, BaseURL: "https://bedrock-runtime.us-east-1.amazonaws.com",
		Models: []string{"claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022",
			"amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0", "meta.llama3-3-70b-instruct-v1:0"},
		Config:  []string{ConfigAWSAccessKey, ConfigAWSSecretKey, ConfigRegion},
		KeyHint: "unused: the access key (ak), secret (sk) and region go in the config; the endpoint follows the region"},
	{Number: 35, Name: "Cohere (compatibility API)", Adaptor: KindOpenAI, BaseURL: "https://api.cohere.ai",
		Models: []string{"command-a-03-2025", "command-r-plus-08-2024", "command-r-08-2024", "command-r7b-12-2024", "embed-v4.0", "rerank-v3.5"},
		Vendor: Vendor{PathPrefix: "/compatibility/v1", RerankPath: "/v2/rerank"}},
	{Number: 37, Name: "Cloudflare Workers AI", Adaptor: KindOpenAI, BaseURL: "https://api.cloudflare.com",
		Models: []string{"@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/meta/llama-3.1-8b-instruct", "@cf/qwen/qwq-32b", "@cf/baai/bge-m3"},
		Config: []string{ConfigCloudflareAccount}, KeyHint: "an API token with Workers AI access; the account id goes in the config",
		Vendor: Vendor{PathPrefix: "/client/v4/accounts/{account_id}/ai/v1"}},
	{Number: 38, Name: "Jina AI", Adaptor: KindOpenAI, BaseURL: "https://api.jina.ai",
		Models:  []string{"jina-embeddings-v3", "jina-embeddings-v4", "jina-reranker-v2-base-multilingual", "jina-reranker-m0"},
		KeyHint: "jina_...", Vendor: Vendor{RerankPath: "/v1/rerank"}},
	{Number: 40, Name: "Doubao (Volcengine Ark)", Adaptor: KindOpenAI, BaseURL: "https://ark.cn-beijing.volces.com",
		Models:  []string{"doubao-seed-1-6-250615", "doubao-1-5-pro-32k-250115", "doubao-1-5-lite-32k-250115", "doubao-embedding-text-240715"},
		KeyHint: "an Ark API key; models may also be endpoint ids (ep-...)", Vendor: Vendor{PathPrefix: "/api/v3"}},
	{Number: 41, Name: "Novita AI", Adaptor: KindOpenAI, BaseURL: "https://api.novita.ai",
		Models: []string{"deepseek/deepseek-v3-0324", "meta-llama/llama-3.3-70b-instruct", "qwen/qwen3-235b-a22b-fp8"},
		Vendor: Vendor{PathPrefix: "/v3/openai"}},
	{Number: 42, Name: "Google Vertex AI", Adaptor: KindVertex, BaseURL: "https://aiplatform.googleapis.com",
		Models:  []string{"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash", "claude-sonnet-4-5@20250929", "claude-opus-4-1@20250805", "claude-3-5-haiku@20241022"},
		Config:  []string{ConfigRegion, ConfigVertexProject, ConfigVertexADC},
		KeyHint: "unused: the service account key JSON (vertex_ai_adc), project id and region go in the config; the endpoint follows the region"},
	{Number: 47, Name: "Baidu Qianfan (v2)", Adaptor: KindOpenAI, BaseURL: "https://qianfan.baidubce.com",
		Models:  []string{"ernie-4.5-turbo-128k", "ernie-4.0-turbo-8k", "ernie-x1-turbo-32k", "ernie-speed-128k", "embedding-v1"},
		KeyHint: "bce-v3/...", Vendor: Vendor{PathPrefix: "/v2"}},
	{Number: 48, Name: "iFlytek Spark (v2)", Adaptor: KindOpenAI, BaseURL: "https://spark-api-open.xf-yun.com",
		Models: []string{"4.0Ultra", "generalv3.5", "max-32k", "pro-128k", "generalv3", "lite"}, KeyHint: "the APIPassword of the Spark console"},
	{Number: 49, Name: "Alibaba Bailian", Adaptor: KindOpenAI, BaseURL: "https://dashscope.aliyuncs.com",
		Models:  []string{"qwen3-max", "qwen-plus", "qwen-turbo", "deepseek-v3", "deepseek-r1", "text-embedding-v4"},
		KeyHint: "sk-...", Vendor: Vendor{PathPrefix: "/compatible-mode/v1"}},
	{Number: 50, Name: "OpenAI-compatible", Adaptor: KindOpenAI, BaseURL: "https://example.com", BaseURLRequired: true,
		KeyHint: "the endpoint's API key"},
	{Number: 51, Name: "Gemini (OpenAI-compatible endpoint)", Adaptor: KindOpenAI, BaseURL: "https://generativelanguage.googleapis.com",
		Models: geminiModels, KeyHint: "AIza...", Vendor: Vendor{PathPrefix: "/v1beta/openai"}},
}

// Expand fills the {key} placeholders of v's paths from a channel's
// config (Cloudflare's {account_id}), path-escaped. A key the config
// lacks is left as it is, so the vendor's 404 names it.
func Expand(v Vendor, config map[string]string) Vendor {
	if !strings.Contains(v.PathPrefix+v.ChatPath+v.RerankPath, "{") {
		return v
	}
	fill := func(p string) string {
		for k, val := range config {
			p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(val))
		}
		return p
	}
	v.PathPrefix, v.ChatPath, v.RerankPath = fill(v.PathPrefix), fill(v.ChatPath), fill(v.RerankPath)
	return v
}

// secretConfig names, per type, the config keys that hold credentials:
// the API shows them hidden and keeps them when an edit leaves them so.
var secretConfig = map[int][]string{
	33: {ConfigAWSSecretKey},
	42: {ConfigVertexADC},
}

// SecretConfig is the config keys of type n that hold credentials.
func SecretConfig(n int) []string { return secretConfig[n] }
