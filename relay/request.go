package relay

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
)

// maxMultipartMemory is how much of an audio upload stays in memory; the
// rest spills to a temporary file that the form removes afterwards.
const maxMultipartMemory = 8 << 20

// parsed is a client's call read and checked, with what billing needs.
type parsed struct {
	req *adaptor.Request
	raw []byte
	// promptText is the text the prompt tokens are counted from.
	promptText string
	// promptExtra adds tokens the text does not show (message framing,
	// images).
	promptExtra int
	// speechChars is the input length of a speech call, its billing unit.
	speechChars             int
	imageN                  int
	imageSize, imageQuality string
}

func badParam(param, format string, args ...any) *errs.Error {
	return errs.BadRequest(format, args...).WithParam(param)
}

// parseRequest reads the body of hr for mode.
func parseRequest(hr *http.Request, mode adaptor.Mode) (*parsed, error) {
	p := &parsed{req: &adaptor.Request{Mode: mode, Format: adaptor.FormatOpenAI}}
	if mode.Multipart() {
		return p, p.parseMultipart(hr)
	}
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if ct != "" && ct != "application/json" {
		return nil, errs.BadRequest("the body must be JSON (Content-Type: application/json)")
	}
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is too large")
		}
		return nil, errs.BadRequest("could not read the request body")
	}
	p.raw = raw
	if mode == adaptor.ModeMessages {
		return p, p.parseAnthropic(raw)
	}
	if err := json.Unmarshal(raw, &p.req.Fields); err != nil || p.req.Fields == nil {
		return nil, errs.BadRequest("the body is not a JSON object")
	}
	p.req.Raw = raw
	f := p.req.Fields
	if err := str(f, "model", &p.req.Model); err != nil || p.req.Model == "" {
		return nil, badParam("model", "model is required and must be a string")
	}
	if err := boolean(f, "stream", &p.req.Stream); err != nil {
		return nil, badParam("stream", "stream must be true or false")
	}
	if so, ok := f["stream_options"]; ok && p.req.Stream {
		var v struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if json.Unmarshal(so, &v) != nil {
			return nil, badParam("stream_options", "stream_options must be an object")
		}
		p.req.IncludeUsage = v.IncludeUsage
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		var n int
		if err := integer(f, k, &n); err != nil || n < 0 {
			return nil, badParam(k, "%s must be a whole number", k)
		}
		if n > p.req.MaxTokens {
			p.req.MaxTokens = n
		}
	}
	switch mode {
	case adaptor.ModeChat:
		return p, p.parseMessages()
	case adaptor.ModeCompletions:
		return p, p.parseInput("prompt")
	case adaptor.ModeEmbeddings, adaptor.ModeModerations:
		p.req.Stream = false
		return p, p.parseInput("input")
	case adaptor.ModeImages:
		p.req.Stream = false
		var prompt string
		if err := str(f, "prompt", &prompt); err != nil || prompt == "" {
			return nil, badParam("prompt", "prompt is required")
		}
		p.imageN = 1
		if err := integer(f, "n", &p.imageN); err != nil || p.imageN < 1 || p.imageN > 10 {
			return nil, badParam("n", "n must be between 1 and 10")
		}
		if str(f, "size", &p.imageSize) != nil || str(f, "quality", &p.imageQuality) != nil {
			return nil, badParam("size", "size and quality must be strings")
		}
	case adaptor.ModeSpeech:
		p.req.Stream = false
		var input string
		if err := str(f, "input", &input); err != nil || input == "" {
			return nil, badParam("input", "input is required")
		}
		p.speechChars = len([]rune(input))
	}
	return p, nil
}

// parseAnthropic reads a Messages request and turns it into a chat call.
func (p *parsed) parseAnthropic(raw []byte) error {
	ar, err := anthropic.ParseRequest(raw)
	if err != nil {
		return errs.BadRequest("%s", strings.TrimPrefix(err.Error(), anthropic.ErrInvalid.Error()+": "))
	}
	r := p.req
	r.Mode, r.Format, r.Model, r.Stream, r.MaxTokens, r.Fields = adaptor.ModeChat, adaptor.FormatAnthropic, ar.Model, ar.Stream, ar.MaxTokens, ar.Fields
	return p.parseMessages()
}

