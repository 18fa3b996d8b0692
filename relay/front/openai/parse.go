// Package openai is the OpenAI client front: chat completions, completions,
// embeddings, moderations, images, speech, transcription and translation
// bodies read into the neutral request, whole answers rendered from the
// neutral response, and OpenAI's chunk stream written with its own
// "data: [DONE]" end.
package openai

import (
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/openai"
	"switchyard/relay/front"
)

// Front is the OpenAI front. The zero value is ready.
type Front struct{}

// Format implements adaptor.Front.
func (Front) Format() adaptor.Format { return adaptor.FormatOpenAI }

// maxMultipartMemory is how much of an audio upload stays in memory; the
// rest spills to a temporary file that the form removes afterwards.
const maxMultipartMemory = 8 << 20

// Counting follows OpenAI's cookbook: 3 tokens of framing per message, 1
// more for a name, 3 to prime the reply. An image is counted as one low
// detail tile: the answer's usage, not this estimate, is what is billed.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensPerReply   = 3
	tokensPerImage   = 85
)

func badParam(param, format string, args ...any) *errs.Error {
	return errs.BadRequest(format, args...).WithParam(param)
}

// Parse implements adaptor.Front.
func (Front) Parse(hr *http.Request, mode adaptor.Mode) (*adaptor.Request, error) {
	req := &adaptor.Request{Mode: mode, Format: adaptor.FormatOpenAI}
	if mode.Multipart() {
		return req, parseMultipart(hr, req)
	}
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	if mode == adaptor.ModeChat {
		// Chat is the hot path and mostly pass-through: scan it, and read
		// it whole only when a conversion needs it (scan.go).
		return req, ScanChat(raw, req)
	}
	return req, ParseJSON(raw, req)
}

// ParseJSON reads an OpenAI JSON body into req (whose Mode is set).
func ParseJSON(raw []byte, req *adaptor.Request) error {
	if err := json.Unmarshal(raw, &req.Fields); err != nil || req.Fields == nil {
		return errs.BadRequest("the body is not a JSON object")
	}
	req.Raw = raw
	f := req.Fields
	if err := decode(f, "model", &req.Model); err != nil || req.Model == "" {
		return badParam("model", "model is required and must be a string")
	}
	if err := decode(f, "stream", &req.Stream); err != nil {
		return badParam("stream", "stream must be true or false")
	}
	if so, ok := f["stream_options"]; ok && req.Stream {
		var v struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if json.Unmarshal(so, &v) != nil {
			return badParam("stream_options", "stream_options must be an object")
		}
		req.IncludeUsage = v.IncludeUsage
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		var n int
		if err := decode(f, k, &n); err != nil || n < 0 {
			return badParam(k, "%s must be a whole number", k)
		}
		if n > req.MaxTokens {
			req.MaxTokens = n
		}
	}
	switch req.Mode {
	case adaptor.ModeChat:
		return parseChat(req)
	case adaptor.ModeCompletions:
		return parseInput(req, "prompt")
	case adaptor.ModeEmbeddings, adaptor.ModeModerations:
		req.Stream = false
		return parseInput(req, "input")
	case adaptor.ModeImages:
		req.Stream = false
		var prompt string
		if err := decode(f, "prompt", &prompt); err != nil || prompt == "" {
			return badParam("prompt", "prompt is required")
		}
		req.Image.N = 1
		if err := decode(f, "n", &req.Image.N); err != nil || req.Image.N < 1 || req.Image.N > 10 {
			return badParam("n", "n must be between 1 and 10")
		}
		if decode(f, "size", &req.Image.Size) != nil || decode(f, "quality", &req.Image.Quality) != nil {
			return badParam("size", "size and quality must be strings")
		}
	case adaptor.ModeSpeech:
		req.Stream = false
		var input string
		if err := decode(f, "input", &input); err != nil || input == "" {
			return badParam("input", "input is required")
		}
		req.SpeechChars = len([]rune(input))
	}
	return nil
}

