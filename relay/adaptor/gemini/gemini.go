// Package gemini speaks the Gemini API (channel type 24): generateContent
// and streamGenerateContent?alt=sse for chat, batchEmbedContents for
// embeddings, countTokens for counting, the key in x-goog-api-key. It holds the wire structs and the
// conversions both ways (neutral chat → Gemini for this adaptor, Gemini →
// neutral for the Gemini front), the stream decoder and Google's error
// table; the Vertex AI adaptor reuses all of them for publishers/google.
package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
)

// DefaultBaseURL is the Gemini API's endpoint.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// Adaptor is the Gemini API upstream.
type Adaptor struct{}

// Format is Gemini's body format: a Gemini client's body passes through.
func (Adaptor) Format() adaptor.Format { return adaptor.FormatGemini }

// Serves reports whether a Gemini-format upstream can answer req; the
// error says why not (ClassUnsupported, before anything goes upstream, so
// the engine tries another channel).
func Serves(req *adaptor.Request, native bool) error {
	switch req.Mode {
	case adaptor.ModeChat, adaptor.ModeCompletions:
		if native || req.Chat != nil {
			return nil
		}
		return adaptor.Unsupported("Gemini", req.Mode)
	case adaptor.ModeEmbeddings:
		if native || len(req.Input) > 0 {
			return nil
		}
	}
	return adaptor.Unsupported("Gemini", req.Mode)
}

// Method is the generateContent method a chat call uses, with its query.
func Method(req *adaptor.Request) string {
	if req.Stream {
		return "streamGenerateContent?alt=sse"
	}
	return "generateContent"
}

// ChatBody is the generateContent body for a chat call: the client's own
// bytes when it speaks Gemini (the model is in the URL, so nothing in the
// body changes), else the conversion of the neutral chat.
func ChatBody(req *adaptor.Request, native bool) ([]byte, error) {
	if native {
		return req.Raw, nil
	}
	g, err := ToRequest(req.Chat)
	if err != nil {
		return nil, &adaptor.UpstreamError{Status: http.StatusBadRequest, Class: adaptor.ClassRequest, Type: "invalid_request_error", Message: err.Error()}
	}
	if req.Format == adaptor.FormatOpenAI {
		openAISampling(req.Fields, g)
	}
	return json.Marshal(g)
}

// ModelName strips the "models/" prefix a Gemini client may send.
func ModelName(m string) string { return strings.TrimPrefix(m, "models/") }

// NewRequest builds the upstream call.
func (a Adaptor) NewRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	native := adaptor.Native(a, req.Format)
	if err := Serves(req, native); err != nil {
		return nil, err
	}
	base := apiBase(up)
	model := ModelName(req.UpstreamModel)
	var body []byte
	var method string
	var err error
	if req.Mode == adaptor.ModeEmbeddings {
		method = "batchEmbedContents"
		body, err = embedBody(req, model, native)
	} else {
		method = Method(req)
		body, err = ChatBody(req, native)
	}
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1beta/models/"+model+":"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("x-goog-api-key", up.Key)
	return hr, nil
}

// apiBase is the channel's API root without a trailing /v1beta.
func apiBase(up *adaptor.Upstream) string {
	base := strings.TrimRight(up.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return strings.TrimSuffix(base, "/v1beta")
}

// embedBody is batchEmbedContents' body: one request per input text;
// OpenAI's dimensions becomes outputDimensionality.
func embedBody(req *adaptor.Request, model string, native bool) ([]byte, error) {
	if native {
		return req.Raw, nil
	}
	var dims int
	if raw, ok := req.Fields["dimensions"]; ok {
		if err := json.Unmarshal(raw, &dims); err != nil || dims < 0 {
			return nil, &adaptor.UpstreamError{Status: http.StatusBadRequest, Class: adaptor.ClassRequest, Type: "invalid_request_error", Param: "dimensions", Message: "dimensions must be a positive integer"}
		}
	}
	b := BatchEmbedRequest{Requests: make([]EmbedRequest, len(req.Input))}
	for i, in := range req.Input {
		b.Requests[i] = EmbedRequest{Model: "models/" + model, Content: Content{Parts: []Part{{Text: in}}}, OutputDimensionality: dims}
	}
	return json.Marshal(b)
}

// ParseError classifies a non-2xx reply through Google's error table.
func (Adaptor) ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	return ParseError(status, h, body)
}

// ParseResponse decodes a whole answer.
func (Adaptor) ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	return ParseResponse(req, body)
}

// ParseResponse decodes a whole generateContent or batchEmbedContents
// answer (also Vertex AI's).
func ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	if req.Mode == adaptor.ModeEmbeddings {
		var e BatchEmbedResponse
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("gemini embeddings answer: %w", err)
		}
		if len(e.Embeddings) != len(req.Input) && len(req.Input) > 0 {
			return nil, fmt.Errorf("gemini answered %d embeddings for %d inputs", len(e.Embeddings), len(req.Input))
		}
		r := &adaptor.Response{Model: req.Model, Embeddings: make([][]float64, len(e.Embeddings))}
		for i, v := range e.Embeddings {
			r.Embeddings[i] = v.Values
		}
		return r, nil
	}
	var g GenerateResponse
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, fmt.Errorf("gemini answer: %w", err)
	}
	return FromResponse(&g)
}

// NewStream returns the decoder of one call's stream.
func (Adaptor) NewStream(*adaptor.Request) adaptor.StreamDecoder { return NewDecoder() }

var _ adaptor.StreamDecoder = (*Decoder)(nil)

// openAISampling carries OpenAI's sampling fields that the neutral chat
// has no name for (seed, presence and frequency penalties) into
// generationConfig, where Gemini has the same knobs.
func openAISampling(fields map[string]json.RawMessage, g *GenerateRequest) {
	var seed *int64
	var presence, frequency *float64
	_ = json.Unmarshal(fields["seed"], &seed)
	_ = json.Unmarshal(fields["presence_penalty"], &presence)
	_ = json.Unmarshal(fields["frequency_penalty"], &frequency)
	if seed == nil && presence == nil && frequency == nil {
		return
	}
	if g.GenerationConfig == nil {
		g.GenerationConfig = &GenerationConfig{}
	}
	g.GenerationConfig.Seed, g.GenerationConfig.PresencePenalty, g.GenerationConfig.FrequencyPenalty = seed, presence, frequency
}
