package adaptor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchyard/common/channeltype"
	"switchyard/relay/sse"
)

// Format is the shape of a request or answer body.
type Format int

// The body formats. FormatNeutral is a request the relay built itself.
const (
	FormatNeutral Format = iota
	FormatOpenAI
	FormatResponses
	FormatAnthropic
	FormatGemini
)

// String names the format for logs.
func (f Format) String() string {
	switch f {
	case FormatNeutral:
		return "neutral"
	case FormatOpenAI:
		return "openai"
	case FormatResponses:
		return "responses"
	case FormatAnthropic:
		return "anthropic"
	case FormatGemini:
		return "gemini"
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

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
	ModeRerank
	// ModeCountTokens counts a chat call's input tokens (Anthropic's
	// /v1/messages/count_tokens); adaptors serve it through Counter.
	ModeCountTokens
	// ModeImageEdit edits or extends images (/v1/images/edits, a
	// multipart form), priced per image as ModeImages is.
	ModeImageEdit
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
	case ModeRerank:
		return "rerank"
	case ModeCountTokens:
		return "count_tokens"
	case ModeImageEdit:
		return "image_edit"
	}
	return "unknown"
}

// Multipart reports whether the mode's body is a multipart form.
func (m Mode) Multipart() bool {
	return m == ModeTranscription || m == ModeTranslation || m == ModeImageEdit
}

// PerImage reports whether the mode is priced per image made.
func (m Mode) PerImage() bool { return m == ModeImages || m == ModeImageEdit }

// Request is a client's call as the front understood it. The front fills
// everything the engine and the adaptors read, so neither parses a body.
type Request struct {
	Mode Mode
	// Format is the client's body format.
	Format Format
	// Model is the name the client asked for; UpstreamModel the name sent
	// to the chosen channel after its model mapping (set by the engine
	// before each attempt).
	Model         string
	UpstreamModel string
	Stream        bool
	// IncludeUsage is true when the client itself asked for OpenAI's usage
	// chunk (stream_options.include_usage); the adaptor asks for it
	// regardless and the OpenAI front drops it when the client did not.
	IncludeUsage bool
	// MaxTokens is the client's completion budget, 0 when unset. It may be
	// any non-negative int the client sent; billing saturates.
	MaxTokens int
	// Raw is the client's body as received (JSON calls). Pass-through
	// sends it with only the model replaced.
	Raw []byte
	// Fields are Raw's top-level JSON fields, for adaptors that rewrite
	// one field of a pass-through body without decoding the rest.
	Fields map[string]json.RawMessage
	// Header holds client headers a pass-through must forward (such as
	// anthropic-version and anthropic-beta); nil when none.
	Header http.Header

	// Chat is the call in neutral terms, filled for a chat in any format.
	Chat *Chat
	// Input is the text of an embeddings, moderation or rerank call.
	Input []string
	// Query and Documents are a rerank call's; TopN its limit (0 all).
	Query     string
	Documents []string
	TopN      int
	// Form is the parsed body of a multipart call.
	Form *multipart.Form

	// Billing inputs, filled by the front. PromptText is the text the
	// prompt tokens are counted from, PromptExtra the tokens it does not
	// show (message framing, images, token arrays).
	PromptText  string
	PromptExtra int
	// PromptBytes bounds len(PromptText) from above when a front measured
	// the prompt without copying it out (a pass-through scan); PromptText
	// then stays empty until Complete fills it.
	PromptBytes int
	// Deferred is set by a front that only scanned the body (the fields
	// pass-through needs, the prompt measured): it reads the rest (Chat,
	// Fields, PromptText) and checks it. Call it through Complete.
	Deferred func(*Request) error
	// SpeechChars is a speech call's input length, its billing unit.
	SpeechChars int
	// Image describes an image generation call, for its price.
	Image ImageCall
}

// Complete reads what a front's scan left for later, once: the engine
// calls it before a conversion (an adaptor whose format differs reads
// Chat and Fields) and before a local token count. A request read whole
// is complete already. The error is the front's *errs.Error for a body
// the whole read refuses.
func (r *Request) Complete() error {
	f := r.Deferred
	if f == nil {
		return nil
	}
	r.Deferred = nil
	if err := f(r); err != nil {
		return err
	}
	r.PromptBytes = 0
	return nil
}

