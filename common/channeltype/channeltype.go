// Package channeltype is the one registry of channel types: One API's type
// numbers, which adaptor speaks each, its default endpoint and models, what
// the console asks for, and, for OpenAI-compatible vendors, their path and
// auth differences as data. The model (validation and default base URL on
// save), the relay (adaptorFor) and the console (GET /api/channel/types)
// all read this table; nothing else lists channel types.
//
// It imports nothing of ours, so every layer may read it.
package channeltype

import "sort"

// Adaptor kinds: the wire format a type speaks upstream. The relay maps
// each to one adaptor package (relay/adaptor/<kind>).
const (
	KindOpenAI    = "openai"
	KindAzure     = "azure"
	KindAnthropic = "anthropic"
)

// Balance styles name how a vendor reports a key's balance; the openai
// adaptor package implements each.
const (
	// BalanceOpenAI reads /v1/dashboard/billing/subscription and usage.
	BalanceOpenAI = "openai"
	// BalanceOpenRouter reads /v1/credits.
	BalanceOpenRouter = "openrouter"
	// BalanceDeepSeek reads /user/balance.
	BalanceDeepSeek = "deepseek"
	// BalanceSiliconFlow reads /v1/user/info.
	BalanceSiliconFlow = "siliconflow"
)

// Vendor is how an OpenAI-compatible vendor departs from OpenAI's own
// paths and auth. The zero value is OpenAI's: /v1/... paths and
// "Authorization: Bearer <key>".
type Vendor struct {
	// PathPrefix replaces the leading "/v1" of every OpenAI path ("" keeps
	// it). A base URL that already ends in the prefix is not doubled.
	PathPrefix string `json:"path_prefix,omitempty"`
	// ChatPath, when set, is the whole path of chat completions, for
	// vendors that moved only that one.
	ChatPath string `json:"chat_path,omitempty"`
	// RerankPath, when set, is the whole path of rerank calls (Cohere's
	// /v2/rerank beside its /compatibility/v1 chat); "" is the prefixed
	// /v1/rerank that SiliconFlow and Jina serve.
	RerankPath string `json:"rerank_path,omitempty"`
	// AuthHeader is the header carrying the key; "" is Authorization.
	AuthHeader string `json:"auth_header,omitempty"`
	// AuthPrefix goes before the key in AuthHeader; used only when
	// AuthHeader is set ("Bearer " is Authorization's default).
	AuthPrefix string `json:"auth_prefix,omitempty"`
	// Balance is the vendor's balance style ("" when it exposes none).
	Balance string `json:"balance,omitempty"`
}

// Type is one channel type.
type Type struct {
	// Number is One API's type number, stored on the channel.
	Number int `json:"type"`
	// Name is what the console shows.
	Name string `json:"name"`
	// Adaptor is the wire format spoken upstream (a Kind… constant).
	Adaptor string `json:"-"`
	// BaseURL is the default endpoint when a channel sets none; with
	// BaseURLRequired it is only an example for the console.
	BaseURL string `json:"base_url"`
	// BaseURLRequired means every channel of the type must set base_url.
	BaseURLRequired bool `json:"base_url_required"`
	// Models are the models a new channel of the type offers by default.
	Models []string `json:"models"`
	// Other labels the channel's `other` field for this type ("" when the
	// type does not use it); OtherDefault is used when it is empty.
	Other        string `json:"other"`
	OtherDefault string `json:"other_default"`
	// Config lists the keys the type reads from the channel's config JSON.
	Config []string `json:"config"`
	// KeyHint tells the console what the key looks like.
	KeyHint string `json:"key_hint"`
	// Vendor holds an OpenAI-compatible vendor's differences.
	Vendor Vendor `json:"-"`
}

// AzureAPIVersion is the api-version an Azure channel uses when its
// `other` field is empty: the latest generally available data-plane
// version of Azure OpenAI's inference API.
const AzureAPIVersion = "2024-10-21"

var openAIModels = []string{
	"gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3", "o3-mini", "o4-mini",
	"text-embedding-3-small", "text-embedding-3-large", "omni-moderation-latest",
	"dall-e-3", "tts-1", "whisper-1",
}

