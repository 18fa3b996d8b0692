// Package gemini is the Gemini API client front:
//
//	POST /v1beta/models/{model}:generateContent
//	POST /v1beta/models/{model}:streamGenerateContent[?alt=sse]
//	POST /v1beta/models/{model}:countTokens (count.go)
//
// A generateContent body is read into the neutral request (the model and
// whether to stream come from the URL, as Google's API has them), a whole
// answer is rendered as a GenerateContentResponse, and a stream is written
// as SSE frames of GenerateContentResponse chunks, the last carrying the
// finishReason and the call's usageMetadata. From a Gemini channel the
// body and the frames pass through untouched.
package gemini

import (
	"encoding/json"
	"net/http"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/gemini"
	"switchyard/relay/front"
)

// Front is the Gemini front. The zero value is ready.
type Front struct{}

// Format implements adaptor.Front.
func (Front) Format() adaptor.Format { return adaptor.FormatGemini }

// Prompt framing counted per turn and per image in the estimate; the
// answer's usage is what is billed.
const (
	tokensPerTurn  = 3
	tokensPerImage = 258 // Gemini counts an image up to 384px as 258 tokens
)

// Call is the model and method a Gemini URL names:
// /v1beta/models/{model}:{method}.
func Call(path string) (model, method string, ok bool) {
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return "", "", false
	}
	model, method, ok = strings.Cut(path[i+len("/models/"):], ":")
	if !ok || model == "" || strings.Contains(model, "/") {
		return "", "", false
	}
	return model, method, true
}

// Parse implements adaptor.Front. mode is ModeChat: generateContent is
// the only call this front serves.
func (Front) Parse(hr *http.Request, mode adaptor.Mode) (*adaptor.Request, error) {
	model, method, ok := Call(hr.URL.Path)
	if !ok {
		return nil, errs.NotFound("the URL must name a model and a method: /v1beta/models/{model}:generateContent")
	}
	var stream bool
	switch method {
	case "generateContent":
	case "streamGenerateContent":
		stream = true
	default:
		return nil, errs.NotFound("method %q is not served; use generateContent or streamGenerateContent", method)
	}
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	return ParseRequest(raw, model, stream)
}

// ParseRequest reads a generateContent body for model.
func ParseRequest(raw []byte, model string, stream bool) (*adaptor.Request, error) {
	var g wire.GenerateRequest
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, errs.BadRequest("Invalid JSON payload received: %v", err)
	}
	chat, err := wire.FromRequest(&g)
	if err != nil {
		return nil, errs.BadRequest("%v", err)
	}
	if chat.MaxTokens < 0 {
		return nil, errs.BadRequest("generationConfig.maxOutputTokens must not be negative").WithParam("generationConfig.maxOutputTokens")
	}
	chat.Stream = stream
	req := &adaptor.Request{
		Mode: adaptor.ModeChat, Format: adaptor.FormatGemini, Model: wire.ModelName(model), Stream: stream,
		MaxTokens: chat.MaxTokens, Raw: raw, Chat: chat,
	}
	var sb strings.Builder
	extra := 0
	add := func(parts []adaptor.Part) {
		for _, p := range parts {
			switch p.Type {
			case adaptor.PartImage:
				extra += tokensPerImage
			default:
				sb.WriteString(p.Text)
				sb.WriteByte('\n')
			}
		}
	}
	add(chat.System)
	for _, m := range chat.Messages {
		extra += tokensPerTurn
		add(m.Parts)
		for _, tc := range m.ToolCalls {
			sb.WriteString(tc.Name)
			sb.WriteString(tc.Args)
		}
	}
	for _, t := range chat.Tools {
		sb.WriteString(t.Name)
		sb.WriteString(t.Description)
		sb.Write(t.Parameters)
	}
	req.PromptText, req.PromptExtra = sb.String(), extra
	return req, nil
}

// Render implements adaptor.Front: a neutral answer as a
// GenerateContentResponse.
func (Front) Render(req *adaptor.Request, resp *adaptor.Response) ([]byte, error) {
	return json.Marshal(wire.ToResponse(resp, req.Model))
}