// ImageCall is what prices an image generation.
type ImageCall struct {
	N       int
	Size    string
	Quality string
}

// Chat is a chat call in neutral terms.
type Chat struct {
	// System is the system prompt (Anthropic's system, OpenAI's system and
	// developer messages, Gemini's systemInstruction).
	System   []Part
	Messages []Message
	Tools    []Tool
	// ToolChoice is nil when the client left it to the provider.
	ToolChoice  *ToolChoice
	Temperature *float64
	TopP        *float64
	TopK        *int
	Stop        []string
	MaxTokens   int
	Stream      bool
	// User identifies the end user (OpenAI's user, Anthropic's
	// metadata.user_id).
	User string
	// ResponseFormat is OpenAI's response_format, raw.
	ResponseFormat json.RawMessage
	// ReasoningEffort is OpenAI's reasoning_effort (low, medium, high).
	ReasoningEffort string
	// ThinkingBudget is Anthropic's thinking.budget_tokens; 0 is off.
	ThinkingBudget int
	// Extra keeps provider-specific fields that have no neutral name, by
	// their wire name, for a converter that knows them.
	Extra map[string]json.RawMessage
}

// Roles of a Message.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	// RoleTool carries one tool result: ToolCallID names the call, Parts
	// hold its content. Anthropic's tool_result blocks become one such
	// message each, and go back as blocks of one user message.
	RoleTool = "tool"
)

// Message is one turn of a chat.
type Message struct {
	Role  string
	Parts []Part
	// ToolCalls are the calls an assistant turn made.
	ToolCalls []ToolCall
	// ToolCallID is set on a RoleTool message.
	ToolCallID string
	// IsError marks a tool result that reports a failure.
	IsError bool
	// Name is OpenAI's participant name.
	Name string
}

// Part types.
const (
	PartText     = "text"
	PartImage    = "image"
	PartThinking = "thinking"
	// PartRedactedThinking is Anthropic's redacted_thinking: Data holds
	// the opaque blob.
	PartRedactedThinking = "redacted_thinking"
)

// Part is one piece of content.
type Part struct {
	Type string
	Text string
	// ImageURL is an image by URL; MediaType and Data (base64) an inline
	// one. A data: URL from an OpenAI client is split into the two.
	ImageURL  string
	MediaType string
	Data      string
	// Signature is a thinking block's signature (Anthropic), kept so the
	// block can be sent back.
	Signature string
	// CacheControl is Anthropic's cache_control on the block, raw.
	CacheControl json.RawMessage
}

// ToolCall is a call a model made to a tool.
type ToolCall struct {
	ID   string
	Name string
	// Args is the arguments' JSON text as the model wrote it.
	Args string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON schema of the arguments.
	Parameters json.RawMessage
}

// Tool choice modes.
const (
	ToolAuto     = "auto"
	ToolNone     = "none"
	ToolRequired = "required"
	// ToolNamed forces the tool named in ToolChoice.Name.
	ToolNamed = "tool"
)

// ToolChoice says whether and which tool the model must call.
type ToolChoice struct {
	Mode string
	Name string
}

// Finish reasons, OpenAI's names.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// Usage is what a call consumed, in tokens. PromptTokens counts all input
// tokens, cache reads and writes included; CompletionTokens includes
// ReasoningTokens.
type Usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	CachedTokens        int `json:"-"`
	CacheCreationTokens int `json:"-"`
	ReasoningTokens     int `json:"-"`
}

// Response is a whole (non-streamed) answer in neutral terms.
type Response struct {
	ID    string
	Model string
	// Parts are the answer's text and thinking, in order.
	Parts     []Part
	ToolCalls []ToolCall
	// FinishReason is a Finish… constant ("" when the upstream gave none).
	FinishReason string
	// StopSequence is the stop sequence that ended the answer, if any.
	StopSequence string
	// Usage is the upstream's figure, nil when it gave none.
	Usage *Usage
	// Embeddings are an embeddings call's vectors, in input order.
	Embeddings [][]float64
}