var types = []Type{
	{Number: 1, Name: "OpenAI", Adaptor: KindOpenAI, BaseURL: "https://api.openai.com", Models: openAIModels,
		KeyHint: "sk-...", Vendor: Vendor{Balance: BalanceOpenAI}},
	{Number: 3, Name: "Azure OpenAI", Adaptor: KindAzure, BaseURL: "https://YOUR-RESOURCE.openai.azure.com", BaseURLRequired: true,
		Models: []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"},
		Other:  "API version", OtherDefault: AzureAPIVersion,
		KeyHint: "the resource's API key (the deployment is the model name after model mapping)"},
	{Number: 8, Name: "Custom (OpenAI-compatible)", Adaptor: KindOpenAI, BaseURL: "https://example.com", BaseURLRequired: true,
		KeyHint: "the endpoint's API key", Vendor: Vendor{Balance: BalanceOpenAI}},
	{Number: 14, Name: "Anthropic Claude", Adaptor: KindAnthropic, BaseURL: "https://api.anthropic.com",
		Models:  []string{"claude-opus-4-1", "claude-sonnet-4-5", "claude-sonnet-4-0", "claude-3-7-sonnet-latest", "claude-3-5-haiku-latest"},
		KeyHint: "sk-ant-..."},
	{Number: 20, Name: "OpenRouter", Adaptor: KindOpenAI, BaseURL: "https://openrouter.ai/api",
		KeyHint: "sk-or-...", Vendor: Vendor{Balance: BalanceOpenRouter}},
	{Number: 25, Name: "Moonshot", Adaptor: KindOpenAI, BaseURL: "https://api.moonshot.cn",
		Models: []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "kimi-k2-0905-preview"}, KeyHint: "sk-..."},
	{Number: 28, Name: "Mistral", Adaptor: KindOpenAI, BaseURL: "https://api.mistral.ai",
		Models: []string{"mistral-large-latest", "mistral-medium-latest", "mistral-small-latest", "codestral-latest", "mistral-embed"}},
	{Number: 29, Name: "Groq", Adaptor: KindOpenAI, BaseURL: "https://api.groq.com/openai",
		Models: []string{"llama-3.3-70b-versatile", "llama-3.1-8b-instant", "gemma2-9b-it"}, KeyHint: "gsk_..."},
	{Number: 30, Name: "Ollama", Adaptor: KindOpenAI, BaseURL: "http://localhost:11434",
		KeyHint: "any text: Ollama checks no key"},
	{Number: 36, Name: "DeepSeek", Adaptor: KindOpenAI, BaseURL: "https://api.deepseek.com",
		Models: []string{"deepseek-chat", "deepseek-reasoner"}, KeyHint: "sk-...", Vendor: Vendor{Balance: BalanceDeepSeek}},
	{Number: 39, Name: "together.ai", Adaptor: KindOpenAI, BaseURL: "https://api.together.xyz"},
	{Number: 44, Name: "SiliconFlow", Adaptor: KindOpenAI, BaseURL: "https://api.siliconflow.cn",
		KeyHint: "sk-...", Vendor: Vendor{Balance: BalanceSiliconFlow}},
	{Number: 45, Name: "xAI", Adaptor: KindOpenAI, BaseURL: "https://api.x.ai",
		Models: []string{"grok-4", "grok-3", "grok-3-mini"}, KeyHint: "xai-..."},
}

var byNumber = func() map[int]*Type {
	types = append(types, catalogue...)
	m := make(map[int]*Type, len(types))
	for i := range types {
		t := &types[i]
		if t.Models == nil {
			t.Models = []string{}
		}
		if t.Config == nil {
			t.Config = []string{}
		}
		m[t.Number] = t
	}
	return m
}()

// Get returns type n, or false when Switchyard does not serve it. The
// returned value is a copy; callers must not modify its slices.
func Get(n int) (Type, bool) {
	t, ok := byNumber[n]
	if !ok {
		return Type{}, false
	}
	return *t, true
}

// All returns every type, by number.
func All() []Type {
	out := make([]Type, len(types))
	copy(out, types)
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}