func (p *parsed) parseMultipart(hr *http.Request) error {
	if err := hr.ParseMultipartForm(maxMultipartMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is too large")
		}
		return errs.BadRequest("the body must be a multipart form")
	}
	form := hr.MultipartForm
	p.req.Form = form
	if m := form.Value["model"]; len(m) > 0 {
		p.req.Model = strings.TrimSpace(m[0])
	}
	if p.req.Model == "" {
		return badParam("model", "model is required")
	}
	if len(form.File["file"]) == 0 {
		return badParam("file", "file is required")
	}
	if pr := form.Value["prompt"]; len(pr) > 0 {
		p.promptText = pr[0]
	}
	return nil
}

// message is the part of a chat message that counting needs.
type message struct {
	Role      string          `json:"role"`
	Name      string          `json:"name"`
	Content   json.RawMessage `json:"content"`
	ToolCalls json.RawMessage `json:"tool_calls"`
}

type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Counting follows OpenAI's cookbook: 3 tokens of framing per message, 1
// more for a name, 3 to prime the reply. An image is counted as one low
// detail tile: the answer's usage, not this estimate, is what is billed.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensPerReply   = 3
	tokensPerImage   = 85
)

func (p *parsed) parseMessages() error {
	raw, ok := p.req.Fields["messages"]
	var msgs []message
	if !ok || json.Unmarshal(raw, &msgs) != nil || len(msgs) == 0 {
		return badParam("messages", "messages must be a non-empty array of messages")
	}
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
		if len(m.Content) > 0 && m.Content[0] == '"' {
			var s string
			if json.Unmarshal(m.Content, &s) != nil {
				return badParam("messages", "message content must be a string or an array of parts")
			}
			sb.WriteString(s)
		} else if len(m.Content) > 0 && m.Content[0] == '[' {
			var parts []contentPart
			if json.Unmarshal(m.Content, &parts) != nil {
				return badParam("messages", "message content must be a string or an array of parts")
			}
			for _, part := range parts {
				if part.Type == "image_url" || part.Type == "image" {
					extra += tokensPerImage
				}
				sb.WriteString(part.Text)
			}
		}
		if len(m.ToolCalls) > 0 {
			sb.Write(m.ToolCalls)
		}
		sb.WriteByte('\n')
	}
	if tools, ok := p.req.Fields["tools"]; ok {
		sb.Write(tools)
	}
	p.promptText, p.promptExtra = sb.String(), extra
	return nil
}

// parseInput reads a prompt or input given as a string, an array of
// strings, or token arrays.
func (p *parsed) parseInput(field string) error {
	raw, ok := p.req.Fields[field]
	if !ok {
		return badParam(field, "%s is required", field)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		p.promptText = s
		return nil
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil {
		p.promptText = strings.Join(ss, "\n")
		return nil
	}
	var toks []int
	if json.Unmarshal(raw, &toks) == nil {
		p.promptExtra = len(toks)
		return nil
	}
	var tokss [][]int
	if json.Unmarshal(raw, &tokss) == nil {
		for _, t := range tokss {
			p.promptExtra += len(t)
		}
		return nil
	}
	if field == "input" {
		// Moderation accepts multi-modal parts; count their text.
		var parts []contentPart
		if json.Unmarshal(raw, &parts) == nil {
			for _, part := range parts {
				p.promptText += part.Text
			}
			return nil
		}
	}
	return badParam(field, "%s must be a string or an array of strings or tokens", field)
}

func str(f map[string]json.RawMessage, k string, out *string) error {
	if v, ok := f[k]; ok && string(v) != "null" {
		return json.Unmarshal(v, out)
	}
	return nil
}

func boolean(f map[string]json.RawMessage, k string, out *bool) error {
	if v, ok := f[k]; ok && string(v) != "null" {
		return json.Unmarshal(v, out)
	}
	return nil
}

func integer(f map[string]json.RawMessage, k string, out *int) error {
	if v, ok := f[k]; ok && string(v) != "null" {
		return json.Unmarshal(v, out)
	}
	return nil
}