// Text is the answer's text parts joined.
func (r *Response) Text() string {
	var n int
	for _, p := range r.Parts {
		if p.Type == PartText {
			n += len(p.Text)
		}
	}
	b := make([]byte, 0, n)
	for _, p := range r.Parts {
		if p.Type == PartText {
			b = append(b, p.Text...)
		}
	}
	return string(b)
}

// EventKind says what a stream Event carries.
type EventKind int

// The neutral stream events.
const (
	// EventStart opens the answer: ID and Model are set when known.
	EventStart EventKind = iota + 1
	// EventText is a piece of answer text (Text).
	EventText
	// EventThinking is a piece of reasoning (Text), or its Signature.
	EventThinking
	// EventToolCallStart opens tool call Index with ID and Name.
	EventToolCallStart
	// EventToolArgs is a piece of tool call Index's arguments (Args).
	EventToolArgs
	// EventFinish ends the answer with Reason (a Finish… constant) and,
	// when one matched, StopSequence.
	EventFinish
	// EventUsage carries the call's usage so far (Usage); a later one
	// replaces an earlier one.
	EventUsage
)

// Event is one neutral stream delta.
type Event struct {
	Kind  EventKind
	ID    string
	Model string
	Text  string
	// Signature is a thinking block's signature (EventThinking).
	Signature string
	// Index numbers tool calls from 0 in the order they started.
	Index        int
	Name         string
	Args         string
	Reason       string
	StopSequence string
	Usage        *Usage
}

// Class is what an upstream failure means for the call and the channel.
// relay/failure.go maps each to retry, disable and cooldown, once.
type Class int

// The failure classes.
const (
	// ClassUpstream is a server fault: retry elsewhere, penalise.
	ClassUpstream Class = iota
	// ClassDeadKey means the channel's credentials are dead (bad key, no
	// credit, account deactivated): retry elsewhere and disable.
	ClassDeadKey
	// ClassAuth is a refused credential that may come back (a 403 for a
	// region or a model): retry elsewhere, penalise, do not disable.
	ClassAuth
	// ClassRateLimited: retry elsewhere, penalise.
	ClassRateLimited
	// ClassRequest is the request's own fault: not retried, not held
	// against the channel.
	ClassRequest
	// ClassContentFilter is a provider's safety refusal: a 400 to the
	// client, not retried, not held against the channel.
	ClassContentFilter
	// ClassUnsupported means this channel lacks the endpoint or mode:
	// try the next channel, no cooldown, no disable.
	ClassUnsupported
	// ClassNotFound is a model or path the channel does not know (a
	// configuration fault another channel may not share): retry
	// elsewhere, penalise.
	ClassNotFound
)

