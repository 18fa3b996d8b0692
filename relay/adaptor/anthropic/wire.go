package anthropic

import (
	"encoding/json"

	"switchyard/relay/adaptor"
)

// The Anthropic Messages wire structs (https://docs.anthropic.com/en/api/messages).
// This adaptor builds upstream requests and reads answers with them; the
// Anthropic front reads client requests with them.

// MessagesRequest is a /v1/messages request body. System is a string or
// an array of text blocks, kept raw.
type MessagesRequest struct {
	Model         string          `json:"model"`
	MaxTokens     int             `json:"max_tokens"`
	System        json.RawMessage `json:"system,omitempty"`
	Messages      []Message       `json:"messages"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Tools         []Tool          `json:"tools,omitempty"`
	ToolChoice    *ToolChoice     `json:"tool_choice,omitempty"`
	Metadata      *Metadata       `json:"metadata,omitempty"`
	Thinking      *Thinking       `json:"thinking,omitempty"`
}

// Message is one turn. Content is a string or an array of Blocks, raw.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// Block is a content block of any type; each type uses its own fields.
type Block struct {
	Type string `json:"type"`
	// text
	Text *string `json:"text,omitempty"`
	// image (and document)
	Source *Source `json:"source,omitempty"`
	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result: Content is a string or an array of blocks.
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	// thinking and redacted_thinking
	Thinking  *string `json:"thinking,omitempty"`
	Signature string  `json:"signature,omitempty"`
	Data      string  `json:"data,omitempty"`

	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// TextOf is the block's text ("" when it has none).
func (b *Block) TextOf() string {
	if b.Text == nil {
		return ""
	}
	return *b.Text
}

// Source is an image's data: base64 with a media type, or a URL.
type Source struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// Tool is a client tool. Server tools (web search, ...) carry a Type and
// pass through only.
type Tool struct {
	Type         string          `json:"type,omitempty"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// ToolChoice is auto, any, tool (with Name) or none.
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

// Metadata is the request's metadata.
type Metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// Thinking turns extended thinking on with a token budget.
type Thinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

// MessageResponse is a whole answer, and the message of message_start.
type MessageResponse struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []Block `json:"content"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        Usage   `json:"usage"`
}

// Usage is Anthropic's usage: InputTokens excludes the cache reads and
// writes, which are counted apart.
type Usage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// Neutral is u in the relay's terms: every input token, cache reads and
// writes included, is a prompt token.
func (u Usage) Neutral() *adaptor.Usage {
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	return &adaptor.Usage{
		PromptTokens: prompt, CompletionTokens: u.OutputTokens, TotalTokens: prompt + u.OutputTokens,
		CachedTokens: u.CacheReadInputTokens, CacheCreationTokens: u.CacheCreationInputTokens,
	}
}

// UsageOf is the usage an Anthropic client is shown for a neutral one.
func UsageOf(u *adaptor.Usage) Usage {
	if u == nil {
		return Usage{}
	}
	in := u.PromptTokens - u.CachedTokens - u.CacheCreationTokens
	if in < 0 {
		in = 0
	}
	return Usage{InputTokens: in, OutputTokens: u.CompletionTokens, CacheReadInputTokens: u.CachedTokens, CacheCreationInputTokens: u.CacheCreationTokens}
}

// StreamEvent is one event of a Messages stream, any type.
type StreamEvent struct {
	Type         string           `json:"type"`
	Message      *MessageResponse `json:"message,omitempty"`
	Index        int              `json:"index"`
	ContentBlock *Block           `json:"content_block,omitempty"`
	Delta        *Delta           `json:"delta,omitempty"`
	Usage        *DeltaUsage      `json:"usage,omitempty"`
	Error        *ErrorDetail     `json:"error,omitempty"`
}

// Delta is a content_block_delta's or message_delta's delta.
type Delta struct {
	Type         string  `json:"type,omitempty"`
	Text         string  `json:"text,omitempty"`
	PartialJSON  string  `json:"partial_json,omitempty"`
	Thinking     string  `json:"thinking,omitempty"`
	Signature    string  `json:"signature,omitempty"`
	StopReason   *string `json:"stop_reason,omitempty"`
	StopSequence *string `json:"stop_sequence,omitempty"`
}

// DeltaUsage is message_delta's usage: cumulative output tokens and, from
// newer API versions, the input figures again.
type DeltaUsage struct {
	OutputTokens             int  `json:"output_tokens"`
	InputTokens              *int `json:"input_tokens,omitempty"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens,omitempty"`
}

// ErrorBody is Anthropic's error reply and error stream event.
type ErrorBody struct {
	Type  string      `json:"type"`
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the error's type and says what went wrong.
type ErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Stop reasons mapped onto the neutral finish reasons and back.
var finishOf = map[string]string{
	"end_turn":                      adaptor.FinishStop,
	"stop_sequence":                 adaptor.FinishStop,
	"pause_turn":                    adaptor.FinishStop,
	"max_tokens":                    adaptor.FinishLength,
	"model_context_window_exceeded": adaptor.FinishLength,
	"tool_use":                      adaptor.FinishToolCalls,
	"refusal":                       adaptor.FinishContentFilter,
}

// FinishOf maps an Anthropic stop_reason onto a neutral finish reason.
func FinishOf(stopReason string) string {
	if r, ok := finishOf[stopReason]; ok {
		return r
	}
	if stopReason == "" {
		return ""
	}
	return adaptor.FinishStop
}

// StopReasonOf maps a neutral finish reason onto Anthropic's stop_reason;
// a stop sequence that matched makes it stop_sequence.
func StopReasonOf(finish, stopSequence string) string {
	switch finish {
	case adaptor.FinishLength:
		return "max_tokens"
	case adaptor.FinishToolCalls:
		return "tool_use"
	case adaptor.FinishContentFilter:
		return "refusal"
	}
	if stopSequence != "" {
		return "stop_sequence"
	}
	return "end_turn"
}
