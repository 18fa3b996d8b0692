package model

import (
	"encoding/json"
)

// The options of the relay: prices, retries, channel health and logging.
// ModelRatio 1 means $0.002 per 1K tokens (One API's unit); CompletionRatio
// multiplies the price of completion tokens against prompt tokens.
func init() {
	defineOptions(map[string]OptionDef{
		"ModelRatio":      {Kind: OptJSON, Default: mustJSON(defaultModelRatio), Check: checkRatioMap},
		"CompletionRatio": {Kind: OptJSON, Default: mustJSON(defaultCompletionRatio), Check: checkRatioMap},
		// RetryTimes is how many other channels a failed request may try.
		// One API's default is 0; ours is 2 because failover is the point of
		// running a relay in front of several channels.
		"RetryTimes":                     {Kind: OptInt, Default: "2", Min: 0},
		"AutomaticDisableChannelEnabled": {Kind: OptBool, Default: "false"},
		"AutomaticEnableChannelEnabled":  {Kind: OptBool, Default: "false"},
		// ChannelDisableThreshold is in seconds: a channel whose test answers
		// slower than this is disabled (when automatic disabling is on).
		"ChannelDisableThreshold": {Kind: OptFloat, Default: "5", Min: 0},
		// ChannelTestFrequency is minutes between background tests of every
		// channel; 0 turns the monitor off.
		"ChannelTestFrequency": {Kind: OptInt, Default: "0", Min: 0},
		"LogContentEnabled":    {Kind: OptBool, Default: "false"},
		"LogContentMaxBytes":   {Kind: OptInt, Default: "4096", Min: 0},
		// StreamKeepAliveSeconds is the gap after which a stream still waiting
		// for its first token gets an SSE comment; 0 turns keep-alives off.
		"StreamKeepAliveSeconds": {Kind: OptInt, Default: "10", Min: 0},
		// ChannelCooldownFailures consecutive failures rest a channel for
		// ChannelCooldownSeconds; either at 0 turns cooldown off.
		"ChannelCooldownFailures": {Kind: OptInt, Default: "3", Min: 0},
		"ChannelCooldownSeconds":  {Kind: OptInt, Default: "30", Min: 0},
		// UnknownModelRatio prices models missing from ModelRatio. At 0, the
		// default, they are refused with a message naming the model
		// (relay/billing.go): a forgotten price is found by the first call,
		// not on the bill. One API charges 30 for them; an operator who
		// wants that sets it here.
		"UnknownModelRatio": {Kind: OptFloat, Default: "0", Min: 0},
		// CacheRatio prices cached prompt tokens (cache reads) against the
		// model's prompt price, per model as ModelRatio is; a model it
		// does not name uses DefaultCacheRatio.
		"CacheRatio": {Kind: OptJSON, Default: mustJSON(defaultCacheRatio), Check: checkRatioMap},
		// CacheCreationRatio prices prompt tokens written to a cache
		// (Anthropic's five-minute cache writes cost 1.25 times input).
		"CacheCreationRatio": {Kind: OptFloat, Default: "1.25", Min: 0},
	})
}

// defaultModelRatio is One API's price table for well-known models, in its
// unit (1 == $0.002 / 1K prompt tokens, so ratio = $ per 1M input / 2).
// Images are priced per picture (ratio × 1000 tokens), speech per input
// character and transcription per output token.
var defaultModelRatio = map[string]float64{
	"gpt-3.5-turbo":              0.25,
	"gpt-3.5-turbo-0125":         0.25,
	"gpt-3.5-turbo-instruct":     0.75,
	"gpt-4":                      15,
	"gpt-4-turbo":                5,
	"gpt-4o":                     1.25,
	"gpt-4o-mini":                0.075,
	"gpt-4.1":                    1,
	"gpt-4.1-mini":               0.2,
	"o1":                         7.5,
	"o1-mini":                    0.55,
	"o3-mini":                    0.55,
	"text-embedding-ada-002":     0.05,
	"text-embedding-3-small":     0.01,
	"text-embedding-3-large":     0.065,
	"text-moderation-latest":     0.1,
	"omni-moderation-latest":     0.1,
	"dall-e-2":                   10,
	"dall-e-3":                   20,
	"gpt-image-1":                21,
	"whisper-1":                  15,
	"tts-1":                      7.5,
	"tts-1-hd":                   15,
	"claude-3-haiku-20240307":    0.125,
	"claude-3-5-haiku-20241022":  0.4,
	"claude-3-sonnet-20240229":   1.5,
	"claude-3-5-sonnet-20240620": 1.5,
	"claude-3-5-sonnet-20241022": 1.5,
	"claude-3-opus-20240229":     7.5,
	"claude-3-5-haiku":           0.4,
	"claude-3-7-sonnet":          1.5,
	"claude-sonnet-4-0":          1.5,
	"claude-sonnet-4-5":          1.5,
	"claude-opus-4-1":            7.5,
	"o3":                         1,
	"o4-mini":                    0.55,
	"gpt-5":                      0.625,
	"deepseek-chat":              0.14,
	"deepseek-reasoner":          0.14,
	"gemini-1.5-pro":             0.625,
	"gemini-1.5-flash":           0.0375,
}

