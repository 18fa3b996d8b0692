package responses

// The neutral vocabulary as SEAM.md names it, held here until the seam
// branch lands relay/adaptor's own; then these names point at it.

import "encoding/json"

// Chat is a neutral chat call.
type Chat struct {
	System          []Part
	Messages        []Message
	Tools           []Tool
	ToolChoice      *ToolChoice
	Temperature     *float64
	TopP            *float64
	MaxTokens       int
	Stream          bool
	User            string
	ResponseFormat  json.RawMessage
	ReasoningEffort string
}

// Message is one turn.
type Message struct {
	Role       string
	Parts      []Part
	ToolCalls  []ToolCall
	ToolCallID string
}

// ToolCall is a call the model made.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// ToolChoice is auto, none, required or tool (Name).
type ToolChoice struct {
	Mode string
	Name string
}

// Part is one piece of content.
type Part struct {
	Type      string
	Text      string
	ImageURL  string
	MediaType string
	Data      string
}

// Usage is what a call consumed.
type Usage struct {
	PromptTokens        int
	CompletionTokens    int
	CachedTokens        int
	CacheCreationTokens int
	ReasoningTokens     int
	TotalTokens         int
}

// Response is a whole answer.
type Response struct {
	ID           string
	Model        string
	Parts        []Part
	ToolCalls    []ToolCall
	FinishReason string
	Usage        *Usage
}

// EventKind names a stream delta.
type EventKind int

// The stream deltas.
const (
	EventStart EventKind = iota + 1
	EventText
	EventThinking
	EventToolCallStart
	EventToolArgs
	EventFinish
	EventUsage
)

// Event is one neutral stream delta.
type Event struct {
	Kind   EventKind
	ID     string
	Model  string
	Text   string
	Index  int
	Name   string
	Args   string
	Reason string
	Usage  *Usage
}
