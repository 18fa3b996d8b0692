// Package openai speaks OpenAI's wire format, to OpenAI itself and to any
// OpenAI-compatible base URL: those vendors are configuration, not code.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

// Adaptor is the OpenAI adaptor. The zero value is ready.
type Adaptor struct{}

var paths = map[adaptor.Mode]string{
	adaptor.ModeChat:          "/v1/chat/completions",
	adaptor.ModeCompletions:   "/v1/completions",
	adaptor.ModeEmbeddings:    "/v1/embeddings",
	adaptor.ModeModerations:   "/v1/moderations",
	adaptor.ModeImages:        "/v1/images/generations",
	adaptor.ModeSpeech:        "/v1/audio/speech",
	adaptor.ModeTranscription: "/v1/audio/transcriptions",
	adaptor.ModeTranslation:   "/v1/audio/translations",
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

var includeUsage = json.RawMessage(`{"include_usage":true}`)

// NewRequest implements adaptor.Adaptor.
func (Adaptor) NewRequest(ctx context.Context, ch *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	path, ok := paths[req.Mode]
	if !ok {
		return nil, fmt.Errorf("openai adaptor: no route for %s", req.Mode)
	}
	var body io.Reader
	contentType := "application/json"
	if req.Mode.Multipart() {
		buf, ct, err := rebuildForm(req.Form, req.UpstreamModel)
		if err != nil {
			return nil, err
		}
		body, contentType = buf, ct
	} else if req.Raw != nil && req.UpstreamModel == req.Model && !(req.Stream && (req.Mode == adaptor.ModeChat || req.Mode == adaptor.ModeCompletions)) {
		// Nothing to change: the client's bytes go upstream as they came.
		body = bytes.NewReader(req.Raw)
	} else {
		fields := make(map[string]json.RawMessage, len(req.Fields)+1)
		for k, v := range req.Fields {
			fields[k] = v
		}
		m, _ := json.Marshal(req.UpstreamModel)
		fields["model"] = m
		if req.Stream && (req.Mode == adaptor.ModeChat || req.Mode == adaptor.ModeCompletions) {
			// Ask for the usage chunk so billing uses the upstream's figure;
			// the relay drops it again when the client did not ask.
			fields["stream_options"] = includeUsage
		}
		b, err := json.Marshal(fields)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, URL(ch.BaseURL, path), body)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Authorization", "Bearer "+ch.Key)
	if req.Stream {
		r.Header.Set("Accept", "text/event-stream")
	}
	return r, nil
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
			part, err := mw.CreateFormFile(k, fh.Filename)
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

type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Param   any    `json:"param"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// ParseError implements adaptor.Adaptor.
func (Adaptor) ParseError(status int, body []byte) *adaptor.UpstreamError {
	e := &adaptor.UpstreamError{Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Message != "" {
		e.Message, e.Type = eb.Error.Message, eb.Error.Type
		e.Code = stringOf(eb.Error.Code)
		e.Param = stringOf(eb.Error.Param)
		return e
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e.Message = msg
	return e
}

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	return ""
}

// answer holds the parts of chat, completion and embedding answers that
// billing reads.
type answer struct {
	Choices []struct {
		Text    string `json:"text"`
		Message *struct {
			Content          any        `json:"content"`
			ReasoningContent string     `json:"reasoning_content"`
			ToolCalls        []toolCall `json:"tool_calls"`
		} `json:"message"`
		Delta *struct {
			Content          string     `json:"content"`
			ReasoningContent string     `json:"reasoning_content"`
			ToolCalls        []toolCall `json:"tool_calls"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *adaptor.Usage `json:"usage"`
}

type toolCall struct {
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// ParseResult implements adaptor.Adaptor.
func (Adaptor) ParseResult(req *adaptor.Request, body []byte) adaptor.Result {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return adaptor.Result{}
	}
	var sb strings.Builder
	for _, c := range a.Choices {
		sb.WriteString(c.Text)
		if m := c.Message; m != nil {
			if s, ok := m.Content.(string); ok {
				sb.WriteString(s)
			}
			sb.WriteString(m.ReasoningContent)
			for _, tc := range m.ToolCalls {
				sb.WriteString(tc.Function.Name)
				sb.WriteString(tc.Function.Arguments)
			}
		}
	}
	res := adaptor.Result{Text: sb.String()}
	if a.Usage != nil && (a.Usage.PromptTokens > 0 || a.Usage.CompletionTokens > 0 || a.Usage.TotalTokens > 0) {
		res.Usage = a.Usage
	}
	return res
}

// ParseChunk implements adaptor.Adaptor. Events pass through byte for
// byte; only the usage chunk the relay asked for on the client's behalf is
// dropped.
func (Adaptor) ParseChunk(req *adaptor.Request, ev sse.Event) (adaptor.Chunk, error) {
	var a answer
	if err := json.Unmarshal(ev.Data, &a); err != nil {
		// Not ours to judge: pass unknown events on as they came.
		return adaptor.Chunk{Forward: ev.Data}, nil
	}
	ch := adaptor.Chunk{Forward: ev.Data}
	var sb strings.Builder
	for _, c := range a.Choices {
		sb.WriteString(c.Text)
		if d := c.Delta; d != nil {
			sb.WriteString(d.Content)
			sb.WriteString(d.ReasoningContent)
			for _, tc := range d.ToolCalls {
				sb.WriteString(tc.Function.Name)
				sb.WriteString(tc.Function.Arguments)
			}
		}
	}
	ch.Text = sb.String()
	if a.Usage != nil {
		ch.Usage = a.Usage
		if len(a.Choices) == 0 && !req.IncludeUsage {
			ch.Forward = nil
		}
	}
	return ch, nil
}