// DefaultCacheRatio prices cache reads of models CacheRatio does not name:
// a tenth of the prompt price, as Anthropic, DeepSeek and OpenAI's newest
// models charge.
const DefaultCacheRatio = 0.1

// defaultCacheRatio is cached input price / input price from each
// provider's published prices.
var defaultCacheRatio = map[string]float64{
	"gpt-4o":       0.5,
	"gpt-4o-mini":  0.5,
	"gpt-4.1":      0.25,
	"gpt-4.1-mini": 0.25,
	"gpt-4.1-nano": 0.25,
	"o1":           0.5,
	"o1-mini":      0.5,
	"o3-mini":      0.5,
	"o3":           0.25,
	"o4-mini":      0.25,
	"gpt-5":        0.1,
	"claude":       0.1,
	"deepseek":     0.1,
}

// defaultCompletionRatio: completion price / prompt price.
var defaultCompletionRatio = map[string]float64{
	"gpt-3.5-turbo":              3,
	"gpt-3.5-turbo-0125":         3,
	"gpt-3.5-turbo-instruct":     4.0 / 3,
	"gpt-4":                      2,
	"gpt-4-turbo":                3,
	"gpt-4o":                     4,
	"gpt-4o-mini":                4,
	"gpt-4.1":                    4,
	"gpt-4.1-mini":               4,
	"o1":                         4,
	"o1-mini":                    4,
	"o3-mini":                    4,
	"claude-3-haiku-20240307":    5,
	"claude-3-5-haiku-20241022":  5,
	"claude-3-sonnet-20240229":   5,
	"claude-3-5-sonnet-20240620": 5,
	"claude-3-5-sonnet-20241022": 5,
	"claude-3-opus-20240229":     5,
	"claude-3-5-haiku":           5,
	"claude-3-7-sonnet":          5,
	"claude-sonnet-4-0":          5,
	"claude-sonnet-4-5":          5,
	"claude-opus-4-1":            5,
	"o3":                         4,
	"o4-mini":                    4,
	"gpt-5":                      8,
	"deepseek-chat":              1.5,
	"deepseek-reasoner":          1.5,
	"gemini-1.5-pro":             4,
	"gemini-1.5-flash":           4,
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func parseRatioMap(v string) map[string]float64 {
	m := map[string]float64{}
	_ = json.Unmarshal([]byte(v), &m)
	return m
}

// ModelRatioOf is the price ratio of model in snap: the exact name, else the
// longest configured prefix (so "gpt-4o-2024-08-06" prices as "gpt-4o"),
// else UnknownModelRatio. known reports whether a price was configured.
func ModelRatioOf(snap *OptionSnapshot, model string) (ratio float64, known bool) {
	if r, ok := lookupRatio(snap.parsed.ModelRatio, model); ok {
		return r, true
	}
	return snap.parsed.UnknownModelRatio, false
}

// CompletionRatioOf is model's completion ratio in snap, 1 when unset.
func CompletionRatioOf(snap *OptionSnapshot, model string) float64 {
	if r, ok := lookupRatio(snap.parsed.CompletionRatio, model); ok {
		return r
	}
	return 1
}

// CacheRatioOf is the price of model's cache reads against its prompt
// price: CacheRatio's entry for it (or its longest prefix), else
// DefaultCacheRatio.
func CacheRatioOf(snap *OptionSnapshot, model string) float64 {
	if r, ok := lookupRatio(snap.parsed.CacheRatio, model); ok {
		return r
	}
	return DefaultCacheRatio
}

// CacheCreationRatio is the price of cache writes against the prompt
// price.
func CacheCreationRatio(snap *OptionSnapshot) float64 { return snap.parsed.CacheCreationRatio }

func lookupRatio(m map[string]float64, model string) (float64, bool) {
	if r, ok := m[model]; ok {
		return r, true
	}
	// The longest key that model extends at a separator ("gpt-4o" for
	// "gpt-4o-2024-08-06", "claude-3-5-sonnet" for "...@20241022"): one
	// map read per separator, longest first, rather than a pass over
	// every priced model on every call.
	for i := len(model) - 1; i > 0; i-- {
		if c := model[i]; c == '-' || c == ':' || c == '@' {
			if r, ok := m[model[:i]]; ok {
				return r, true
			}
		}
	}
	return 0, false
}