// String names the class for logs.
func (c Class) String() string {
	switch c {
	case ClassUpstream:
		return "upstream"
	case ClassDeadKey:
		return "dead_key"
	case ClassAuth:
		return "auth"
	case ClassRateLimited:
		return "rate_limited"
	case ClassRequest:
		return "request"
	case ClassContentFilter:
		return "content_filter"
	case ClassUnsupported:
		return "unsupported"
	case ClassNotFound:
		return "not_found"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// UpstreamError is a failed upstream reply in neutral terms. Message is
// the provider's text; the engine scrubs it before anyone sees it.
type UpstreamError struct {
	Status  int
	Class   Class
	Type    string
	Code    string
	Param   string
	Message string
	// RetryAfter is the provider's Retry-After, 0 when none.
	RetryAfter time.Duration
}

func (e *UpstreamError) Error() string {
	return "upstream " + http.StatusText(e.Status) + ": " + e.Message
}

// Unsupported is the error an adaptor returns from NewRequest for a mode
// or format it cannot serve.
func Unsupported(format string, mode Mode) *UpstreamError {
	return &UpstreamError{Status: http.StatusBadRequest, Class: ClassUnsupported, Code: "unsupported_by_channel",
		Message: format + " channels do not serve " + mode.String() + " calls"}
}

// Upstream is the channel an attempt goes to, as an adaptor needs it. The
// engine builds it from the channel row and the registry.
type Upstream struct {
	// ID is the channel id (for caches keyed by channel).
	ID int
	// Type is the channel type number.
	Type    int
	BaseURL string
	// Key is the one key this attempt uses.
	Key string
	// Other is the channel's `other` field, or the type's OtherDefault
	// when empty (Azure's api-version).
	Other string
	// Config holds the channel's config JSON as strings (region, ak, sk,
	// project ...); shared by every call on the channel, so read only.
	Config map[string]string
	// Vendor is the registry's OpenAI-compatible differences.
	Vendor channeltype.Vendor
	// Headers are extra headers the channel sends on every call; the
	// engine adds them to what NewRequest built (see ForChannel). Read
	// only.
	Headers http.Header
	// Proxy is the proxy the channel's calls go through (ForChannel); nil
	// goes the environment's way. Shared, so read only.
	Proxy *url.URL
}

// Adaptor speaks one provider's wire format.
type Adaptor interface {
	// Format is the body format the provider speaks natively.
	Format() Format
	// NewRequest builds the upstream call with the client's ctx (so a
	// client that leaves cancels it). For a mode or format it cannot
	// serve it returns an *UpstreamError of ClassUnsupported before
	// anything goes upstream. When Native(a, req.Format), the body is
	// req.Raw with only the model name replaced (and stream usage asked
	// for where the format needs it).
	NewRequest(ctx context.Context, up *Upstream, req *Request) (*http.Request, error)
	// ParseError classifies a non-2xx reply (status, headers for
	// Retry-After, body) through the provider's table.
	ParseError(status int, h http.Header, body []byte) *UpstreamError
	// ParseResponse decodes a whole 2xx answer. An error means it does not
	// parse in the provider's format: the attempt failed (502, retried
	// elsewhere, not billed).
	ParseResponse(req *Request, body []byte) (*Response, error)
	// NewStream returns a decoder for one call's stream.
	NewStream(req *Request) StreamDecoder
}

// StreamDecoder turns upstream stream frames into neutral events and
// keeps one call's state (message id, tool indices, usage so far).
type StreamDecoder interface {
	// Decode appends the events of one frame to out. An error means the
	// upstream sent an error in the stream (an *UpstreamError) or a frame
	// that does not parse.
	Decode(ev sse.Event, out []Event) ([]Event, error)
	// Usage is the usage reported so far, nil when none.
	Usage() *Usage
	// Done reports that the format's own end of stream arrived (OpenAI's
	// [DONE], Anthropic's message_stop, ...).
	Done() bool
}

// Meter is a StreamDecoder that can read a frame passed through untouched
// without building events: the engine's pass-through path uses it, so a
// relayed chunk allocates nothing. It keeps the decoder's state (Usage,
// Done) exactly as Decode would.
type Meter interface {
	// Meter reads frame ev, appending to text what Decode's events would
	// have produced for a local count (answer text, thinking, tool names
	// and arguments). Errors are Decode's.
	Meter(ev sse.Event, text []byte) ([]byte, Metered, error)
}

// ResponseMeter is an adaptor that can read a whole answer passed through
// for what billing needs (usage and id) without decoding it whole.
type ResponseMeter interface {
	// MeterResponse returns the answer's usage and id. ok is false when it
	// cannot tell them (no usage in the answer, or a body it does not
	// recognise): the engine then decodes the answer with ParseResponse,
	// which judges it and gives the text for a local count.
	MeterResponse(req *Request, body []byte) (u *Usage, id string, ok bool)
}

// Metered is what Meter saw in one frame.
type Metered struct {
	// Started is set on the frame Decode would have opened the answer
	// with (EventStart); ID is then the answer's id.
	Started bool
	ID      string
	// UsageOnly is set when the frame carried usage and nothing else: the
	// usage chunk the adaptor asked for on the client's behalf.
	UsageOnly bool
}

// Speaker is an adaptor that speaks more body formats natively than its
// Format (the OpenAI adaptor also speaks FormatResponses).
type Speaker interface {
	Speaks(f Format) bool
}

// Native reports whether a passes bodies of format f through untouched.
func Native(a Adaptor, f Format) bool {
	if f == FormatNeutral {
		return false
	}
	if a.Format() == f {
		return true
	}
	s, ok := a.(Speaker)
	return ok && s.Speaks(f)
}

// Frames yields a non-SSE stream's frames as events.
type Frames interface {
	Next() (sse.Event, error)
}

// FrameReader is an adaptor whose stream is not SSE (Bedrock's AWS event
// stream); the engine reads its frames through it.
type FrameReader interface {
	NewFrameReader(body io.Reader) Frames
}

// Balancer is an adaptor that can read a key's remaining balance, in US
// dollars. client never follows redirects. A non-2xx reply comes back as
// a classified *UpstreamError.
type Balancer interface {
	Balance(ctx context.Context, client *http.Client, up *Upstream) (float64, error)
}

// ErrNoBalance is a Balancer's answer for an upstream (a vendor row) that
// exposes no balance.
var ErrNoBalance = errors.New("this channel's provider does not expose a balance")

// ErrBadBalance means a balance reply was not the JSON expected.
var ErrBadBalance = errors.New("the upstream's balance reply is not JSON this relay understands")

// Counter is an adaptor with an exact token-counting endpoint
// (Anthropic's count_tokens, Gemini's and Vertex AI's countTokens,
// Bedrock's CountTokens). NewCountRequest returns a ClassUnsupported
// error, before anything is sent, for a model the endpoint cannot count.
type Counter interface {
	// NewCountRequest builds the counting call for a chat request.
	NewCountRequest(ctx context.Context, up *Upstream, req *Request) (*http.Request, error)
	// ParseCount reads the counting call's 2xx answer.
	ParseCount(body []byte) (int, error)
}

// CountOf reads a counting endpoint's answer: the first of fields the
// JSON object holds (null counts as absent), a whole number of at least
// 0. Anything else is an error, and the relay counts locally.
func CountOf(body []byte, fields ...string) (int, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, err
	}
	for _, f := range fields {
		raw, ok := v[f]
		if !ok || string(raw) == "null" {
			continue
		}
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("the upstream's count %s is %s, not a count", f, raw)
		}
		return n, nil
	}
	return 0, fmt.Errorf("the upstream's count answer has no %s", strings.Join(fields, " or "))
}

// Front is one client format.
type Front interface {
	// Format is the body format the front reads and writes.
	Format() Format
	// Parse reads the client's body for mode into a Request (Raw kept,
	// billing inputs filled). Errors are *errs.Error, rendered in the
	// route's style.
	Parse(hr *http.Request, mode Mode) (*Request, error)
	// Render writes a whole answer converted from the neutral Response;
	// the engine uses it when the adaptor's format differs. The body is
	// JSON.
	Render(req *Request, resp *Response) ([]byte, error)
	// NewEncoder writes this format's stream for one call.
	NewEncoder(req *Request, w *sse.Writer) StreamEncoder
}

// StreamEncoder writes one call's stream in a front's format. The engine
// calls Raw (pass-through) or Event (converted) for each upstream frame,
// then Finish once on a whole answer or Fail once on a cut one.
type StreamEncoder interface {
	// Event writes a converted event.
	Event(ev Event) error
	// Raw writes an upstream frame passed through untouched; decoded are
	// the events the adaptor's decoder read from it, for an encoder that
	// must drop a frame (OpenAI's usage chunk the client did not ask for).
	Raw(ev sse.Event, decoded []Event) error
	// Finish writes the format's end of stream with the call's usage.
	Finish(u *Usage) error
	// Fail writes an in-stream error in the format's shape.
	Fail(err error) error
}

// AppendEventText appends what stream events produced (text, thinking,
// tool names and arguments) to b, for a local token count when the
// upstream reports no usage.
func AppendEventText(b []byte, evs []Event) []byte {
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case EventText, EventThinking:
			b = append(b, e.Text...)
		case EventToolCallStart:
			b = append(b, e.Name...)
		case EventToolArgs:
			b = append(b, e.Args...)
		}
	}
	return b
}
