// Package adaptor is the relay's neutral vocabulary: the request as the
// relay understood it, usage, upstream errors and stream chunks, and the
// small interface each provider package implements. Adaptors know nothing
// of gin or of billing.
package adaptor

import (
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"

	"switchyard/model"
	"switchyard/relay/sse"
)

// Mode is the kind of call a client made.
type Mode int

// The relayed call kinds.
const (
	ModeChat Mode = iota + 1
	ModeCompletions
	ModeEmbeddings
	ModeModerations
	ModeImages
	ModeSpeech
	ModeTranscription
	ModeTranslation
	// ModeMessages is Anthropic's /v1/messages: the relay turns it into a
	// chat call and the answer back into Anthropic's shape.
	ModeMessages
)

// String names the mode for logs and metrics.
func (m Mode) String() string {
	switch m {
	case ModeChat:
		return "chat"
	case ModeCompletions:
		return "completions"
	case ModeEmbeddings:
		return "embeddings"
	case ModeModerations:
		return "moderations"
	case ModeImages:
		return "images"
	case ModeSpeech:
		return "speech"
	case ModeTranscription:
		return "transcription"
	case ModeTranslation:
		return "translation"
	case ModeMessages:
		return "messages"
	}
	return "unknown"
}

// Multipart reports whether the mode's body is a multipart form.
func (m Mode) Multipart() bool { return m == ModeTranscription || m == ModeTranslation }

// Request is a client's call as the relay understood it.
type Request struct {
	Mode Mode
	// Model is the name the client asked for; UpstreamModel the name sent
	// to the chosen channel after its model mapping.
	Model         string
	UpstreamModel string
	Stream        bool
	// IncludeUsage is true when the client itself asked for the usage chunk
	// (stream_options.include_usage); the relay asks for it regardless.
	IncludeUsage bool
	// Anthropic is set when the client speaks Anthropic's Messages format;
	// Mode and Fields then hold the chat call it was turned into.
	Anthropic bool
	// MaxTokens is the client's completion budget, 0 when unset.
	MaxTokens int
	// Fields are the top-level fields of a JSON body, kept raw so unknown
	// fields reach the upstream untouched.
	Fields map[string]json.RawMessage
	// Raw is the client's JSON body as received, when Fields came from it
	// unchanged; an adaptor may send it as is when it changes nothing.
	Raw []byte
	// Form is the parsed body of a multipart call.
	Form *multipart.Form
}

// Usage is what a call consumed, in tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Result is a whole (non-streamed) upstream answer, read and understood.
type Result struct {
	// Usage is the upstream's figure, nil when it gave none.
	Usage *Usage
	// Text is the generated text, for counting when Usage is nil.
	Text string
}

// Chunk is one streamed upstream event, understood.
type Chunk struct {
	// Forward is the event data to send to the client; nil drops the event.
	Forward []byte
	// Text is the text this event produced (content, tool arguments).
	Text string
	// Usage is set on the event that carries the call's usage.
	Usage *Usage
}

// UpstreamError is a non-2xx upstream reply in neutral terms.
type UpstreamError struct {
	Status  int
	Type    string
	Code    string
	Param   string
	Message string
}

func (e *UpstreamError) Error() string {
	return "upstream " + http.StatusText(e.Status) + ": " + e.Message
}

// Adaptor speaks one provider's wire format.
type Adaptor interface {
	// NewRequest builds the upstream request for req on ch. ctx is the
	// client's, so a client that leaves cancels the upstream call.
	NewRequest(ctx context.Context, ch *model.RelayChannel, req *Request) (*http.Request, error)
	// ParseError reads a non-2xx reply's body into the neutral error.
	ParseError(status int, body []byte) *UpstreamError
	// ParseResult reads a whole 2xx JSON answer.
	ParseResult(req *Request, body []byte) Result
	// ParseChunk reads one streamed event.
	ParseChunk(req *Request, ev sse.Event) (Chunk, error)
}
