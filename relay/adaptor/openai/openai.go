// Package openai speaks OpenAI's wire format upstream, to OpenAI itself and
// to every OpenAI-compatible vendor: those vendors are rows of
// common/channeltype (paths, auth header, balance style), not code.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"switchyard/common/channeltype"
	"switchyard/relay/adaptor"
)

// Adaptor is the OpenAI adaptor. The zero value is ready.
type Adaptor struct{}

// Paths are OpenAI's paths by mode.
var Paths = map[adaptor.Mode]string{
	adaptor.ModeChat:          "/v1/chat/completions",
	adaptor.ModeCompletions:   "/v1/completions",
	adaptor.ModeEmbeddings:    "/v1/embeddings",
	adaptor.ModeModerations:   "/v1/moderations",
	adaptor.ModeImages:        "/v1/images/generations",
	adaptor.ModeImageEdit:     "/v1/images/edits",
	adaptor.ModeSpeech:        "/v1/audio/speech",
	adaptor.ModeTranscription: "/v1/audio/transcriptions",
	adaptor.ModeTranslation:   "/v1/audio/translations",
	adaptor.ModeRerank:        "/v1/rerank",
}

// URL joins a channel's base URL and path. A base URL that already ends in
// /v1 (a common way to write one) is not doubled.
func URL(base, path string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/v1") && strings.HasPrefix(path, "/v1/") {
		path = path[len("/v1"):]
	}
	return base + path
}

// VendorURL is the URL of OpenAI path p (a /v1/... path) on up, with the
// vendor's path differences applied.
func VendorURL(up *adaptor.Upstream, p string) string {
	v := channeltype.Expand(up.Vendor, up.Config)
	if v.ChatPath != "" && p == Paths[adaptor.ModeChat] {
		return strings.TrimRight(up.BaseURL, "/") + v.ChatPath
	}
	if v.RerankPath != "" && p == Paths[adaptor.ModeRerank] {
		return strings.TrimRight(up.BaseURL, "/") + v.RerankPath
	}
	if v.PathPrefix != "" {
		base := strings.TrimRight(up.BaseURL, "/")
		rest := strings.TrimPrefix(p, "/v1")
		if strings.HasSuffix(base, v.PathPrefix) {
			return base + rest
		}
		return base + v.PathPrefix + rest
	}
	return URL(up.BaseURL, p)
}

// Authorize sets the key on r the way the vendor wants it.
func Authorize(r *http.Request, v channeltype.Vendor, key string) {
	if v.AuthHeader != "" {
		r.Header.Set(v.AuthHeader, v.AuthPrefix+key)
		return
	}
	r.Header.Set("Authorization", "Bearer "+key)
}

// Format implements adaptor.Adaptor.
func (Adaptor) Format() adaptor.Format { return adaptor.FormatOpenAI }

var includeUsage = []byte(`{"include_usage":true}`)

// NewRequest implements adaptor.Adaptor.
func (Adaptor) NewRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	if req.Format == adaptor.FormatResponses {
		return newResponsesRequest(ctx, up, req)
	}
	path, ok := Paths[req.Mode]
	if !ok {
		return nil, adaptor.Unsupported("OpenAI", req.Mode)
	}
	body, contentType, err := Body(req)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, VendorURL(up, path), body)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", contentType)
	Authorize(r, up.Vendor, up.Key)
	if req.Stream {
		r.Header.Set("Accept", "text/event-stream")
	}
	return r, nil
}

// Body is the OpenAI request body for req and its content type: the
// client's bytes with the model replaced when the client speaks OpenAI,
// else built from the neutral request. Azure sends the same bodies.
func Body(req *adaptor.Request) (io.Reader, string, error) {
	if req.Mode.Multipart() {
		if req.Form == nil {
			return nil, "", adaptor.Unsupported("OpenAI", req.Mode)
		}
		buf, ct, err := rebuildForm(req.Form, req.UpstreamModel)
		return buf, ct, err
	}
	if req.Format == adaptor.FormatOpenAI && req.Raw != nil {
		b, err := PassThrough(req)
		if err != nil {
			return nil, "", err
		}
		return bytes.NewReader(b), "application/json", nil
	}
	b, err := convert(req)
	if err != nil {
		return nil, "", err
	}
	return bytes.NewReader(b), "application/json", nil
}