func parseMultipart(hr *http.Request, req *adaptor.Request) error {
	if err := hr.ParseMultipartForm(maxMultipartMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is too large")
		}
		return errs.BadRequest("the body must be a multipart form")
	}
	form := hr.MultipartForm
	req.Form = form
	if m := form.Value["model"]; len(m) > 0 {
		req.Model = strings.TrimSpace(m[0])
	}
	if req.Model == "" {
		return badParam("model", "model is required")
	}
	if req.Mode == adaptor.ModeImageEdit {
		return parseImageEdit(form, req)
	}
	if len(form.File["file"]) == 0 {
		return badParam("file", "file is required")
	}
	if pr := form.Value["prompt"]; len(pr) > 0 {
		req.PromptText = pr[0]
	}
	return nil
}

// parseImageEdit reads an image edit's form (OpenAI's /v1/images/edits):
// one or more images ("image", or "image[]" as the SDKs send several), a
// prompt, and the n, size and quality it is priced by.
func parseImageEdit(form *multipart.Form, req *adaptor.Request) error {
	req.Stream = false
	if len(form.File["image"]) == 0 && len(form.File["image[]"]) == 0 {
		return badParam("image", "image is required: one or more image files")
	}
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	if value("prompt") == "" {
		return badParam("prompt", "prompt is required")
	}
	req.PromptText = value("prompt")
	req.Image.N = 1
	if n := value("n"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 || v > 10 {
			return badParam("n", "n must be between 1 and 10")
		}
		req.Image.N = v
	}
	req.Image.Size, req.Image.Quality = value("size"), value("quality")
	if value("stream") == "true" {
		// A streamed edit's partial images are events this relay does not
		// price; refuse it rather than bill it as one image.
		return badParam("stream", "streamed image edits are not relayed: send stream=false")
	}
	return nil
}

// parseChat reads messages and the chat options into req.Chat, and the
// text the prompt is counted from.
func parseChat(req *adaptor.Request) error {
	f := req.Fields
	raw, ok := f["messages"]
	var msgs []wire.ChatMessage
	if !ok || json.Unmarshal(raw, &msgs) != nil || len(msgs) == 0 {
		return badParam("messages", "messages must be a non-empty array of messages")
	}
	chat := &adaptor.Chat{Stream: req.Stream, MaxTokens: req.MaxTokens, Messages: make([]adaptor.Message, 0, len(msgs))}
	var sb strings.Builder
	extra := tokensPerReply
	for _, m := range msgs {
		extra += tokensPerMessage
		sb.WriteString(m.Role)
		sb.WriteByte('\n')
		if m.Name != "" {
			extra += tokensPerName
			sb.WriteString(m.Name)
			sb.WriteByte('\n')
		}
		parts, images, err := contentParts(m.Content)
		if err != nil {
			return err
		}
		extra += images * tokensPerImage
		for _, p := range parts {
			sb.WriteString(p.Text)
		}
		nm := adaptor.Message{Role: m.Role, Parts: parts, Name: m.Name, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			sb.WriteString(tc.Function.Name)
			sb.WriteString(tc.Function.Arguments)
			nm.ToolCalls = append(nm.ToolCalls, adaptor.ToolCall{ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
		}
		sb.WriteByte('\n')
		switch m.Role {
		case "system", "developer":
			// Providers with a separate system prompt get every system
			// message there, in order.
			chat.System = append(chat.System, parts...)
		case "function":
			nm.Role, nm.ToolCallID = adaptor.RoleTool, m.Name
			chat.Messages = append(chat.Messages, nm)
		default:
			chat.Messages = append(chat.Messages, nm)
		}
	}
	if tools, ok := f["tools"]; ok {
		sb.Write(tools)
		var ts []wire.Tool
		if json.Unmarshal(tools, &ts) != nil {
			return badParam("tools", "tools must be an array of function tools")
		}
		for _, t := range ts {
			chat.Tools = append(chat.Tools, adaptor.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
		}
	}
	if err := chatOptions(f, chat); err != nil {
		return err
	}
	req.Chat = chat
	req.PromptText, req.PromptExtra = sb.String(), extra
	return nil
}

func chatOptions(f map[string]json.RawMessage, chat *adaptor.Chat) error {
	if tc, ok := f["tool_choice"]; ok && string(tc) != "null" {
		var s string
		var named struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		switch {
		case json.Unmarshal(tc, &s) == nil:
			if s != adaptor.ToolAuto && s != adaptor.ToolNone && s != adaptor.ToolRequired {
				return badParam("tool_choice", "tool_choice must be auto, none, required or a named function")
			}
			chat.ToolChoice = &adaptor.ToolChoice{Mode: s}
		case json.Unmarshal(tc, &named) == nil && named.Function.Name != "":
			chat.ToolChoice = &adaptor.ToolChoice{Mode: adaptor.ToolNamed, Name: named.Function.Name}
		default:
			return badParam("tool_choice", "tool_choice must be auto, none, required or a named function")
		}
	}
	if decode(f, "temperature", &chat.Temperature) != nil {
		return badParam("temperature", "temperature must be a number")
	}
	if decode(f, "top_p", &chat.TopP) != nil {
		return badParam("top_p", "top_p must be a number")
	}
	if st, ok := f["stop"]; ok && string(st) != "null" {
		var one string
		if json.Unmarshal(st, &one) == nil {
			chat.Stop = []string{one}
		} else if json.Unmarshal(st, &chat.Stop) != nil {
			return badParam("stop", "stop must be a string or an array of strings")
		}
	}
	if decode(f, "user", &chat.User) != nil {
		return badParam("user", "user must be a string")
	}
	if decode(f, "reasoning_effort", &chat.ReasoningEffort) != nil {
		return badParam("reasoning_effort", "reasoning_effort must be a string")
	}
	if rf, ok := f["response_format"]; ok && string(rf) != "null" {
		chat.ResponseFormat = rf
	}
	return nil
}

// contentParts reads a message content: a string, null, or an array of
// parts. It returns the parts and how many were images.
func contentParts(raw json.RawMessage) ([]adaptor.Part, int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, 0, nil
	}
	bad := badParam("messages", "message content must be a string or an array of parts")
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, 0, bad
		}
		return []adaptor.Part{{Type: adaptor.PartText, Text: s}}, 0, nil
	case '[':
		var ps []wire.ContentPart
		if json.Unmarshal(raw, &ps) != nil {
			return nil, 0, bad
		}
		out := make([]adaptor.Part, 0, len(ps))
		images := 0
		for _, p := range ps {
			switch p.Type {
			case "text", "input_text":
				out = append(out, adaptor.Part{Type: adaptor.PartText, Text: p.Text})
			case "image_url", "image":
				images++
				if p.ImageURL != nil {
					out = append(out, ImagePart(p.ImageURL.URL))
				}
			default:
				// Audio and file parts pass through to OpenAI channels; a
				// conversion has nothing to carry them in.
				if p.Text != "" {
					out = append(out, adaptor.Part{Type: adaptor.PartText, Text: p.Text})
				}
			}
		}
		return out, images, nil
	}
	return nil, 0, bad
}

// ImagePart is an image by URL, or inline when the URL is a base64 data:
// URL.
func ImagePart(url string) adaptor.Part {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		if meta, data, ok := strings.Cut(rest, ","); ok {
			if mt, ok := strings.CutSuffix(meta, ";base64"); ok {
				return adaptor.Part{Type: adaptor.PartImage, MediaType: mt, Data: data}
			}
		}
	}
	return adaptor.Part{Type: adaptor.PartImage, ImageURL: url}
}

// parseInput reads a prompt or input given as a string, an array of
// strings, or token arrays.
func parseInput(req *adaptor.Request, field string) error {
	raw, ok := req.Fields[field]
	if !ok {
		return badParam(field, "%s is required", field)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		req.PromptText = s
		req.Input = []string{s}
		return nil
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil {
		req.PromptText = strings.Join(ss, "\n")
		req.Input = ss
		return nil
	}
	var toks []int
	if json.Unmarshal(raw, &toks) == nil {
		req.PromptExtra = len(toks)
		return nil
	}
	var tokss [][]int
	if json.Unmarshal(raw, &tokss) == nil {
		for _, t := range tokss {
			req.PromptExtra += len(t)
		}
		return nil
	}
	if field == "input" {
		// Moderation accepts multi-modal parts; count their text.
		var parts []wire.ContentPart
		if json.Unmarshal(raw, &parts) == nil {
			for _, part := range parts {
				req.PromptText += part.Text
			}
			return nil
		}
	}
	return badParam(field, "%s must be a string or an array of strings or tokens", field)
}

// decode reads field k of f into out; absent and null leave out alone.
func decode(f map[string]json.RawMessage, k string, out any) error {
	if v, ok := f[k]; ok && string(v) != "null" {
		return json.Unmarshal(v, out)
	}
	return nil
}