// PassThrough is the client's body with only the model name replaced and,
// on chat and completion streams, the usage chunk asked for so billing
// uses the upstream's figure (the front drops the chunk again when the
// client did not ask for it).
func PassThrough(req *adaptor.Request) ([]byte, error) {
	b := req.Raw
	var err error
	if req.UpstreamModel != req.Model {
		m, _ := json.Marshal(req.UpstreamModel)
		if b, err = adaptor.SetField(b, "model", m); err != nil {
			return nil, err
		}
	}
	if req.Stream && !req.IncludeUsage && (req.Mode == adaptor.ModeChat || req.Mode == adaptor.ModeCompletions) {
		so := includeUsage
		if old, ok := adaptor.Field(req.Raw, "stream_options"); ok {
			// Keep the client's other stream options, as written.
			if set, err := adaptor.SetField(old, "include_usage", []byte("true")); err == nil {
				so = set
			}
		}
		if b, err = adaptor.SetField(b, "stream_options", so); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// convert builds the body of a request whose client spoke another format.
func convert(req *adaptor.Request) ([]byte, error) {
	switch req.Mode {
	case adaptor.ModeChat:
		if req.Chat == nil {
			return nil, adaptor.Unsupported("OpenAI", req.Mode)
		}
		return json.Marshal(ChatRequestOf(req))
	case adaptor.ModeEmbeddings:
		return json.Marshal(EmbeddingRequest{Model: req.UpstreamModel, Input: req.Input})
	}
	return nil, adaptor.Unsupported("OpenAI", req.Mode)
}

// ChatRequestOf is the chat completions request for a neutral chat call.
func ChatRequestOf(req *adaptor.Request) *ChatRequest {
	c := req.Chat
	out := &ChatRequest{
		Model: req.UpstreamModel, MaxTokens: c.MaxTokens, Temperature: c.Temperature, TopP: c.TopP, Stop: c.Stop,
		User: c.User, ResponseFormat: c.ResponseFormat, ReasoningEffort: c.ReasoningEffort,
	}
	if req.Stream {
		out.Stream = true
		out.StreamOptions = &StreamOptions{IncludeUsage: true}
	}
	if len(c.System) > 0 {
		out.Messages = append(out.Messages, ChatMessage{Role: "system", Content: textContent(c.System)})
	}
	for _, m := range c.Messages {
		out.Messages = append(out.Messages, messageOf(m))
	}
	for _, t := range c.Tools {
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, Tool{Type: "function", Function: FunctionDef{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	if tc := c.ToolChoice; tc != nil {
		switch tc.Mode {
		case adaptor.ToolNamed:
			out.ToolChoice = map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}}
		default:
			out.ToolChoice = tc.Mode
		}
	}
	return out
}

func marshalString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// textContent joins text parts into one string content.
func textContent(parts []adaptor.Part) json.RawMessage {
	var sb strings.Builder
	for i, p := range parts {
		if p.Type != adaptor.PartText {
			continue
		}
		if i > 0 && sb.Len() > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(p.Text)
	}
	return marshalString(sb.String())
}

func messageOf(m adaptor.Message) ChatMessage {
	out := ChatMessage{Role: m.Role, Name: m.Name, ToolCallID: m.ToolCallID}
	if m.Role == adaptor.RoleTool {
		text := string(textContent(m.Parts))
		if m.IsError {
			var s string
			_ = json.Unmarshal([]byte(text), &s)
			text = string(marshalString("Error: " + s))
		}
		out.Content = json.RawMessage(text)
		return out
	}
	for _, tc := range m.ToolCalls {
		args := tc.Args
		if args == "" {
			args = "{}"
		}
		out.ToolCalls = append(out.ToolCalls, ToolCall{ID: tc.ID, Type: "function", Function: Function{Name: tc.Name, Arguments: args}})
	}
	onlyText := true
	for _, p := range m.Parts {
		if p.Type == adaptor.PartImage {
			onlyText = false
		}
	}
	switch {
	case len(m.Parts) == 0:
		if len(out.ToolCalls) == 0 {
			out.Content = marshalString("")
		}
	case onlyText || m.Role == adaptor.RoleAssistant:
		// Assistant content is text only in OpenAI's format; thinking
		// is not sent back to another provider.
		out.Content = textContent(m.Parts)
	default:
		var parts []ContentPart
		for _, p := range m.Parts {
			switch p.Type {
			case adaptor.PartText:
				parts = append(parts, ContentPart{Type: "text", Text: p.Text})
			case adaptor.PartImage:
				url := p.ImageURL
				if url == "" {
					url = "data:" + p.MediaType + ";base64," + p.Data
				}
				parts = append(parts, ContentPart{Type: "image_url", ImageURL: &ImageURL{URL: url}})
			}
		}
		out.Content, _ = json.Marshal(parts)
	}
	return out
}

// rebuildForm writes form again with model replaced; file parts are read
// from the form's stored files, so a retry can rebuild it.
func rebuildForm(form *multipart.Form, upstreamModel string) (*bytes.Buffer, string, error) {
	buf := &bytes.Buffer{}
	mw := multipart.NewWriter(buf)
	for k, vs := range form.Value {
		for _, v := range vs {
			if k == "model" {
				v = upstreamModel
			}
			if err := mw.WriteField(k, v); err != nil {
				return nil, "", err
			}
		}
	}
	for k, fhs := range form.File {
		for _, fh := range fhs {
			// The part keeps the client's content type: OpenAI refuses an
			// image sent as application/octet-stream.
			h := textproto.MIMEHeader{"Content-Disposition": {fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteField(k), quoteField(fh.Filename))}}
			h.Set("Content-Type", fh.Header.Get("Content-Type"))
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", "application/octet-stream")
			}
			part, err := mw.CreatePart(h)
			if err != nil {
				return nil, "", err
			}
			f, err := fh.Open()
			if err != nil {
				return nil, "", err
			}
			_, err = io.Copy(part, f)
			f.Close()
			if err != nil {
				return nil, "", err
			}
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf, mw.FormDataContentType(), nil
}

// quoteField escapes a form field or file name for a Content-Disposition
// header, as mime/multipart does for the parts it writes.
var quoteField = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace
